"""What a video input is (:class:`Video`) and what was taken from it (:class:`VideoSampling`).

A :class:`Video` names its source and, optionally, how to sample it. Every
sampling field left ``None`` is filled, in order, from the sample's own
dict, the run's defaults (``vlmi run --video-sampling``) and the model's defaults
(``ModelSpec.video_sampling``); see :mod:`vlmi._video.sampling` for the rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from vlmi.errors import InvalidSampleError

#: the sampling rules (see :mod:`vlmi._video.sampling`)
RULES = ("vlmevalkit", "qwen", "linspace", "segments")

#: the fields of a Video that say how to sample it (everything but the source)
SAMPLING_KEYS = ("nframes", "fps", "max_frames", "rule", "start", "end", "source_fps")


@dataclass(frozen=True)
class Video:
    """A video input and, optionally, how to sample its frames.

    :param source: a file path, ``http(s)://`` URL, ``data:`` URI or the bytes of a video
        file; a folder of frame images (sorted by name); or a list/tuple of image inputs
        (the frames themselves).
    :param nframes: take exactly this many frames (before ``max_frames``).
    :param fps: take this many frames per second of video (not with ``nframes``).
    :param max_frames: at most this many frames, whatever the rule.
    :param rule: ``"vlmevalkit"``, ``"qwen"``, ``"linspace"`` or ``"segments"``;
        ``None``: the model's default.
    :param start: seconds: sample only from here on.
    :param end: seconds: sample only up to here.
    :param source_fps: the frame rate of a frame folder or list (for timestamps and the
        ``fps`` rules; default 2, as qwen-vl-utils takes frame lists); a video file's own
        is read from the file.
    """

    source: Any
    nframes: int | None = None
    fps: float | None = None
    max_frames: int | None = None
    rule: str | None = None
    start: float | None = None
    end: float | None = None
    source_fps: float | None = None

    def __post_init__(self) -> None:
        if self.source is None or isinstance(self.source, Video):
            raise InvalidSampleError(
                "a video needs a source: a file path, URL, data: URI, bytes, a folder of frames "
                "or a list of frame images"
            )
        check_sampling({k: getattr(self, k) for k in SAMPLING_KEYS}, "video")

    def with_defaults(self, defaults: Mapping[str, Any]) -> Video:
        """A copy whose unset sampling fields come from ``defaults``.

        ``nframes`` and ``fps`` count as one setting: a default for either is
        ignored when the video sets one of them, or sets a rule other than the
        defaults' (then the rule's own count applies).
        """
        other_rule = self.rule is not None and defaults.get("rule") not in (None, self.rule)
        chosen = self.nframes is not None or self.fps is not None or other_rule
        filled = {
            key: value
            for key, value in defaults.items()
            if key in SAMPLING_KEYS
            and getattr(self, key) is None
            and value is not None
            and not (chosen and key in ("nframes", "fps"))
        }
        return replace(self, **filled) if filled else self

    def sampling_options(self) -> dict[str, Any]:
        """The sampling fields that are set, as a dict."""
        return {k: getattr(self, k) for k in SAMPLING_KEYS if getattr(self, k) is not None}


@dataclass(frozen=True)
class VideoSampling:
    """Which frames were taken from a video, and how: written with each prediction.

    :param rule: the rule that chose them.
    :param indices: the frames' positions in the file, counted as decord counts them
        (every video packet of the stream, in presentation order), or in the frame folder
        or list.
    :param timestamps: seconds from the start of the video, one per frame.
    :param total_frames: the frames the video holds, counted the same way.
    :param source_fps: the video's average frame rate (used for the timestamps).
    :param duration: ``total_frames / source_fps``, seconds.
    :param decoder: what decoded the frames and its version, e.g. ``"pyav 18.1.0"``;
        ``"frames"`` for a frame folder or list.
    """

    rule: str
    indices: tuple[int, ...]
    timestamps: tuple[float, ...]
    total_frames: int
    source_fps: float
    duration: float
    decoder: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written in output records."""
        return {
            "rule": self.rule,
            "indices": list(self.indices),
            "timestamps": [round(t, 6) for t in self.timestamps],
            "total_frames": self.total_frames,
            "source_fps": round(self.source_fps, 6),
            "duration": round(self.duration, 6),
            "decoder": self.decoder,
        }


def check_sampling(options: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The sampling options of ``options`` checked (types, ranges); raise InvalidSampleError.

    :param where: what holds them, for the message (``"video"``, ``"--video-sampling"``, ...).
    """
    unknown = sorted(set(options) - set(SAMPLING_KEYS))
    if unknown:
        raise InvalidSampleError(
            f"{where}: unknown video option(s) {unknown}; use {', '.join(SAMPLING_KEYS)}"
        )
    checked = {k: v for k, v in options.items() if v is not None}
    for key in ("nframes", "max_frames"):
        if key in checked:
            value = checked[key]
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidSampleError(f"{where}: {key} must be a whole number, got {value!r}")
            if value < 1:
                raise InvalidSampleError(
                    f"{where}: {key}={value} takes no frame; give a number >= 1"
                )
    for key in ("fps", "start", "end", "source_fps"):
        if key in checked:
            value = checked[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidSampleError(f"{where}: {key} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0 or (value == 0 and key != "start"):
                low = ">= 0" if key == "start" else "> 0"
                raise InvalidSampleError(f"{where}: {key} must be {low}, got {value!r}")
    if "nframes" in checked and "fps" in checked:
        raise InvalidSampleError(f"{where}: give nframes or fps, not both")
    rule = checked.get("rule")
    if rule is not None and rule not in RULES:
        raise InvalidSampleError(f"{where}: unknown rule {rule!r}; use one of {', '.join(RULES)}")
    if "start" in checked and "end" in checked and checked["end"] <= checked["start"]:
        raise InvalidSampleError(
            f"{where}: end ({checked['end']}) must come after start ({checked['start']})"
        )
    return checked


_SOURCE_KEYS = ("source", "path", "value", "video", "video_url")


def video_from(item: Any, where: str = "video") -> Video:
    """A :class:`Video` from what a sample may hold: a Video, a dict, or a bare source."""
    if isinstance(item, Video):
        return item
    if isinstance(item, Mapping):
        data = dict(item)
        data.pop("type", None)
        given = [data.pop(key) for key in _SOURCE_KEYS if key in data]
        if len(given) > 1:
            raise InvalidSampleError(f"{where}: give one of {', '.join(_SOURCE_KEYS)}, not several")
        source = given[0] if given else None
        if isinstance(source, Mapping):  # OpenAI's {"video_url": {"url": ...}}
            source = source.get("url")
        checked = check_sampling(data, where)
        return Video(source, **checked)
    return Video(item)


def sampling_defaults(options: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    """Checked sampling defaults (a spec's ``video_sampling``, a run's ``--video-sampling``)."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidSampleError(f"{where} must be a dict of video options, got {options!r}")
    return check_sampling(options, where)


__all__ = [
    "RULES",
    "SAMPLING_KEYS",
    "Video",
    "VideoSampling",
    "check_sampling",
    "sampling_defaults",
    "video_from",
]
