"""Which frames each rule takes: plain arithmetic on a frame count and a frame rate.

``total`` is the number of frames as decord's ``len()`` counts them (the
stream's packets, in presentation order) and ``fps`` the stream's average
frame rate, as VLMEvalKit and qwen-vl-utils read them. The rules, with
``[a, b]`` the frames within ``start``/``end`` (all of them when unbounded)
and ``L = b - a + 1``:

- ``vlmevalkit`` (VLMEvalKit's ``save_video_frames``): ``nframes=N``: step ``L / (N + 1)``,
  frames ``a + int(i * step)`` for ``i = 1..N`` (the first and last frames are never
  taken); ``fps=F``: ``int(L / fps * F)`` frames, ``a + int(i * fps / F)`` for
  ``i = 0, 1, ...``.
- ``qwen`` (qwen-vl-utils 0.0.14, ``smart_nframes`` and its readers): the count is
  ``nframes`` rounded to the frame factor 2, or ``L / fps * F`` (``F`` default 2) kept
  within [4, min(768, L)] and floored to the factor; the frames are
  ``round(linspace(a, b, count))`` in float32 as torch computes it on an AVX2 or AVX-512
  CPU, keeping the first and last; ``start``/``end`` as its ``video_start``/``video_end``
  (``a = ceil(start * fps)``, ``b = floor(end * fps)``).
- ``linspace`` (lmms-eval's ``np.linspace(a, b, N, dtype=int)``): ``N`` frames evenly
  spaced from the first to the last, truncated; ``fps=F``: ``N = int(L / fps * F)``.
- ``segments`` (VLMEvalKit's MVBench ``get_index``): the centre of each of ``N`` equal
  segments, within the bounds rounded to frames; ``fps=F`` as ``vlmevalkit``'s.

``max_frames=M`` caps every rule: where a rule would take more than ``M`` frames it
takes ``M`` by its own frame-count form (``nframes=M``; qwen-vl-utils' own
``max_frames`` for ``qwen``).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any

from vlmi.errors import VideoDecodeError

#: the frame count of a rule given neither nframes nor fps (qwen: its fps default instead)
DEFAULT_NFRAMES = 8

# qwen-vl-utils 0.0.14 (vision_process.py)
QWEN_FPS = 2.0
QWEN_FRAME_FACTOR = 2
QWEN_FPS_MIN_FRAMES = 4
QWEN_FPS_MAX_FRAMES = 768


def choose_frames(
    total: int, fps: float, options: Mapping[str, Any], *, frames: bool = False
) -> tuple[str, list[int]]:
    """The rule used and the frame indices it takes from ``total`` frames at ``fps``.

    :param options: checked sampling options (``rule``, ``nframes``, ``fps``, ``max_frames``,
        ``start``, ``end``); no rule means ``vlmevalkit``.
    :param frames: the frames are a folder or list (MVBench numbers those from 1).
    :raises VideoDecodeError: no frame, or a range or rule that picks none.
    """
    if total < 1:
        raise VideoDecodeError("the video holds no frame")
    rule = options.get("rule") or "vlmevalkit"
    if rule == "qwen":
        return rule, _qwen(total, fps, options)
    if rule == "segments" and options.get("fps") is None:
        return rule, _segments(total, fps, options, frames)
    first, last = frame_range(total, fps, options.get("start"), options.get("end"))
    length = last - first + 1
    limit = options.get("max_frames")
    count = _count(length, fps, options)
    if limit is not None and count > limit:
        options = {**options, "nframes": limit, "fps": None}
        count = limit
    if rule == "linspace":
        return rule, [first + i for i in linspace_int(0, length - 1, count)]
    target = options.get("fps")
    if target is not None:
        step = fps / target
        return rule, [first + int(i * step) for i in range(count)]
    step = length / (count + 1)
    return rule, [first + int(i * step) for i in range(1, count + 1)]


def _count(length: int, fps: float, options: Mapping[str, Any]) -> int:
    target = options.get("fps")
    if target is None:
        return int(options.get("nframes") or DEFAULT_NFRAMES)
    count = int(length / fps * target)
    if count < 1:
        raise VideoDecodeError(
            f"fps={target} takes no frame from {length} frame(s) at {fps:g} fps "
            f"({length / fps:.3f} s); raise fps or give nframes"
        )
    return count


def frame_range(total: int, fps: float, start: float | None, end: float | None) -> tuple[int, int]:
    """The first and last frame within ``start``/``end`` seconds (qwen-vl-utils' rule)."""
    if start is None and end is None:
        return 0, total - 1
    duration = total / fps
    first = math.ceil(max(0.0, min(start, duration)) * fps) if start is not None else 0
    last = total - 1
    if end is not None:
        last = min(math.floor(max(0.0, min(end, duration)) * fps), total - 1)
    if first >= last:
        raise VideoDecodeError(
            f"the range {start}..{end} s holds no frames of this {duration:.3f} s video "
            f"({total} frames at {fps:g} fps); check start and end"
        )
    return first, last


def linspace_int(start: int, stop: int, count: int) -> list[int]:
    """``numpy.linspace(start, stop, count, dtype=int)``: float64 steps, truncated."""
    if count == 1:
        return [start]
    step = (stop - start) / (count - 1)
    values = [math.floor(i * step + start) for i in range(count)]
    values[-1] = stop
    return values


def _f32(value: float) -> float:
    packed: float = struct.unpack("f", struct.pack("f", value))[0]
    return packed


def torch_linspace_round(start: int, stop: int, count: int) -> list[int]:
    """``torch.linspace(start, stop, count).round().long()`` as torch computes it on a CPU.

    In float32: the step is ``(stop - start) / (count - 1)``; the first half counts up
    from ``start``, the second down from ``stop``, each value ``start + step * i`` rounded
    once (torch's kernels for AVX2 and AVX-512 CPUs fuse the multiply and the add);
    halves round to even, as ``torch.round``.
    """
    if count == 1:
        return [start]
    first, last = _f32(start), _f32(stop)
    step = _f32(_f32(last - first) / (count - 1))
    halfway = count // 2
    values = [
        _f32(first + step * i) if i < halfway else _f32(last - step * (count - i - 1))
        for i in range(count)
    ]
    return [round(v) for v in values]


def _qwen(total: int, fps: float, options: Mapping[str, Any]) -> list[int]:
    start, end = options.get("start"), options.get("end")
    first, last = frame_range(total, fps, start, end)
    frames = last - first + 1
    factor = QWEN_FRAME_FACTOR
    limit = options.get("max_frames")
    if options.get("nframes") is not None:
        count = round(options["nframes"] / factor) * factor
        if limit is not None:
            count = min(count, math.floor(limit / factor) * factor)
    else:
        target = options.get("fps") or QWEN_FPS
        low = math.ceil(QWEN_FPS_MIN_FRAMES / factor) * factor
        high = (
            math.floor((limit if limit is not None else min(QWEN_FPS_MAX_FRAMES, frames)) / factor)
            * factor
        )
        wanted = frames / fps * target
        count = math.floor(min(min(max(wanted, low), high), frames) / factor) * factor
    if not factor <= count <= frames:
        raise VideoDecodeError(
            f"rule qwen takes between {factor} and the {frames} frame(s) in range, and this "
            f"sampling gives {count}; give another nframes or fps, or another rule"
        )
    return torch_linspace_round(first, last, count)


def _segments(total: int, fps: float, options: Mapping[str, Any], frames: bool) -> list[int]:
    first_idx = 1 if frames else 0
    max_frame = total if frames else total - 1
    start, end = options.get("start"), options.get("end")
    start_idx = max(first_idx, round((start if start is not None else -100000) * fps))
    end_idx = min(round((end if end is not None else 100000) * fps), max_frame)
    count = int(options.get("nframes") or DEFAULT_NFRAMES)
    limit = options.get("max_frames")
    if limit is not None:
        count = min(count, limit)
    size = float(end_idx - start_idx) / count
    chosen = [int(start_idx + size / 2 + round(size * i)) for i in range(count)]
    if frames:  # MVBench names frame files from 1: position = index - 1
        chosen = [i - 1 for i in chosen]
    if not all(0 <= i < total for i in chosen):
        raise VideoDecodeError(
            f"the range {start}..{end} s holds no frames of this video ({total} frames at "
            f"{fps:g} fps); check start and end"
        )
    return chosen


__all__ = [
    "DEFAULT_NFRAMES",
    "choose_frames",
    "frame_range",
    "linspace_int",
    "torch_linspace_round",
]
