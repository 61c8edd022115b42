"""MiniCPM-V-2.6's image processor: a source image plus a grid of slices.

The rules (those of the released model, written here from its description):

- ``scale_resolution`` is the side of the square area one slice aims at, and
  every side is rounded to a multiple of ``patch_size`` (at least one patch).
- The grid: ``multiple = min(ceil(w * h / scale_resolution**2), max_slice_nums)``.
  At most one "slice" (``multiple <= 1``) means no grid. Otherwise the slice
  counts ``multiple - 1``, ``multiple``, ``multiple + 1`` (those in
  ``2..max_slice_nums``) are split into every ``cols x rows`` factorisation, and
  the one whose ``log(cols / rows)`` is closest to ``log(w / h)`` wins (the first
  found on a tie: smaller count first, then fewer columns).
- The source image is resized to about ``scale_resolution**2`` pixels at its
  aspect ratio (never enlarged when it is already smaller and has a grid); the
  refined image (``grid`` times a slice's best size) is cut into the slices,
  row by row.
- Each source image and each slice becomes ``image_feature_size`` ``<unk>``
  tokens in the prompt: ``<image_id>i</image_id><image>unk...</image>`` and,
  with a grid, a newline and one line per grid row of
  ``<slice>unk...</slice>`` per column.
- Pixels are scaled to [0, 1], normalised by ``norm_mean`` / ``norm_std`` and
  laid out per slice as ``(3, patch, n_patches * patch)``, patches row-major.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image
from transformers.image_processing_utils import BaseImageProcessor, BatchFeature
from transformers.processing_utils import ImagesKwargs

Grid = tuple[int, int]  # (columns, rows)
Size = tuple[int, int]  # (width, height)


def round_to_patches(length: float, patch_size: int) -> int:
    """``length`` rounded to a multiple of ``patch_size``, at least one patch."""
    return max(round(length / patch_size) * patch_size, patch_size)


def best_resize(size: Size, scale_resolution: int, patch_size: int, enlarge: bool) -> Size:
    """About ``scale_resolution**2`` pixels at ``size``'s aspect ratio, sides in whole patches."""
    width, height = size
    if width * height > scale_resolution * scale_resolution or enlarge:
        ratio = width / height
        height = int(scale_resolution / math.sqrt(ratio))
        width = int(height * ratio)
    return round_to_patches(width, patch_size), round_to_patches(height, patch_size)


def sliced_grid(size: Size, max_slice_nums: int, scale_resolution: int) -> Grid | None:
    """The (columns, rows) grid of slices for an image of ``size``, or None for no slices."""
    width, height = size
    area = scale_resolution * scale_resolution
    multiple = min(math.ceil(width * height / area), max_slice_nums)
    if multiple <= 1:
        return None
    target = math.log(width / height)
    best: Grid | None = None
    best_error = math.inf
    for count in (multiple - 1, multiple, multiple + 1):
        if not 1 < count <= max_slice_nums:
            continue
        for cols in range(1, count + 1):
            if count % cols:
                continue
            rows = count // cols
            error = abs(target - math.log(cols / rows))
            if error < best_error:
                best, best_error = (cols, rows), error
    return best


def refined_size(size: Size, grid: Grid, scale_resolution: int, patch_size: int) -> Size:
    """The size the image is resized to before it is cut into ``grid`` slices."""
    cols, rows = grid
    slice_width = round_to_patches(size[0], cols) / cols
    slice_height = round_to_patches(size[1], rows) / rows
    best_w, best_h = best_resize(
        (round(slice_width), round(slice_height)), scale_resolution, patch_size, enlarge=True
    )
    return best_w * cols, best_h * rows


def _as_pil(image: Any) -> Image.Image:
    """An RGB PIL image from a PIL image or an (h, w, 3) array (a video frame)."""
    picture: Image.Image = (
        image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image, np.uint8))
    )
    return picture.convert("RGB")


class MiniCPMVImagesKwargs(ImagesKwargs, total=False):  # type: ignore[misc, call-arg]
    """What ``from_pretrained(path, **kwargs)`` may override (vLLM passes ``max_slice_nums``)."""

    max_slice_nums: int


