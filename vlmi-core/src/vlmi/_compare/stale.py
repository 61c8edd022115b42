"""Earlier results of a pair that belong to another version of its dataset.

A pair's predictions and scores belong to the dataset identity its status
records (:func:`.layout.dataset_identity`). When the dataset's name, type or
content differs now, or nothing records what they answered, they are never
reused: ``vlmi compare`` moves them (they are its own files) to
``OUTPUT/<model key>/replaced/<dataset>-<time>/`` and runs the pair afresh.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .layout import Pair, write_json


def changes(before: Any, now: dict[str, Any]) -> list[str]:
    """What differs between the identity results belong to and the dataset's now."""
    if not isinstance(before, dict):
        return ["nothing records which dataset they answer"]
    found = []
    if before.get("name") != now["name"]:
        found.append(f"the dataset's name changed ({before.get('name')!r} -> {now['name']!r})")
    if before.get("type") != now["type"]:
        old, new = (t or "from the name" for t in (before.get("type"), now["type"]))
        found.append(f"the dataset's type changed ({old} -> {new})")
    if before.get("sha256") != now["sha256"]:
        found.append("the dataset's content changed")
    return found


def stale_because(pair: Pair, now: dict[str, Any]) -> list[str]:
    """Why the pair's earlier answers or scores do not belong to the dataset now (``[]``: they
    do, or there are none)."""
    if not (pair.predictions.exists() or pair.scores_file.exists()):
        return []
    status = pair.status() or {}
    if "identity" not in status and _same_file_as_0_3_saw(pair, status):
        # vlmi-core 0.3 recorded the file's path, size and modification time, not its
        # identity: the same file answered, so its results are kept and their identity
        # recorded now (the type was not recorded then: the plan's type now is taken)
        write_json(pair.status_file, {**status, "identity": now})
        return []
    return changes(status.get("identity"), now)


def _same_file_as_0_3_saw(pair: Pair, status: dict[str, Any]) -> bool:
    """Whether a 0.3 status's ``dataset`` stamp (path, size, mtime) is the dataset file now."""
    stamp = status.get("dataset")
    if not isinstance(stamp, dict):
        return False
    stat = pair.dataset.path.stat()
    return stamp == {
        "path": str(pair.dataset.path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }


def set_aside(pair: Pair) -> Path:
    """Move the pair's files to a new folder under ``replaced/``; returns that folder."""
    base = pair.stem.parent / "replaced" / f"{pair.stem.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    target, n = base, 1
    while target.exists():
        target, n = base.with_name(f"{base.name}-{n}"), n + 1
    target.mkdir(parents=True)
    for path in pair.outputs():
        os.replace(path, target / path.name)
    return target


def replace_stale(pair: Pair) -> str | None:
    """Set aside earlier results that do not belong to the dataset now; what was done, or
    ``None`` when nothing was (the note is also kept in the pair's new status)."""
    try:
        why = stale_because(pair, pair.identity())
    except OSError:  # an unreadable dataset: reported by the check, the pair does not run
        return None
    if not why:
        return None
    moved = set_aside(pair)
    note = f"earlier results moved to {moved} ({'; '.join(why)})"
    write_json(pair.status_file, {"state": "queued", "replaced": note})
    return note


__all__ = ["changes", "replace_stale", "set_aside", "stale_because"]
