"""The model base class every plugin implements (a strategy: one method does the work).

A plugin subclasses :class:`Model`, declares its engine options as a frozen
dataclass ``Options`` and implements :meth:`Model.generate`. Engine plugins
also override :meth:`Model.generate_batch` to hand a whole batch to the
engine (or subclass :class:`BatchedModel`, which answers one sample as a
batch of one). Everything else (input shapes, limits, image loading, option checks,
per-sample errors, result order, video sampling and decoding) is done here, once, for
every plugin.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from vlmi.errors import GenerationError, InvalidOptionError, PluginError, VlmiError

from ._generation import GenerationOptions
from ._images import load_img
from ._options import EngineOptions, LoadOptions
from ._preparing import prepare_batch, prepare_samples
from ._sample import Sample

if TYPE_CHECKING:
    from PIL import Image

    from ._spec import ModelSpec
    from ._video.values import Video, VideoSampling

BatchResult = list["str | VlmiError"]

#: the run's chunk (samples per ``answer_prepared`` call) of a model that states none
DEFAULT_BATCH_SIZE = 8

OptionsT = TypeVar("OptionsT", bound=EngineOptions)


class Model(ABC, Generic[OptionsT]):
    """A loaded vision-language model.

    Built by ``vlmi.load``, which checks the options and calls :meth:`setup`
    once. Subclasses implement :meth:`generate`. A plugin's model is generic
    over its engine options: ``class MyModel(Model[MyOptions])`` with
    ``Options = MyOptions`` makes :attr:`engine_options` a ``MyOptions``.
    """

    Options: ClassVar[type[EngineOptions]] = EngineOptions

    #: the generation options the engine honours (``None``: all of them). A call that sets
    #: another one away from its default fails with InvalidOptionError before the engine
    #: runs, so that no option is ever dropped silently. A class attribute, or set in
    #: :meth:`setup` where it depends on the engine options.
    honours: frozenset[str] | None = None

    def __init__(self, spec: ModelSpec, options: LoadOptions) -> None:
        self.spec = spec
        self.options = options

    @property
    def engine_options(self) -> OptionsT:
        """The engine options ``vlmi.load`` checked, as the class's ``Options`` dataclass."""
        return cast(OptionsT, self.options.engine)

    # --- what a plugin implements -------------------------------------------------

    def setup(self) -> None:
        """Load weights and start the engine. Called once by ``vlmi.load``."""

    @abstractmethod
    def generate(self, sample: Sample, generation: GenerationOptions) -> str:
        """Answer one checked sample whose image parts are loaded RGB PIL images."""

    def generate_batch(
        self, samples: Sequence[Sample], generations: Sequence[GenerationOptions]
    ) -> list[str | BaseException]:
        """Answer many checked samples, in order; an exception stands for a failed one.

        The default loops over :meth:`generate`; engine plugins override it
        with one engine call so that the engine batches.
        """
        results: list[str | BaseException] = []
        for sample, generation in zip(samples, generations):
            try:
                results.append(self.generate(sample, generation))
            except Exception as exc:
                results.append(exc)
        return results

    def map_error(self, exc: BaseException) -> VlmiError | None:
        """The vlmi error for an exception of this model's engine, or ``None`` (not known).

        Override it to tell failures of the moment from failures of the
        sample: map the engine's own exceptions onto
        :class:`~vlmi.errors.EngineGoneError` (its process died),
        :class:`~vlmi.errors.EngineTimeoutError`,
        :class:`~vlmi.errors.EngineConnectionError` (refused, reset, busy) or
        another :class:`~vlmi.errors.TransientError`, so that ``vlmi run`` stops
        when the engine is gone and ``--retry-failed`` answers those samples
        again. Every exception of ``generate``/``generate_batch`` (and every
        chunk of :func:`~vlmi.plugin.run_chunked` given ``map_error=``) passes
        here; one left unmapped becomes a :class:`~vlmi.errors.GenerationError`.
        The conformance kit checks it with the examples a plugin's test declares
        (``ModelConformance.engine_errors``).
        """
        return None

    def load_img(self, src: Any) -> Image.Image:
        """Load one image input as an RGB PIL image; override for model-specific handling."""
        return load_img(src)

    def load_video(self, video: Video) -> tuple[tuple[Image.Image, ...], VideoSampling]:
        """The sampled frames of a video and what was sampled (see :func:`vlmi.plugin.load_video`).

        The video's own sampling options win over the model's defaults
        (:attr:`video_sampling`); :attr:`max_frames` caps them. An engine option
        ``max_video_pixels`` (when the plugin's options have one) shrinks each
        frame, its aspect ratio kept, to at most that many pixels. Override it for
        model-specific handling; keep calling :func:`vlmi.plugin.load_video`.
        """
        from ._video.frames import fit_frames
        from ._video.load import load_video

        frames, sampling = load_video(
            video, default=self.video_sampling, max_frames=self.max_frames
        )
        budget = getattr(self.engine_options, "max_video_pixels", None)
        return (fit_frames(frames, budget) if budget else frames), sampling

    def close(self) -> None:
        """Release the engine (GPU memory, worker processes)."""

    # --- what users call ----------------------------------------------------------

    @property
    def name(self) -> str:
        """The model's canonical name."""
        return self.spec.name

    @property
    def max_images(self) -> int | None:
        """Most images one sample may hold (None: no limit)."""
        return self.spec.max_images

    @property
    def video(self) -> str | None:
        """How the model takes video: ``"native"``, ``"frames"`` or ``None`` (not at all)."""
        return self.spec.video

    @property
    def max_frames(self) -> int | None:
        """Most frames one video may give the model (None: no limit)."""
        return self.spec.max_frames

    @property
    def video_sampling(self) -> dict[str, Any]:
        """The model's default video sampling (``ModelSpec.video_sampling``)."""
        return dict(self.spec.video_sampling)

    @property
    def preferred_batch_size(self) -> int:
        """Samples a run hands the model at once when it is given no chunk size.

        ``vlmi run`` without ``-b`` (``vlmi.run(batch_size=None)``) reads the input in
        chunks of this many samples, and each chunk is one :meth:`answer_prepared` call,
        so it caps what the engine sees at once. 8 here (an engine that answers one
        sample at a time gains nothing from more); an engine that batches overrides it
        from its options, e.g. vLLM's ``max_num_seqs`` or an endpoint's concurrency.
        Read from a described model too (``vlmi.plugin.describe_model``): it must not
        need :meth:`setup`.
        """
        return DEFAULT_BATCH_SIZE

    @property
    def images_first(self) -> bool:
        """Whether ``eval(query, imgs)`` puts the images before the query."""
        return self.spec.images_first

    def eval(
        self, query: str | None = None, imgs: Any = None, videos: Any = None, **generation: Any
    ) -> str:
        """Answer one sample: text only, images, videos, or both.

        :param query: the question (may be omitted when images or videos are given).
        :param imgs: ``None``, one image input, or a list of them (paths, URLs,
            data URIs, base64, bytes, PIL images, numpy arrays).
        :param videos: ``None``, one video input, or a list of them: a
            :class:`vlmi.Video` (a source and how to sample it), or a source alone (a
            path, URL, data URI, bytes or frame folder: the model's default sampling).
        :param generation: generation options for this call (see
            :class:`vlmi.GenerationOptions`).
        :raises vlmi.errors.VlmiError: a typed error naming the fix.
        """
        options = self.options.generation.merged(generation)
        sample = Sample.from_query(query, imgs, images_first=self.spec.images_first, videos=videos)
        (prepared,) = prepare_samples(self, [sample])
        if isinstance(prepared, VlmiError):
            raise prepared
        refused = self._refused(options)
        if refused is not None:
            raise refused
        try:
            return self.generate(prepared, options)
        except VlmiError:
            raise
        except Exception as exc:
            mapped = self._mapped(exc)
            if mapped is not None:
                raise mapped from exc
            raise GenerationError(f"{self.name} failed on this sample: {exc!r}") from exc

    def eval_batch(self, samples: Iterable[Any], **generation: Any) -> BatchResult:
        """Answer many samples; results in input order.

        Each item may be a str, a ``(query, imgs)`` tuple, a dict with
        ``query``/``imgs``/``generation``, a message list or a
        :class:`vlmi.Sample`. A bad item gets a :class:`vlmi.errors.VlmiError`
        in its slot (with ``sample_index`` set); the others complete.
        """
        base = self.options.generation.merged(generation)
        prepared = prepare_batch(self, list(samples), base)
        return self.answer_prepared(prepared.samples, prepared.generations)

    def answer_prepared(
        self,
        samples: Sequence[Sample | VlmiError],
        generations: Sequence[GenerationOptions | None],
    ) -> BatchResult:
        """Answer samples that are already parsed, checked and loaded (the runner's path).

        An error in ``samples`` is that slot's answer; every other slot goes
        to :meth:`generate_batch` in one call. Each slot gets its answer or a
        :class:`~vlmi.errors.VlmiError` with ``sample_index`` set.
        """
        results: list[str | VlmiError | None] = [None] * len(samples)
        ready: list[tuple[int, Sample, GenerationOptions]] = []
        for index, (sample, generation) in enumerate(zip(samples, generations)):
            if isinstance(sample, VlmiError):
                results[index] = _in_slot(sample, index)
            elif generation is None:
                results[index] = _in_slot(PluginError("no generation options given"), index)
            elif (refused := self._refused(generation)) is not None:
                results[index] = _in_slot(refused, index)
            else:
                ready.append((index, sample, generation))
        if ready:
            outputs = self._generate_guarded([s for _, s, _ in ready], [g for _, _, g in ready])
            for (index, _, _), output in zip(ready, outputs):
                if not isinstance(output, (str, BaseException)):
                    output = PluginError(
                        f"{type(self).__name__}.generate_batch gave {type(output).__name__} for a "
                        "sample instead of a str or an exception (a bug in the plugin)"
                    )
                if isinstance(output, BaseException) and not isinstance(output, VlmiError):
                    output = self._mapped(output) or output
                results[index] = output if isinstance(output, str) else _in_slot(output, index)
        return [
            result
            if result is not None
            else _in_slot(GenerationError("this sample was left without an answer"), index)
            for index, result in enumerate(results)
        ]

    # --- internals ----------------------------------------------------------------

    def _refused(self, generation: GenerationOptions) -> InvalidOptionError | None:
        dropped = generation.unhonoured(self.honours)
        if not dropped:
            return None
        honoured = ", ".join(sorted(self.honours or ()))
        return InvalidOptionError(
            f"{self.name} ({self.spec.engine}) cannot honour {', '.join(dropped)}: it honours "
            f"{honoured}; leave the others at their defaults"
        )

    def _mapped(self, exc: BaseException) -> VlmiError | None:
        """:meth:`map_error`'s answer, with ``exc`` as its cause; a failing mapping is a bug."""
        try:
            mapped = self.map_error(exc)
        except Exception as bug:
            return PluginError(
                f"{type(self).__name__}.map_error failed on {exc!r}: {bug!r} (a bug in the plugin)"
            )
        if mapped is not None and mapped.__cause__ is None and mapped is not exc:
            mapped.__cause__ = exc
        return mapped

    def _generate_guarded(
        self, samples: list[Sample], generations: list[GenerationOptions]
    ) -> list[str | BaseException]:
        try:
            outputs = self.generate_batch(samples, generations)
        except Exception as exc:
            return [exc] * len(samples)
        if not isinstance(outputs, Sequence) or len(outputs) != len(samples):
            error = PluginError(
                f"{type(self).__name__}.generate_batch returned {_count(outputs)} results for "
                f"{len(samples)} samples (a bug in the plugin)"
            )
            return [error] * len(samples)
        return list(outputs)

    def __enter__(self) -> Model[OptionsT]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} engine={self.spec.engine}>"


