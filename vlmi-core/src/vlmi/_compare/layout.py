"""Where ``vlmi compare`` keeps each pair's files, and what a finished pair left.

``OUTPUT/<model key>/<dataset>.jsonl`` holds the predictions, ``.log`` the
``vlmi run`` log beside them, ``.status.json`` how the last run of the pair
ended and ``_score.json`` its scores. ``OUTPUT/compare.json`` is the plan as
last run, so ``vlmi compare OUTPUT`` can rebuild the leaderboard.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .plan import DatasetEntry, ModelEntry, slug

MANIFEST = "compare.json"


@dataclass(frozen=True)
class Pair:
    """One (model, dataset) cell of the comparison, and its files."""

    model: ModelEntry
    dataset: DatasetEntry
    folder: Path

    @property
    def stem(self) -> Path:
        return self.folder / self.model.key / slug(self.dataset.name)

    @property
    def predictions(self) -> Path:
        return self.stem.with_suffix(".jsonl")

    @property
    def log(self) -> Path:
        return self.stem.with_suffix(".log")

    @property
    def status_file(self) -> Path:
        return self.stem.with_suffix(".status.json")

    @property
    def scores_file(self) -> Path:
        return self.stem.with_name(self.stem.name + "_score.json")

    @property
    def name(self) -> str:
        return f"{self.model.label} / {self.dataset.name}"

    def status(self) -> dict[str, Any] | None:
        """How the pair's last run ended (``None``: never ended)."""
        status = read_json(self.status_file)
        return status if isinstance(status, dict) else None

    def finished(self) -> bool:
        """The pair ran to its end on this very dataset file; nothing is left to do."""
        status = self.status()
        return (
            status is not None
            and status.get("state") == "done"
            and status.get("dataset") == dataset_stamp(self.dataset.path)
            and self.predictions.is_file()
        )


def dataset_stamp(path: Path) -> dict[str, Any]:
    """What tells a changed dataset file from the one a pair answered."""
    stat = path.stat()
    return {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def model_file(folder: Path, model: ModelEntry) -> Path:
    """How the model's environment resolved it when its pairs last started
    (``vlmi models --resolve --json``); the records say what answered each pair."""
    return folder / model.key / "model.json"


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or ``None`` when it is missing or cut off."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` whole or not at all (a crash leaves the old file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)


__all__ = ["MANIFEST", "Pair", "dataset_stamp", "model_file", "read_json", "write_json"]
