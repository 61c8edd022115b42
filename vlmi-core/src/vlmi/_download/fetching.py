"""Fetch a repository's needed files through its hub's client, and say what was fetched."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from vlmi.errors import WeightsNotFoundError

from .files import DEFAULT_FILES, FALLBACK_WEIGHTS, choose, matches


def client(hub: str) -> ModuleType:
    """The module that talks to ``hub``."""
    if hub == "modelscope":
        from . import modelscope

        return modelscope
    from . import huggingface

    return huggingface


@dataclass(frozen=True)
class Fetched:
    """Where the weights are, and which files of the repository are there."""

    folder: Path
    files: dict[str, int]

    @property
    def total(self) -> int:
        """Bytes of all those files."""
        return sum(self.files.values())


def list_selected(
    hub: str, repo: str, revision: str | None, patterns: tuple[str, ...]
) -> tuple[tuple[str, ...], dict[str, int]]:
    """The globs to fetch with and the files they select (path -> bytes), from the hub's listing
    (what ``vlmi download --check`` shows; a download leaves the listing to the hub's client)."""
    return choose(client(hub).list_files(repo, revision), patterns)


def check_writable(folder: Path) -> None:
    """Refuse early (before any network call) a target folder that cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise WeightsNotFoundError(
            f"cannot write the weights to {folder} ({type(exc).__name__}: {exc.strerror or exc}); "
            "pick a folder you can write (--local-dir DIR), or move the hub cache "
            "(HF_HOME / HF_HUB_CACHE for Hugging Face, MODELSCOPE_CACHE for ModelScope)"
        ) from exc


def fetch(
    hub: str,
    repo: str,
    revision: str | None,
    patterns: tuple[str, ...],
    *,
    local_dir: Path | None = None,
    progress: bool = True,
) -> Fetched:
    """Download (or find in the cache) the files of ``repo`` that match ``patterns``.

    The hub's client lists the repository, picks the files and falls back to
    its cache. With the default globs, a repository that turns out to have no
    ``.safetensors`` weights gets its ``.bin`` weights in a second call.
    """
    hub_client = client(hub)
    folder = Path(hub_client.fetch(repo, revision, patterns, local_dir, progress))
    files = _present(folder, patterns)
    if patterns == DEFAULT_FILES and not any(p.endswith(".safetensors") for p in files):
        patterns = patterns + FALLBACK_WEIGHTS
        folder = Path(hub_client.fetch(repo, revision, patterns, local_dir, progress))
        files = _present(folder, patterns)
    weights = [p for p in files if p.endswith((".safetensors", ".bin"))]
    if "config.json" not in files or (
        patterns[: len(DEFAULT_FILES)] == DEFAULT_FILES and not weights
    ):
        missing = "config.json" if "config.json" not in files else "weights file"
        raise WeightsNotFoundError(
            f"the weights of {repo!r} in {folder} have no {missing}, so no engine can load "
            f"them: run `vlmi download {repo}` again where the hub can be reached (an earlier "
            "download stopped early), or check that it is a model checkpoint"
        )
    return Fetched(folder=folder, files=files)


def _present(folder: Path, patterns: tuple[str, ...]) -> dict[str, int]:
    """The files in ``folder`` that match ``patterns``: path -> bytes."""
    return {
        path.relative_to(folder).as_posix(): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and ".cache" not in path.relative_to(folder).parts
        and matches(path.relative_to(folder).as_posix(), patterns)
    }


__all__ = ["Fetched", "check_writable", "client", "fetch", "list_selected"]
