"""``max_image_pixels``: the most pixels an image keeps after the model's own resizing.

Each architecture's processor spells image resolution its own way; this
module turns the one vlmi option into the processor's own keyword arguments
(given to ``AutoProcessor.from_pretrained``, as vLLM gives its
``mm_processor_kwargs``), decided from the loaded image processor, not from
the model's name:

=========================  ====================================================
image processor            ``max_image_pixels=N``
=========================  ====================================================
Qwen2-VL's (Qwen2-VL,      ``size={"longest_edge": N, "shortest_edge":
Qwen2.5-VL, Qwen3-VL),     min(default, N)}`` (``max_pixels``/``min_pixels``):
GLM-4.1V's                 the image is resized to at most N pixels in whole
                           ``(patch*merge)``-pixel blocks; at least one block
                           (GLM-4.1V's counts an image twice: 2N)
tiled (InternVL's          ``max_patches=N // tile pixels`` (and
``crop_to_patches``)       ``min_patches`` no higher): at most that many tiles
                           (a thumbnail tile is added above one); at least one
fixed size (LLaVA's CLIP   every image becomes the same ``height x width``:
crop, Gemma 3, SigLIP)     N at or above it changes nothing; below it is refused
anything else              refused, naming ``mm_processor_kwargs``
=========================  ====================================================

A limit the processor cannot honour is an :class:`InvalidOptionError` that
says why and what the smallest honoured value is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vlmi.errors import InvalidOptionError


@dataclass(frozen=True)
class ResolutionKwargs:
    """The processor keyword arguments for a limit, and every key that controls resolution."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    controls: frozenset[str] = frozenset()


def _size(image_processor: Any, name: str = "size") -> dict[str, Any]:
    size = getattr(image_processor, name, None)
    if size is None:
        return {}
    if isinstance(size, Mapping):
        items = dict(size)
    else:  # Transformers' SizeDict
        items = {k: getattr(size, k, None) for k in ("height", "width")}
        items.update({k: getattr(size, k, None) for k in ("shortest_edge", "longest_edge")})
    return {k: v for k, v in items.items() if v is not None}


def _kind(image_processor: Any) -> str:
    return type(image_processor).__name__


#: image processors that resize by pixel area (``smart_resize``), by class-name prefix, with
#: how many times an image's pixels their ``longest_edge`` counts: GLM-4.1V's counts the
#: image once per temporal patch (2), as it does a video's frames
PIXEL_AREA_PROCESSORS = {
    "Qwen2VLImageProcessor": None,
    "Glm4vImageProcessor": "temporal_patch_size",
}


def _pixel_area_factor(image_processor: Any) -> int | None:
    """How many times ``longest_edge`` counts an image's pixels; None if not smart_resize."""
    name = _kind(image_processor)
    for prefix, attribute in PIXEL_AREA_PROCESSORS.items():
        if name.startswith(prefix):
            return int(getattr(image_processor, attribute)) if attribute else 1
    return None


def qwen_style(image_processor: Any, limit: int, counted: int = 1) -> ResolutionKwargs:
    """Qwen2-VL's ``smart_resize``: at most ``longest_edge`` pixels in whole merged blocks.

    :param counted: how many times the processor counts an image's pixels
        against ``longest_edge`` (2 for GLM-4.1V's).
    """
    size = _size(image_processor)
    block = int(image_processor.patch_size) * int(image_processor.merge_size)
    if limit < block * block:
        raise InvalidOptionError(
            f"max_image_pixels={limit} is below what {_kind(image_processor)} keeps of any image: "
            f"one {block}x{block} block ({block * block} pixels); use at least {block * block}"
        )
    budget = limit * counted
    shortest = min(int(size.get("shortest_edge", budget)), budget)
    return ResolutionKwargs(
        {"size": {"shortest_edge": shortest, "longest_edge": budget}},
        frozenset({"size", "max_pixels", "min_pixels"}),
    )


