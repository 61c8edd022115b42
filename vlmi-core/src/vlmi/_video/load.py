"""From a :class:`Video` to its sampled frames: the one path (``vlmi.plugin.load_video``).

The sampling options are the video's own, then ``default`` (the run's and the
model's defaults, merged by the caller); the model's ``max_frames`` caps them.
Limits, besides the images' ones (``VLMI_MAX_IMAGE_PIXELS`` per frame, the URL
limits of :mod:`vlmi._images`):

- ``VLMI_MAX_VIDEO_SECONDS`` (default 14,400: four hours): longer videos are refused;
- ``VLMI_MAX_VIDEO_PIXELS`` (default 2**30): the most pixels of all frames kept from
  one video together (about 3 GiB of RGB).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from vlmi.errors import (
    ImageError,
    ImageNotFoundError,
    VideoDecodeError,
    VideoNotFoundError,
    VideoTooLargeError,
)

from .._images import load_img, max_pixels
from .decode import Clip, decoder_name, read_frames
from .sampling import choose_frames
from .source import Readable, readable
from .values import Video, VideoSampling

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_MAX_VIDEO_PIXELS = 2**30

#: the frame rate of a frame folder or list that states none (qwen-vl-utils' for frame lists)
FRAMES_FPS = 2.0


def max_video_pixels() -> int:
    """The most pixels the kept frames of one video may hold (``VLMI_MAX_VIDEO_PIXELS``)."""
    return int(os.environ.get("VLMI_MAX_VIDEO_PIXELS", DEFAULT_MAX_VIDEO_PIXELS))


def sampling_for(
    video: Video, default: Mapping[str, Any] | None = None, max_frames: int | None = None
) -> dict[str, Any]:
    """The options a video is sampled with: its own, then ``default``; ``max_frames`` caps."""
    options = video.with_defaults(default or {}).sampling_options()
    if max_frames is not None:
        options["max_frames"] = min(options.get("max_frames", max_frames), max_frames)
    return options


def load_video(
    video: Video, *, default: Mapping[str, Any] | None = None, max_frames: int | None = None
) -> tuple[tuple[Image.Image, ...], VideoSampling]:
    """The sampled frames of ``video`` (RGB) and what was sampled.

    :param default: sampling options for the fields ``video`` leaves unset (a run's
        defaults over the model's ``ModelSpec.video_sampling``).
    :param max_frames: the model's frame limit: caps whatever the options say.
    :raises vlmi.errors.VideoError: a typed error naming the input and the fix.
    """
    options = sampling_for(video, default, max_frames)
    source = readable(video.source)
    if source.frames is not None:
        return _from_frames(source, options)
    chosen: dict[str, Any] = {}

    def choose(clip: Clip) -> Sequence[int]:
        rule, indices = choose_frames(clip.total, clip.fps, options)
        _check_pixels(source.label, len(indices), clip.width, clip.height)
        chosen.update(rule=rule, indices=indices)
        return indices

    clip, pictures = read_frames(source.path, source.data, source.label, choose)
    indices = chosen["indices"]
    sampling = VideoSampling(
        rule=chosen["rule"],
        indices=tuple(indices),
        timestamps=tuple(i / clip.fps for i in indices),
        total_frames=clip.total,
        source_fps=clip.fps,
        duration=clip.total / clip.fps,
        decoder=decoder_name(),
    )
    return tuple(pictures), sampling


def _check_pixels(label: str, count: int, width: int, height: int) -> None:
    if width * height > max_pixels():
        raise VideoTooLargeError(
            f"video {label} has {width}x{height} frames, over the image limit of {max_pixels()} "
            "pixels (a decompression bomb guard); if you trust it, raise VLMI_MAX_IMAGE_PIXELS"
        )
    total = count * width * height
    if total > max_video_pixels():
        raise VideoTooLargeError(
            f"video {label}: {count} frames of {width}x{height} hold {total} pixels, over the "
            f"limit of {max_video_pixels()}; take fewer frames (nframes, fps, max_frames) or "
            "raise VLMI_MAX_VIDEO_PIXELS"
        )


def _from_frames(
    source: Readable, options: Mapping[str, Any]
) -> tuple[tuple[Image.Image, ...], VideoSampling]:
    frames = source.frames or ()
    fps = float(options.get("source_fps") or FRAMES_FPS)
    rule, indices = choose_frames(len(frames), fps, options, frames=True)
    pictures: dict[int, Image.Image] = {}
    for index in sorted(set(indices)):
        try:
            pictures[index] = load_img(frames[index])
        except ImageNotFoundError as exc:
            raise VideoNotFoundError(f"frame {index} of video {source.label}: {exc}") from exc
        except ImageError as exc:
            raise VideoDecodeError(f"frame {index} of video {source.label}: {exc}") from exc
        first = pictures[index]
        _check_pixels(source.label, len(indices), first.width, first.height)
    sampling = VideoSampling(
        rule=rule,
        indices=tuple(indices),
        timestamps=tuple(i / fps for i in indices),
        total_frames=len(frames),
        source_fps=fps,
        duration=len(frames) / fps,
        decoder="frames",
    )
    return tuple(pictures[i] for i in indices), sampling


__all__ = [
    "DEFAULT_MAX_VIDEO_PIXELS",
    "FRAMES_FPS",
    "load_video",
    "max_video_pixels",
    "sampling_for",
]
