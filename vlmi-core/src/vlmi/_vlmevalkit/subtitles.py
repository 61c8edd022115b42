"""Video-MME's subtitles as VLMEvalKit puts them in the prompt (``VideoMME.build_prompt``).

VLMEvalKit samples the clip by its own rule (``nframes=N``: frames
``int(i * len / (N + 1))``, ``i = 1..N``; ``fps=F``: ``int(i * rate / F)``), whatever
the model, and for each of those frames takes the text of the first subtitle
on screen at that time (``pysubs2.make_time(fps=rate, frames=index)``
milliseconds, strictly between the subtitle's start and end), ``\\N`` as a
space; frames without one add nothing. The lines are joined by newlines.

The subtitle file is read with pysubs2, as VLMEvalKit reads it (``pip install
'vlmi-core[video]'``); the clip's frame count and rate are read as the video
loader reads them (:mod:`vlmi._video.decode`), without decoding a frame.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidSampleError, MissingDependencyError, VideoNotFoundError

from .._video.decode import Clip, read_frames
from .._video.sampling import choose_frames

INSTALL = "pip install 'vlmi-core[video]'  (or: pip install pysubs2)"


def require_pysubs2() -> Any:
    """The pysubs2 module, or a :class:`MissingDependencyError` naming the install (PyAV,
    which reads the clip, is checked too)."""
    from importlib.util import find_spec

    try:
        import pysubs2
    except ImportError as exc:
        raise MissingDependencyError(
            f"Video-MME's subtitles are read with pysubs2: {INSTALL}", install=INSTALL
        ) from exc
    if find_spec("av") is None:
        raise MissingDependencyError(
            f"Video-MME's subtitles are placed by the clip's frames, read with PyAV: {INSTALL}",
            install=INSTALL,
        )
    return pysubs2


def clip_of(video: Path) -> Clip:
    """The clip's frame count and rate (decord's), no frame decoded."""
    if not video.is_file():
        raise VideoNotFoundError(f"video {str(video)!r} does not exist; check the data root")
    return read_frames(video, None, str(video), lambda clip: [])[0]


@lru_cache(maxsize=8)
def subtitles_at_frames(video: Path, srt: Path, nframes: int | None, fps: float | None) -> str:
    """The subtitle lines at the frames VLMEvalKit samples (see the module docstring)."""
    pysubs2 = require_pysubs2()
    clip = clip_of(video)
    setting = {"nframes": nframes} if nframes is not None else {"fps": fps}
    _, indices = choose_frames(clip.total, clip.fps, {"rule": "vlmevalkit", **setting})
    try:
        subtitles = pysubs2.load(str(srt), encoding="utf-8")
    except (pysubs2.Pysubs2Error, UnicodeDecodeError, OSError, ValueError) as exc:
        raise InvalidSampleError(
            f"subtitle file {str(srt)!r} cannot be read as subtitles ({exc}); fix or remove it "
            "(a row without its subtitle file gets none, as in VLMEvalKit)"
        ) from exc
    lines = []
    for index in indices:
        now = pysubs2.make_time(fps=clip.fps, frames=index)
        text = next((s.text for s in subtitles if s.start < now < s.end), "")
        text = text.replace("\\N", " ")
        if text.strip():
            lines.append(text)
    return "\n".join(lines)


__all__ = ["INSTALL", "clip_of", "require_pysubs2", "subtitles_at_frames"]