class BatchedModel(Model[OptionsT]):
    """A model whose engine takes whole batches (vLLM, LMDeploy, ...).

    Implement :meth:`generate_batch` with one engine call; :meth:`generate`
    is a batch of one.
    """

    @abstractmethod
    def generate_batch(
        self, samples: Sequence[Sample], generations: Sequence[GenerationOptions]
    ) -> list[str | BaseException]:
        """Answer many checked samples with one engine call, in order; exceptions in slots."""

    def generate(self, sample: Sample, generation: GenerationOptions) -> str:
        """Answer one sample as a batch of one."""
        (result,) = self.generate_batch([sample], [generation])
        if isinstance(result, BaseException):
            raise result
        return result


def _count(outputs: Any) -> str:
    return str(len(outputs)) if isinstance(outputs, Sequence) else f"a {type(outputs).__name__}"


def _in_slot(error: BaseException, index: int) -> VlmiError:
    if not isinstance(error, VlmiError):
        wrapped = GenerationError(f"sample {index} failed: {error!r}")
        wrapped.__cause__ = error
        error = wrapped
    else:
        # one error object per slot, even if the plugin reused one for several samples
        try:
            clone = type(error).__new__(type(error))
        except TypeError:  # two built-in bases (VideoNotFoundError: ValueError and OSError)
            clone = copy.copy(error)
        clone.__dict__.update(error.__dict__)
        clone.args = error.args
        clone.__cause__ = error.__cause__
        error = clone
    error.sample_index = index
    return error


__all__ = ["DEFAULT_BATCH_SIZE", "BatchedModel", "Model"]
