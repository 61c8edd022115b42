"""Decoding a video file with PyAV: count its frames as decord does, decode only the chosen.

PyAV (``pip install 'vlmi-core[video]'``) is imported here only, when a video
file arrives. The file's packets are read once, without decoding, to count
the frames as decord's ``len()`` does (the video stream's packets, sorted by
presentation time) and to know where the keyframes are; then, for each
chosen frame, the decoder seeks to the keyframe at or before it and decodes
forward to it. Only the chosen frames are converted to pictures and kept,
so memory stays flat in the clip's length.
"""

from __future__ import annotations

import io
import os
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlmi.errors import MissingDependencyError, VideoDecodeError, VideoTooLargeError

if TYPE_CHECKING:
    from PIL import Image

INSTALL = "pip install 'vlmi-core[video]'  (or: pip install av)"

#: longest video accepted, seconds (``VLMI_MAX_VIDEO_SECONDS``)
DEFAULT_MAX_SECONDS = 4 * 3600.0


def max_seconds() -> float:
    """The longest video accepted, in seconds (``VLMI_MAX_VIDEO_SECONDS``, default 4 hours)."""
    return float(os.environ.get("VLMI_MAX_VIDEO_SECONDS", DEFAULT_MAX_SECONDS))


def decoder_name() -> str:
    """``"pyav <version>"`` of the installed PyAV (``"pyav"`` alone if it is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"pyav {version('av')}"
    except PackageNotFoundError:
        return "pyav"


@dataclass(frozen=True)
class Clip:
    """A video file's frame count and rate as decord reads them, and its frame size."""

    total: int
    fps: float
    width: int
    height: int


def _import_av() -> Any:
    try:
        import av
    except ImportError as exc:
        raise MissingDependencyError(
            f"reading video files needs PyAV: {INSTALL}", install=INSTALL
        ) from exc
    return av


def read_frames(
    path: Path | None,
    data: bytes | None,
    label: str,
    choose: Callable[[Clip], Sequence[int]],
) -> tuple[Clip, list[Image.Image]]:
    """Open the file, let ``choose`` pick frame indices from its :class:`Clip`, decode those.

    :raises VideoDecodeError: not a video, no video stream, no frame, a codec FFmpeg lacks.
    :raises VideoTooLargeError: longer than ``VLMI_MAX_VIDEO_SECONDS``.
    """
    av = _import_av()
    try:
        container = av.open(str(path) if path is not None else io.BytesIO(data or b""))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise VideoDecodeError(
            f"video {label} is not a video file FFmpeg can read ({exc}); check the file, or "
            "convert it to MP4 (H.264)"
        ) from exc
    with container:
        if not container.streams.video:
            raise VideoDecodeError(f"{label} holds no video stream; give a video file")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise VideoDecodeError(
                f"video {label} is in a codec this FFmpeg build cannot decode; convert it to "
                "MP4 (H.264)"
            )
        _refuse_long(container.duration, label, "its header says")
        try:
            stream.thread_type = "AUTO"
            order = _packet_times(container, stream)
        except av.error.FFmpegError as exc:
            raise VideoDecodeError(f"video {label} is corrupt ({exc}); re-export it") from exc
        if not order:
            raise VideoDecodeError(f"video {label} holds no frame")
        fps = _average_rate(stream, len(order), container.duration)
        _refuse_long(len(order) / fps * 1_000_000, label, "its frames last")
        clip = Clip(len(order), fps, stream.codec_context.width, stream.codec_context.height)
        wanted = list(choose(clip))
        try:
            pictures = _decode(container, stream, order, sorted(set(wanted)))
        except av.error.FFmpegError as exc:
            raise VideoDecodeError(
                f"video {label} could not be decoded ({exc}); its codec "
                f"({stream.codec_context.name}) may be missing from this FFmpeg build: convert "
                "it to MP4 (H.264)"
            ) from exc
    missing = sorted(set(wanted) - set(pictures))
    if missing:
        raise VideoDecodeError(
            f"video {label}: frame(s) {missing[:5]} of {clip.total} could not be decoded (a "
            "truncated or damaged file?); re-export it"
        )
    return clip, [pictures[i] for i in wanted]


