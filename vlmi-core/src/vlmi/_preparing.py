"""From what users give to what a model answers: parse, check limits, load images and videos.

:func:`prepare_batch` is the one path every caller takes (``eval_batch``,
the local runner, the Ray decoding stage, ``vlmi serve``): each item is
parsed into a :class:`~vlmi.Sample` with its merged generation options,
checked against the model's limits, and its images are loaded. Image
decoding (Pillow releases the GIL while it decodes) runs on several threads
(``VLMI_IMAGE_WORKERS``: the calling one and a pool's), so a batch of JPEGs is
ready sooner than one file after another (16 1500x1000 JPEGs on 2 cores:
148 ms against 249 ms); videos are sampled and decoded the same way (PyAV
releases the GIL too). The pool lives as long as the process
(:func:`shared_pool`), and each thread takes the next file until none is left:
a call of ``eval_batch`` pays neither for starting threads nor for a hand-off
per image. An item that fails becomes its error, in its slot; the others go on.
:meth:`vlmi.Model.answer_prepared` then answers the ready slots.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from vlmi.errors import (
    InvalidSampleError,
    TooManyImagesError,
    VideoNotSupportedError,
    VlmiError,
)

from ._generation import GenerationOptions
from ._images import describe, is_pil_image
from ._sample import ImagePart, Sample, VideoPart, as_sample
from ._spec import video_takers

if TYPE_CHECKING:
    from PIL import Image

    from ._video.values import Video, VideoSampling


P = TypeVar("P")
R = TypeVar("R")


class ImageTaker(Protocol):
    """What preparing needs of a model: its name, limits, image order and loaders."""

    @property
    def name(self) -> str: ...

    @property
    def max_images(self) -> int | None: ...

    @property
    def images_first(self) -> bool: ...

    @property
    def video(self) -> str | None: ...

    def load_img(self, src: Any) -> Image.Image: ...

    def load_video(self, video: Video) -> tuple[tuple[Image.Image, ...], VideoSampling]: ...


@dataclass(frozen=True)
class Prepared:
    """A batch made ready for :meth:`vlmi.Model.answer_prepared`, slot for slot.

    ``samples[i]`` is a checked sample with loaded images, or the error that
    item met; ``generations[i]`` its merged options (``None`` for an error).
    """

    samples: list[Sample | VlmiError]
    generations: list[GenerationOptions | None]


def parse_item(
    item: Any, base: GenerationOptions, *, images_first: bool = True, where: str = ""
) -> tuple[Sample, GenerationOptions] | VlmiError:
    """One item as a sample and its options (``base`` merged with the item's own), or its error.

    :param where: a prefix for the message of an unreadable item (e.g. ``"line 3: "``).
    """
    if isinstance(item, VlmiError):
        return item
    try:
        sample = as_sample(item, images_first=images_first)
        return sample, base.merged(sample.generation)  # a bad option fails this item only
    except VlmiError as exc:
        return exc
    except Exception as exc:  # a malformed item must not lose the batch
        return InvalidSampleError(f"{where}cannot read this sample: {exc!r}")


def prepare_batch(
    model: ImageTaker,
    items: Sequence[Any],
    base: GenerationOptions,
    *,
    ids: Sequence[str] | None = None,
    where: Sequence[str] | None = None,
    executor: Executor | None = None,
) -> Prepared:
    """Parse, check and load every item; an item that is a ``VlmiError`` stays one.

    :param ids: the sample id of each slot (a run's record ids), if any.
    :param where: a message prefix per slot for unreadable items.
    :param executor: the thread pool that decodes images (default: one for this call).
    """
    parsed = [
        parse_item(item, base, images_first=model.images_first, where=where[i] if where else "")
        for i, item in enumerate(items)
    ]
    candidates = [
        entry[0] if ids is None else entry[0].with_id(ids[i])
        for i, entry in enumerate(parsed)
        if not isinstance(entry, VlmiError)
    ]
    loaded = iter(prepare_samples(model, candidates, executor=executor))
    samples: list[Sample | VlmiError] = []
    generations: list[GenerationOptions | None] = []
    for entry in parsed:
        if isinstance(entry, VlmiError):
            samples.append(entry)
            generations.append(None)
            continue
        sample = next(loaded)
        samples.append(sample)
        generations.append(entry[1] if isinstance(sample, Sample) else None)
    return Prepared(samples, generations)


def default_workers() -> int:
    """Threads used to decode images (``VLMI_IMAGE_WORKERS``, default min(8, cores))."""
    configured = os.environ.get("VLMI_IMAGE_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, min(8, os.cpu_count() or 1))


_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def shared_pool(workers: int) -> ThreadPoolExecutor:
    """This process's decoding pool of ``workers`` threads, started on first use.

    Keyed by process id too: a forked child never waits on its parent's threads.
    """
    key = (os.getpid(), workers)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="vlmi-decode"
            )
        return pool


def check_limits(model: ImageTaker, sample: Sample) -> None:
    """Raise TooManyImagesError (VideoNotSupportedError) past the model's declared limits."""
    if sample.num_videos and not model.video:
        takers = video_takers()
        named = (
            f"installed models that take video: {', '.join(takers)}"
            if takers
            else "no installed model takes video (vlmi models --json lists each one's 'video')"
        )
        raise VideoNotSupportedError(
            f"model {model.name!r} does not take video, and this sample holds "
            f"{sample.num_videos}; pick a model that does ({named}), or give frames as images"
        )
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
    model: ImageTaker,
    samples: Sequence[Sample],
    *,
    workers: int | None = None,
    executor: Executor | None = None,
) -> list[Sample | VlmiError]:
    """Check each sample and load its images and videos; a failed sample becomes its error."""
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
        (i, j, part)
        for i, sample in enumerate(checked)
        if isinstance(sample, Sample)
        for j, part in enumerate(sample.parts)
        if isinstance(part, (ImagePart, VideoPart)) and not part.loaded
    ]
    if not jobs:
        return checked
    loaded = _load_all(model, [part for _, _, part in jobs], workers, executor)
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
        parts = [images.get(j, part) for j, part in enumerate(current.parts)]
        checked[i] = current.with_parts(parts)
    return checked