def tiled(image_processor: Any, limit: int) -> ResolutionKwargs:
    """InternVL's dynamic tiling: at most ``max_patches`` tiles of ``size`` each."""
    size = _size(image_processor)
    tile = int(size["height"]) * int(size["width"])
    tiles = limit // tile
    if tiles < 1:
        raise InvalidOptionError(
            f"max_image_pixels={limit} is below one {size['height']}x{size['width']} tile "
            f"({tile} pixels), the least {_kind(image_processor)} keeps of an image; "
            f"use at least {tile}"
        )
    lowest = min(int(getattr(image_processor, "min_patches", 1) or 1), tiles)
    return ResolutionKwargs(
        {"max_patches": tiles, "min_patches": lowest},
        frozenset({"max_patches", "min_patches", "size", "crop_to_patches"}),
    )


def fixed_pixels(image_processor: Any) -> tuple[int, int] | None:
    """``(height, width)`` every image becomes, for processors that resize to one size."""
    if getattr(image_processor, "do_pan_and_scan", False):
        return None  # Gemma 3's pan and scan adds crops: not one size
    if getattr(image_processor, "image_grid_pinpoints", None):
        return None  # LLaVA-NeXT / OneVision "anyres": a grid of crops chosen per image
    if getattr(image_processor, "do_center_crop", False):
        crop = _size(image_processor, "crop_size")
        if "height" in crop and "width" in crop:
            return int(crop["height"]), int(crop["width"])
        return None
    size = _size(image_processor)
    if set(size) == {"height", "width"} and not getattr(image_processor, "crop_to_patches", False):
        return int(size["height"]), int(size["width"])
    return None


def fixed(image_processor: Any, limit: int, shape: tuple[int, int]) -> ResolutionKwargs:
    """A fixed-size processor: a limit at or above its size holds already; below it, refused."""
    height, width = shape
    if limit < height * width:
        raise InvalidOptionError(
            f"max_image_pixels={limit} cannot be honoured: {_kind(image_processor)} resizes "
            f"every image to {height}x{width} ({height * width} pixels), the size its vision "
            f"encoder was trained on, and cannot keep fewer; use max_image_pixels >= "
            f"{height * width}, or None"
        )
    return ResolutionKwargs({}, frozenset())


def resolution_kwargs(image_processor: Any, limit: int) -> ResolutionKwargs:
    """The processor keyword arguments that keep at most ``limit`` pixels of an image."""
    if limit < 1:
        raise InvalidOptionError(f"max_image_pixels must be >= 1 or None, got {limit}")
    size = _size(image_processor)
    counted = _pixel_area_factor(image_processor)
    if counted is not None:
        return qwen_style(image_processor, limit, counted)
    if getattr(image_processor, "crop_to_patches", False) and {"height", "width"} <= set(size):
        return tiled(image_processor, limit)
    shape = fixed_pixels(image_processor)
    if shape is not None:
        return fixed(image_processor, limit, shape)
    raise InvalidOptionError(
        f"max_image_pixels is not supported for {_kind(image_processor)}: vlmi does not know "
        "how this processor limits image resolution; leave max_image_pixels unset and pass "
        "the processor's own options in mm_processor_kwargs"
    )


def check_processor_options(limit: int | None, expert: Any) -> None:
    """The two options' types and ranges, checked when the options are made."""
    if limit is not None and limit < 1:
        raise InvalidOptionError(f"max_image_pixels must be >= 1 or None, got {limit}")
    if expert is not None and (
        not isinstance(expert, Mapping) or not all(isinstance(k, str) for k in expert)
    ):
        raise InvalidOptionError(
            "mm_processor_kwargs must be a dict of the processor's option names to values "
            f"(e.g. {{'max_patches': 6}}), got {expert!r}"
        )


def merged_kwargs(
    image_processor: Any, limit: int | None, expert: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``from_pretrained`` keyword arguments: the expert's, plus the limit's.

    A key of ``mm_processor_kwargs`` that the limit also controls is refused:
    one of the two would silently lose.
    """
    extra = dict(expert or {})
    if limit is None:
        return extra
    chosen = resolution_kwargs(image_processor, limit)
    clash = sorted(set(extra) & chosen.controls)
    if clash:
        raise InvalidOptionError(
            f"mm_processor_kwargs sets {clash}, which max_image_pixels also sets for "
            f"{_kind(image_processor)}: give only one of the two"
        )
    return {**extra, **chosen.kwargs}


__all__ = [
    "PIXEL_AREA_PROCESSORS",
    "ResolutionKwargs",
    "check_processor_options",
    "fixed_pixels",
    "merged_kwargs",
    "resolution_kwargs",
]
