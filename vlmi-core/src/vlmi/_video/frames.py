"""Sampled frames made to fit an engine's per-frame pixel budget (``max_video_pixels``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image


def fit_frames(frames: Sequence[Image.Image], max_pixels: int | None) -> tuple[Image.Image, ...]:
    """Each frame shrunk, its aspect ratio kept, to at most ``max_pixels`` pixels.

    Frames already within the budget are kept as they are; ``None`` keeps all.
    Shrinking uses bicubic resampling, as the Qwen-VL and InternVL processors do.
    """
    if max_pixels is None:
        return tuple(frames)
    kept = []
    for frame in frames:
        pixels = frame.width * frame.height
        if pixels <= max_pixels:
            kept.append(frame)
            continue
        scale = math.sqrt(max_pixels / pixels)
        width = max(1, math.floor(frame.width * scale))
        height = max(1, math.floor(frame.height * scale))
        from PIL import Image

        kept.append(frame.resize((width, height), Image.Resampling.BICUBIC))
    return tuple(kept)


__all__ = ["fit_frames"]