def _load_all(
    model: ImageTaker,
    parts: list[ImagePart | VideoPart],
    workers: int | None,
    executor: Executor | None,
) -> list[ImagePart | VideoPart | VlmiError]:
    def load_one(part: ImagePart | VideoPart) -> ImagePart | VideoPart | VlmiError:
        try:
            if isinstance(part, VideoPart):
                frames, sampling = model.load_video(part.source)
                return VideoPart(part.source, tuple(frames), sampling)
            return ImagePart(part.source, model.load_img(part.source))
        except VlmiError as exc:
            return exc
        except Exception as exc:  # a plugin's own loader failing in its own way
            what = "video" if isinstance(part, VideoPart) else "image"
            return InvalidSampleError(
                f"{what} {describe(part.source)} could not be loaded: {exc!r}"
            )

    # a PIL image has nothing left to decode: handing it to a thread costs more than it saves
    ready = [isinstance(part, ImagePart) and is_pil_image(part.source) for part in parts]
    loaded: list[ImagePart | VideoPart | VlmiError | None] = [
        load_one(part) if is_ready else None for part, is_ready in zip(parts, ready)
    ]
    to_decode = [k for k, is_ready in enumerate(ready) if not is_ready]
    pending = [parts[k] for k in to_decode]
    count = workers if workers is not None else default_workers()
    if executor is not None:
        decoded = list(executor.map(load_one, pending))
    elif count <= 1 or len(pending) <= 1:
        decoded = [load_one(part) for part in pending]
    else:
        decoded = _share_out(load_one, pending, count)
    for k, result in zip(to_decode, decoded):
        loaded[k] = result
    return [result for result in loaded if result is not None]


def _share_out(load: Callable[[P], R], parts: list[P], count: int) -> list[R]:
    """``load`` each part on ``count`` threads: this one and ``count - 1`` of the pool.

    Each thread takes the next part until none is left, so a big image does not hold
    up a queue behind it, and a batch costs ``count - 1`` hand-offs instead of one per
    part (handing a small image to a thread costs as much as decoding it).
    """
    results: list[Any] = [None] * len(parts)  # each slot is filled before the return
    order = iter(range(len(parts)))
    lock = threading.Lock()

    def take_turns() -> None:
        while True:
            with lock:
                k = next(order, None)
            if k is None:
                return
            results[k] = load(parts[k])

    pool = shared_pool(count - 1)
    helpers = [pool.submit(take_turns) for _ in range(min(count, len(parts)) - 1)]
    take_turns()
    for helper in helpers:
        helper.result()
    return cast("list[R]", results)


__all__ = [
    "ImageTaker",
    "Prepared",
    "check_limits",
    "default_workers",
    "parse_item",
    "prepare_batch",
    "prepare_samples",
    "shared_pool",
]
