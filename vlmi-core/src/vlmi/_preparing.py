"""Check samples against a model's limits and load their images, in parallel.

Image decoding (Pillow releases the GIL while it decodes) runs in a thread
pool, so a batch of JPEGs is ready sooner than one file after another. A
sample whose check or image fails becomes its error; the others go on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from vlmi.errors import InvalidSampleError, TooManyImagesError, VlmiError

from ._images import describe
from ._sample import ImagePart, Sample

if TYPE_CHECKING:
    from ._model import Model


def default_workers() -> int:
    """Threads used to decode images (``VLMI_IMAGE_WORKERS``, default min(8, cores))."""
    configured = os.environ.get("VLMI_IMAGE_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, min(8, os.cpu_count() or 1))


def check_limits(model: Model[Any], sample: Sample) -> None:
    """Raise TooManyImagesError when the sample exceeds the model's declared limits."""
    limit = model.max_images
    count = sample.num_images
    if limit is not None and count > limit:
        if limit == 0:
            raise TooManyImagesError(
                f"model {model.name!r} is text-only; this sample has {count} image(s)"
            )
        raise TooManyImagesError(
            f"model {model.name!r} takes at most {limit} image(s) per sample, this one has "
            f"{count}; split the sample or pick a model with a higher limit"
        )


def prepare_samples(
    model: Model[Any],
    samples: Sequence[Sample],
    *,
    workers: int | None = None,
    executor: Executor | None = None,
) -> list[Sample | VlmiError]:
    """Check each sample and load its images; a failed sample becomes its error."""
    checked: list[Sample | VlmiError] = []
    for sample in samples:
        try:
            if not sample.parts:
                raise InvalidSampleError("the sample has no content parts")
            check_limits(model, sample)
            checked.append(sample)
        except VlmiError as exc:
            checked.append(exc)
    jobs = [
        (i, j, part.source)
        for i, sample in enumerate(checked)
        if isinstance(sample, Sample)
        for j, part in enumerate(sample.parts)
        if isinstance(part, ImagePart) and not part.loaded
    ]
    if not jobs:
        return checked
    loaded = _load_all(model, [src for _, _, src in jobs], workers, executor)
    per_sample: dict[int, dict[int, Any]] = {}
    for (i, j, _), image in zip(jobs, loaded):
        per_sample.setdefault(i, {})[j] = image
    for i, images in per_sample.items():
        current = checked[i]
        assert isinstance(current, Sample)
        error = next((img for img in images.values() if isinstance(img, VlmiError)), None)
        if error is not None:
            checked[i] = error
            continue
        parts = [
            ImagePart(part.source, images[j])
            if isinstance(part, ImagePart) and j in images
            else part
            for j, part in enumerate(current.parts)
        ]
        checked[i] = current.with_parts(parts)
    return checked


def _load_all(
    model: Model[Any], sources: list[Any], workers: int | None, executor: Executor | None
) -> list[Any]:
    def load_one(src: Any) -> Any:
        try:
            return model.load_img(src)
        except VlmiError as exc:
            return exc
        except Exception as exc:  # a plugin's own load_img failing in its own way
            return InvalidSampleError(f"image {describe(src)} could not be loaded: {exc!r}")

    count = workers if workers is not None else default_workers()
    if executor is not None:
        return list(executor.map(load_one, sources))
    if count <= 1 or len(sources) == 1:
        return [load_one(src) for src in sources]
    with ThreadPoolExecutor(max_workers=min(count, len(sources))) as pool:
        return list(pool.map(load_one, sources))


__all__ = ["check_limits", "default_workers", "prepare_samples"]
