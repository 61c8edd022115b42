"""Where ``vlmi compare`` keeps each pair's files, and what a finished pair left.

``OUTPUT/<model key>/<dataset>.jsonl`` holds the predictions, ``.log`` the
``vlmi run`` log beside them, ``.status.json`` how the last run of the pair
ended and ``_score.json`` its scores (with a judge, ``_score_judge_cache.jsonl``
and ``_score_judge.tsv``: its answers and every judged row). ``OUTPUT/compare.json`` is the plan as
last run, so ``vlmi compare OUTPUT`` can rebuild the leaderboard.

A pair's results belong to one version of its dataset: its *identity* is the
dataset's name, type and the SHA-256 of the file's content, recorded in the
status. ``OUTPUT/dataset_hashes.json`` caches each file's hash by its size and
modification time, so a file is read again only when one of them changed.
Results of another identity are moved to ``OUTPUT/<model key>/replaced/``
(:mod:`.stale`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlmi.errors import OutputFileError

from .plan import DatasetEntry, ModelEntry, slug

MANIFEST = "compare.json"
#: the content hash of each dataset file, by its size and modification time
HASHES = "dataset_hashes.json"


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
    def judge_files(self) -> tuple[Path, Path]:
        """The judge's answer cache and audit table, beside the scores (``vlmi score``'s names)."""
        stem = self.stem.name + "_score_judge"
        return self.stem.with_name(stem + "_cache.jsonl"), self.stem.with_name(stem + ".tsv")

    @property
    def name(self) -> str:
        return f"{self.model.label} / {self.dataset.name}"

    def status(self) -> dict[str, Any] | None:
        """How the pair's last run ended (``None``: never ended)."""
        status = read_json(self.status_file)
        return status if isinstance(status, dict) else None

    def identity(self) -> dict[str, Any]:
        """The dataset's identity now (name, type, content hash): what results must match."""
        return dataset_identity(self.dataset, self.folder)

    def finished(self) -> bool:
        """The pair ran to its end on this very dataset; nothing is left to do."""
        status = self.status()
        if status is None or status.get("state") != "done" or not self.predictions.is_file():
            return False
        try:
            return bool(status.get("identity") == self.identity())
        except OSError:  # the dataset cannot be read now
            return False

    def outputs(self) -> list[Path]:
        """The files vlmi wrote for this pair that exist now."""
        files = (self.predictions, self.log, self.status_file, self.scores_file, *self.judge_files)
        return [path for path in files if path.exists()]


def dataset_identity(dataset: DatasetEntry, folder: Path) -> dict[str, Any]:
    """What a pair's results belong to: the dataset's name, type and content."""
    return {
        "name": dataset.name,
        "type": dataset.type,
        "sha256": content_hash(dataset.path, folder),
    }


def content_hash(path: Path, folder: Path) -> str:
    """The SHA-256 of ``path``, read again only when its size or modification time changed.

    The hashes are cached in ``folder/dataset_hashes.json`` by path.
    """
    stat = path.stat()
    cache_file = folder / HASHES
    cache = read_json(cache_file)
    cache = cache if isinstance(cache, dict) else {}
    seen = cache.get(str(path))
    if (
        isinstance(seen, dict)
        and seen.get("size") == stat.st_size
        and seen.get("mtime_ns") == stat.st_mtime_ns
        and isinstance(seen.get("sha256"), str)
    ):
        return str(seen["sha256"])
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    found = digest.hexdigest()
    cache[str(path)] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": found}
    try:
        write_json(cache_file, cache)
    except OSError:  # a read-only results folder: hash again next time
        pass
    return found


def refuse_foreign_folder(folder: Path) -> None:
    """Refuse an ``output`` that is a file, or a folder holding files but no ``vlmi compare``
    results (no ``compare.json``): the leaderboard and the pairs' files would go among, and
    over, files vlmi did not write (``output = "."`` beside the plan and datasets)."""
    if folder.exists() and not folder.is_dir():
        raise OutputFileError(f"the plan's output {folder} is a file; name a folder")
    if folder.is_dir() and not (folder / MANIFEST).exists() and any(folder.iterdir()):
        raise OutputFileError(
            f"the plan's output folder {folder} holds files but no `vlmi compare` results "
            f'(no {MANIFEST}); set output to a new or empty folder (e.g. output = "results")'
        )


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
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")  # one per writing process
    partial.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)


__all__ = [
    "HASHES",
    "MANIFEST",
    "Pair",
    "content_hash",
    "dataset_identity",
    "model_file",
    "read_json",
    "refuse_foreign_folder",
    "write_json",
]
