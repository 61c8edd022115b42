"""A video's source made readable: a file, bytes (downloaded, a data URI), or frames.

URLs go through the images' one download path (:func:`vlmi._images.download`):
the same checks on every address (``vlmi serve``'s guard), timeout and size limit
(``VLMI_URL_MAX_BYTES``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlmi.errors import (
    ImageDecodeError,
    ImageDownloadError,
    VideoDecodeError,
    VideoDownloadError,
    VideoNotFoundError,
)

from .._images import decode_data_uri, describe, download

#: file suffixes a frame folder's images may have
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff")


@dataclass(frozen=True)
class Readable:
    """What a source turned out to be: exactly one of ``path``, ``data`` or ``frames``."""

    label: str
    path: Path | None = None
    data: bytes | None = None
    frames: tuple[Any, ...] | None = None


def readable(source: Any) -> Readable:
    """Where the bytes or frames of ``source`` are; raise a typed error naming the fix."""
    label = describe(source)
    if isinstance(source, (list, tuple)):
        if not source:
            raise VideoDecodeError("the video's frame list is empty; give at least one frame")
        return Readable(f"<list of {len(source)} frames>", frames=tuple(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Readable(label, data=bytes(source))
    if isinstance(source, os.PathLike):
        return _from_path(Path(os.fspath(source)), label)
    if not isinstance(source, str):
        raise VideoDecodeError(
            f"cannot read a video from a {type(source).__name__} ({label}); give a file path, "
            "an http(s) URL, a data: URI, bytes, a folder of frames or a list of frame images"
        )
    text = source.strip()
    lowered = text[:16].lower()
    if lowered.startswith(("http://", "https://")):
        try:
            return Readable(label, data=download(text, what="video"))
        except ImageDownloadError as exc:
            raise VideoDownloadError(str(exc), retryable=exc.retryable) from exc
    if lowered.startswith("data:"):
        try:
            return Readable(label, data=decode_data_uri(text))
        except ImageDecodeError as exc:
            raise VideoDecodeError(str(exc)) from exc
    if lowered.startswith("file://"):
        from urllib.request import url2pathname

        return _from_path(Path(url2pathname(text[7:])), label)
    return _from_path(Path(text).expanduser(), label)


def _from_path(path: Path, label: str) -> Readable:
    try:
        if path.is_dir():
            return Readable(label, frames=frame_files(path, label))
        if path.is_file():
            return Readable(label, path=path)
    except OSError:  # e.g. a name too long to be a file
        pass
    raise VideoNotFoundError(
        f"video {label} is not a file or folder that exists (looked for {path.absolute()}); "
        "check the path (relative paths are taken from the current folder)"
    )


def frame_files(folder: Path, label: str) -> tuple[Path, ...]:
    """The image files of a frame folder, sorted by name (MVBench's ``00001.jpg``, ...)."""
    files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in FRAME_SUFFIXES and p.is_file()
    )
    if not files:
        raise VideoNotFoundError(
            f"video folder {label} holds no frame images ({', '.join(FRAME_SUFFIXES)}); give a "
            "video file or a folder of frames"
        )
    return tuple(files)


__all__ = ["FRAME_SUFFIXES", "Readable", "frame_files", "readable"]