class MiniCPMVImageProcessor(BaseImageProcessor):  # type: ignore[misc]
    """Slices images as MiniCPM-V-2.6 does and writes their prompt placeholders."""

    model_input_names = ["pixel_values", "image_sizes", "tgt_sizes"]
    valid_kwargs = MiniCPMVImagesKwargs

    def __init__(
        self,
        max_slice_nums: int = 9,
        scale_resolution: int = 448,
        patch_size: int = 14,
        image_feature_size: int = 64,
        use_image_id: bool = True,
        slice_mode: bool = True,
        norm_mean: Sequence[float] = (0.5, 0.5, 0.5),
        norm_std: Sequence[float] = (0.5, 0.5, 0.5),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_slice_nums = max_slice_nums
        self.scale_resolution = scale_resolution
        self.patch_size = patch_size
        self.image_feature_size = image_feature_size
        self.use_image_id = use_image_id
        self.slice_mode = slice_mode
        self.norm_mean = list(norm_mean)
        self.norm_std = list(norm_std)
        self.mean = list(norm_mean)
        self.std = list(norm_std)
        self.im_start, self.im_end = "<image>", "</image>"
        self.slice_start, self.slice_end = "<slice>", "</slice>"
        self.im_id_start, self.im_id_end = "<image_id>", "</image_id>"
        self.unk = "<unk>"

    # --- grid and placeholders ----------------------------------------------------

    def get_sliced_grid(
        self, image_size: Sequence[int], max_slice_nums: int | None = None, **_: Any
    ) -> Grid | None:
        """(columns, rows) of the slices of an image of ``image_size`` (width, height)."""
        if not self.slice_mode:
            return None
        limit = self.max_slice_nums if max_slice_nums is None else max_slice_nums
        return sliced_grid((int(image_size[0]), int(image_size[1])), limit, self.scale_resolution)

    def get_slice_image_placeholder(
        self,
        image_size: Sequence[int],
        image_idx: int = 0,
        max_slice_nums: int | None = None,
        use_image_id: bool | None = None,
    ) -> str:
        """The text that stands for one image: source and slices, each as ``<unk>`` tokens."""
        features = self.unk * self.image_feature_size
        text = f"{self.im_start}{features}{self.im_end}"
        if self.use_image_id if use_image_id is None else use_image_id:
            text = f"{self.im_id_start}{image_idx}{self.im_id_end}{text}"
        grid = self.get_sliced_grid(image_size, max_slice_nums)
        if grid is not None:
            cols, rows = grid
            row = f"{self.slice_start}{features}{self.slice_end}" * cols
            text += "\n" + "\n".join([row] * rows)
        return text

    # --- pixels ---------------------------------------------------------------------

    def slice_image(self, image: Image.Image, max_slice_nums: int | None = None) -> list[Any]:
        """The source image and then the slices, row by row, as resized PIL images."""
        size = image.size
        grid = self.get_sliced_grid(size, max_slice_nums)
        scale, patch = self.scale_resolution, self.patch_size
        source = image.resize(
            best_resize(size, scale, patch, enlarge=grid is None), Image.Resampling.BICUBIC
        )
        if grid is None:
            return [source]
        cols, rows = grid
        refined = image.resize(refined_size(size, grid, scale, patch), Image.Resampling.BICUBIC)
        width, height = refined.size[0] // cols, refined.size[1] // rows
        pieces = [
            refined.crop((c * width, r * height, (c + 1) * width, (r + 1) * height))
            for r in range(rows)
            for c in range(cols)
        ]
        return [source, *pieces]

    def to_patches(self, image: Image.Image) -> torch.Tensor:
        """Normalised pixels laid out as (3, patch, n_patches * patch), patches row-major."""
        array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        mean = np.asarray(self.norm_mean, dtype=np.float32)
        std = np.asarray(self.norm_std, dtype=np.float32)
        chw = ((array - mean) / std).transpose(2, 0, 1)
        p = self.patch_size
        rows, cols = chw.shape[1] // p, chw.shape[2] // p
        patches = chw.reshape(3, rows, p, cols, p).transpose(0, 2, 1, 3, 4)
        return torch.from_numpy(np.ascontiguousarray(patches.reshape(3, p, rows * cols * p)))

    def __call__(
        self,
        images: Any,
        do_pad: bool = True,
        max_slice_nums: int | None = None,
        return_tensors: Any = None,
        **_: Any,
    ) -> BatchFeature:
        """Per prompt: every slice's pixels, each image's (w, h), each slice's patch grid."""
        if isinstance(images, Image.Image):
            images = [[images]]
        elif images and isinstance(images[0], Image.Image):
            images = [list(images)]
        pixel_values: list[list[torch.Tensor]] = []
        image_sizes: list[list[Size]] = []
        tgt_sizes: list[torch.Tensor] = []
        for prompt_images in images:
            slices: list[torch.Tensor] = []
            grids: list[list[int]] = []
            prompt_images = [_as_pil(image) for image in prompt_images]
            for image in prompt_images:
                for piece in self.slice_image(image, max_slice_nums):
                    slices.append(self.to_patches(piece))
                    width, height = piece.size
                    grids.append([height // self.patch_size, width // self.patch_size])
            pixel_values.append(slices)
            image_sizes.append([image.size for image in prompt_images])
            tgt_sizes.append(torch.tensor(grids, dtype=torch.int64).reshape(-1, 2))
        return BatchFeature(
            data={"pixel_values": pixel_values, "image_sizes": image_sizes, "tgt_sizes": tgt_sizes}
        )


__all__ = ["MiniCPMVImageProcessor", "best_resize", "refined_size", "sliced_grid"]