def _refuse_long(duration_us: float | None, label: str, how: str) -> None:
    limit = max_seconds()
    if duration_us is not None and duration_us / 1_000_000 > limit:
        raise VideoTooLargeError(
            f"video {label} is {duration_us / 1_000_000:.0f} s long ({how}), over the limit of "
            f"{limit:g} s; cut it, or raise VLMI_MAX_VIDEO_SECONDS if you mean it"
        )


@dataclass(frozen=True)
class _Packet:
    pts: int
    key: bool


def _packet_times(container: Any, stream: Any) -> list[_Packet]:
    """Every packet of the stream in presentation order (decord's frame index)."""
    packets = []
    for position, packet in enumerate(container.demux(stream)):
        if packet.size == 0:  # the demuxer's final empty packet
            continue
        pts = packet.pts if packet.pts is not None else packet.dts
        packets.append(_Packet(pts if pts is not None else position, bool(packet.is_keyframe)))
    packets.sort(key=lambda p: p.pts)
    return packets


def _average_rate(stream: Any, total: int, duration_us: int | None) -> float:
    """The stream's average frame rate (decord's ``get_avg_fps``), else one from the length."""
    rate = stream.average_rate or stream.guessed_rate
    if rate:
        return float(rate)
    if duration_us:
        return total / (duration_us / 1_000_000)
    raise VideoDecodeError("the video states no frame rate and no duration")


def _decode(
    container: Any, stream: Any, order: list[_Packet], wanted: list[int]
) -> dict[int, Image.Image]:
    """The frames at the ``wanted`` positions (sorted), each decoded from its keyframe on.

    On the way to a chosen frame the decoder skips the frames nothing refers to
    (``skip_frame="NONREF"``: B-frames of H.264, frames of VP8/VP9 that refresh no
    reference): they are never shown, and the frames it shows come out as without
    skipping, at about two thirds of the work on H.264.
    """
    keys = [i for i, p in enumerate(order) if p.key] or [0]
    index_of = {p.pts: i for i, p in enumerate(order)}
    shown = {order[i].pts for i in wanted}
    context = stream.codec_context
    found: dict[int, Image.Image] = {}
    position = -1  # the last frame decoded, in presentation order
    pending = list(wanted)
    while pending:
        target = pending[0]
        key = keys[max(0, bisect_right(keys, target) - 1)]
        if not key <= position < target:  # behind the target's keyframe, or past the target
            container.seek(order[key].pts, stream=stream, backward=True, any_frame=False)
            position = -1
        for frame in _frames_from(container, stream, context, shown):
            here = index_of.get(frame.pts, position + 1) if frame.pts is not None else position + 1
            position = here
            while pending and pending[0] < here:  # a frame the stream skipped: not decodable
                pending.pop(0)
            if pending and pending[0] == here:
                found[here] = frame.to_image()
                while pending and pending[0] == here:
                    pending.pop(0)
            if not pending or keys_between(keys, here, pending[0]):
                break
        else:
            break  # the end of the file
    return found


def keys_between(keys: list[int], here: int, target: int) -> bool:
    """Whether a keyframe lies after ``here`` and at or before ``target`` (seek instead)."""
    return bisect_right(keys, target) > bisect_right(keys, here)


def _frames_from(container: Any, stream: Any, context: Any, shown: set[int]) -> Any:
    for packet in container.demux(stream):
        pts = packet.pts if packet.pts is not None else packet.dts
        context.skip_frame = "DEFAULT" if pts is None or pts in shown else "NONREF"
        yield from packet.decode()


__all__ = ["DEFAULT_MAX_SECONDS", "INSTALL", "Clip", "decoder_name", "max_seconds", "read_frames"]
