"""VLMEvalKit's video benchmarks by name: which one, and the frame setting the name gives.

VLMEvalKit registers each video benchmark under names that carry its frame
setting (``video_dataset_config.py``): ``Video-MME_8frame``,
``Video-MME_64frame``, ``Video-MME_1fps``, ``Video-MME_0.5fps``, with
``_subs`` for the subtitled variants; ``MVBench_8frame``, ``MVBench_64frame``;
``MVBench_MP4_8frame``, ``MVBench_MP4_1fps``. The same forms with any count
or rate are read here (``_16frame``, ``_2fps``). A bare name (``Video-MME``,
``MVBench``: the TSV's own stem) has no setting: each model samples as it
does by default. MVBench takes no frame rate (VLMEvalKit refuses it and points
to MVBench_MP4); only Video-MME has subtitles, and only with a frame setting
(the subtitles shown are those at the frames its own rule samples).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vlmi.errors import InvalidOptionError

VIDEO_MME = "Video-MME"
MVBENCH = "MVBench"
MVBENCH_MP4 = "MVBench_MP4"
#: the benchmarks, longest name first (MVBench_MP4 before MVBench)
FAMILIES = (VIDEO_MME, MVBENCH_MP4, MVBENCH)
_NAME = re.compile(
    r"(?P<family>Video-MME|MVBench_MP4|MVBench)"
    r"(?:_(?P<nframes>\d+)frame|_(?P<fps>\d+(?:\.\d+)?)fps)?(?P<subs>_subs)?"
)
#: names of VLMEvalKit video benchmarks vlmi does not read (they hold a family's name)
_OTHERS = ("Video-MME-v2",)
FORMS = (
    "Video-MME_8frame, Video-MME_1fps, Video-MME_8frame_subs, MVBench_8frame, "
    "MVBench_MP4_8frame, MVBench_MP4_1fps (any frame count or rate)"
)


@dataclass(frozen=True)
class VideoBenchmark:
    """A video benchmark name read: the benchmark and its frame setting (``None``: the
    model's default sampling)."""

    family: str
    nframes: int | None = None
    fps: float | None = None
    subtitles: bool = False

    @property
    def setting(self) -> str:
        """The frame setting in words, e.g. ``8 frames`` or ``1 fps``."""
        if self.nframes is not None:
            return f"{self.nframes} frames"
        if self.fps is not None:
            return f"{self.fps:g} fps"
        return "the model's default sampling"


def video_benchmark(name: str | None) -> VideoBenchmark | None:
    """The video benchmark ``name`` names (``None``: not a video benchmark).

    :raises InvalidOptionError: a name that holds a video benchmark's name but is none of
        its forms, MVBench with a frame rate, subtitles other than Video-MME's, or a zero
        frame count or rate.
    """
    if not name or not any(family in name for family in FAMILIES):
        return None
    match = _NAME.fullmatch(name)
    if match is None or any(other in name for other in _OTHERS):
        raise InvalidOptionError(
            f"{name!r} is not a video benchmark vlmi reads; the names are {FORMS}"
        )
    family = match["family"]
    nframes = int(match["nframes"]) if match["nframes"] else None
    fps = float(match["fps"]) if match["fps"] else None
    if nframes == 0 or fps == 0:
        raise InvalidOptionError(f"{name!r}: the frame count or rate must be above 0")
    if family == MVBENCH and fps is not None:
        raise InvalidOptionError(
            f"{name!r}: MVBench takes a frame count, not a rate (VLMEvalKit refuses it too); "
            f"use MVBench_MP4_{match['fps']}fps with MVBench's MP4 release"
        )
    if match["subs"] and family != VIDEO_MME:
        raise InvalidOptionError(f"{name!r}: only Video-MME has subtitles (_subs)")
    if match["subs"] and nframes is None and fps is None:
        raise InvalidOptionError(
            f"{name!r}: the subtitles shown are those at the sampled frames, so _subs needs a "
            "frame setting: Video-MME_8frame_subs, Video-MME_0.5fps_subs, ..."
        )
    return VideoBenchmark(family, nframes, fps, bool(match["subs"]))


__all__ = ["FAMILIES", "MVBENCH", "MVBENCH_MP4", "VIDEO_MME", "VideoBenchmark", "video_benchmark"]
