"""The ``config.json`` of a hub id or a local folder: what plugins claim checkpoints by.

Only that one file is read: a local file, or one download through the hub's own
client (the one ``vlmi download`` uses) into the hub's cache, so its cache, mirror
and offline settings apply and the weights download that follows finds it there;
never the weights. :func:`is_hub_id` is the one test of what reads as a hub id.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from vlmi.errors import MissingDependencyError, VlmiError

from ._options import WeightsOptions

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def is_hub_id(name: str) -> bool:
    """Whether ``name`` reads as a hub id (``owner/name``) rather than a path.

    A path such as ``./x/y`` or ``~/x`` never does, nor an ``owner/name`` that
    exists as a file or folder here.
    """
    return bool(_HUB_ID.match(name)) and not Path(name).exists()


def hub_config(repo: str, hub: str | None = None, revision: str | None = None) -> Path:
    """``repo``'s ``config.json`` in the hub's cache, fetched there first if needed.

    :param hub: ``"huggingface"`` or ``"modelscope"`` (default: ``$VLMI_HUB`` or Hugging Face).
    :raises WeightsNotFoundError: no such repository, revision or file, or no network and
        nothing cached; the message says which.
    :raises MissingDependencyError: the hub's client is not installed.
    """
    from ._download.fetching import client

    return Path(client(WeightsOptions(hub=hub).hub or "huggingface").fetch_config(repo, revision))


def checkpoint_config(
    name: str, hub: str | None = None, revision: str | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """``(config, problem)`` for a folder or hub id; ``(None, None)`` for other names.

    ``problem`` says why a folder's or hub id's ``config.json`` could not be read.

    :param hub: where a hub id's file comes from (default: ``$VLMI_HUB`` or Hugging Face).
    :param revision: the hub revision (branch, tag or commit) to read it at.
    """
    folder = Path(name).expanduser()
    if folder.is_dir():
        return read_config(folder / "config.json", f"the folder {name}")
    if not is_hub_id(name):
        return None, None
    hub = WeightsOptions(hub=hub).hub
    try:
        return read_config(hub_config(name, hub, revision), f"{name} on {hub}")
    except MissingDependencyError as exc:
        return None, f"reading {name}'s config.json needs a hub client: {exc}"
    except VlmiError as exc:  # no network, no such repository, gated, offline cache miss
        reason = str(exc).splitlines()[0][:300]
        return None, f"{name}'s config.json could not be fetched from {hub} ({reason})"


def read_config(path: Path, where: str) -> tuple[dict[str, Any] | None, str | None]:
    """``(config, None)`` from a ``config.json`` file, or ``(None, why not)``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"{where} has no readable config.json ({type(exc).__name__})"
    if not isinstance(data, dict):
        return None, f"{where}'s config.json is not a JSON object"
    return data, None


__all__ = ["checkpoint_config", "hub_config", "is_hub_id", "read_config"]
