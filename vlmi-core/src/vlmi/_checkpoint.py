"""The ``config.json`` of a hub id or a local folder: what plugins claim checkpoints by.

Only that one file is read (a local file, or one download through the hub's own
client, the one ``vlmi download`` uses, so its cache, mirror and offline settings
apply); never the weights.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from vlmi.errors import MissingDependencyError, VlmiError

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def is_hub_id(name: str) -> bool:
    """True for ``owner/name`` (not a path such as ``./x/y``)."""
    return bool(_REPO_ID.match(name)) and not name.startswith((".", "~"))


def checkpoint_config(
    name: str, hub: str | None = None, revision: str | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """``(config, problem)`` for a folder or hub id; ``(None, None)`` for other names.

    ``problem`` says why a folder's or hub id's config could not be read.
    """
    folder = Path(name).expanduser()
    if folder.is_dir():
        return _read(folder / "config.json", f"the folder {name}")
    if not is_hub_id(name):
        return None, None
    hub = hub or os.environ.get("VLMI_HUB") or "huggingface"
    from ._download.fetching import client

    try:
        with tempfile.TemporaryDirectory(prefix="vlmi-config-") as scratch:
            path = client(hub).fetch_config(name, revision, Path(scratch))
            return _read(path, f"{name} on {hub}")
    except MissingDependencyError as exc:
        return None, f"reading {name}'s config.json needs a hub client: {exc}"
    except VlmiError as exc:  # no network, no such repository, gated, offline cache miss
        reason = str(exc).splitlines()[0][:300]
        return None, f"{name}'s config.json could not be fetched from {hub} ({reason})"


def _read(path: Path, where: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"{where} has no readable config.json ({type(exc).__name__})"
    if not isinstance(data, dict):
        return None, f"{where}'s config.json is not a JSON object"
    return data, None


__all__ = ["checkpoint_config", "is_hub_id"]
