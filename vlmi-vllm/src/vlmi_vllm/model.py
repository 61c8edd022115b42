"""Any VLM vLLM runs: one ``LLM.generate`` call per batch, vLLM batches continuously.

The engine is ``vllm.LLM(**llm_kwargs(...))``, built by :meth:`VllmModel.setup`
on a CUDA GPU or on vLLM's CPU backend (the ``vllm-cpu`` distribution). The
checkpoint's architecture is checked from its ``config.json`` first
(:mod:`vlmi_vllm.resolving`); everything before the engine (options,
prompts, stop ids, ``SamplingParams``) and after it (results in order, errors
in their slots) is plain Python.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlmi.errors import (
    EngineUnavailableError,
    InvalidOptionError,
    InvalidSampleError,
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
from vlmi_vllm.architectures import CHAT_TEMPLATE
from vlmi_vllm.engine_config import DEFAULT_MAX_NUM_SEQS, llm_kwargs, sampling_params
from vlmi_vllm.engine_errors import engine_start_error, run_error
from vlmi_vllm.prompts import build_request, stop_token_ids, system_message
from vlmi_vllm.resolving import (
    THINKING_SWITCH,
    check_checkpoint,
    check_thinking_switch,
    default_max_model_len,
    image_processor_config,
    read_config,
    read_json,
)
from vlmi_vllm.vllm_cpu import on_vllm_cpu

#: a request ready for vLLM: (prompt dict, SamplingParams)
Ready = tuple[dict[str, Any], Any]


@dataclass(frozen=True)
class VllmOptions(EngineOptions):
    """vLLM engine options of ``vlmi.load`` (see engine_config for the mapping).

    :param tp: tensor-parallel size (GPUs per model).
    :param max_model_len: context length; None = the checkpoint's own, capped at 32768.
    :param trust_remote_code: run the checkpoint's own Python code (``auto_map``);
        the user's opt-in, except for curated remote-code models.
    :param max_image_pixels: the most pixels an image may keep after the model's
        own resizing (None = the model's default); refused by architectures
        that resize every image to one fixed size.
    :param max_video_pixels: the most pixels each sampled video frame may keep: larger
        frames are shrunk (aspect ratio kept) before vLLM's processor, which may
        shrink them further by its own rules (None = the frames as decoded).
    :param mm_processor_kwargs: the model's own processor options, passed to
        vLLM as they are (for experts; merged over ``max_image_pixels``).
    :param batch_size: most samples handed to one ``LLM.generate`` call; bounds
        host memory for decoded images, vLLM schedules within the call.
    :param enable_thinking: the chat template's thinking switch, for models whose
        template reads ``enable_thinking`` (MiniCPM-V-4.5, Qwen3-based ones):
        False answers directly, True reasons first (``<think>...</think>``);
        None leaves the template's own default. Refused for a template
        without the switch. The curated ``minicpm-v-4.5`` defaults to False,
        as the authors' ``chat()`` does.
    """

    tp: int = 1
    max_model_len: int | None = None
    gpu_memory_utilization: float | None = None
    kv_cache_memory_bytes: int | None = None
    dtype: str = "auto"
    max_num_seqs: int | None = None
    enforce_eager: bool | None = None
    trust_remote_code: bool = False
    max_image_pixels: int | None = None
    max_video_pixels: int | None = None
    mm_processor_kwargs: dict[str, Any] | None = None
    batch_size: int = 512
    enable_thinking: bool | None = None

    def __post_init__(self) -> None:
        for name in (
            "tp",
            "max_num_seqs",
            "batch_size",
            "max_model_len",
            "max_image_pixels",
            "max_video_pixels",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InvalidOptionError(f"{name} must be >= 1, got {value}")
        if self.kv_cache_memory_bytes is not None and self.kv_cache_memory_bytes < 1:
            raise InvalidOptionError(
                f"kv_cache_memory_bytes must be >= 1, got {self.kv_cache_memory_bytes}"
            )
        extra = self.mm_processor_kwargs
        if isinstance(extra, str):  # from the command line: a JSON object
            try:
                extra = json.loads(extra)
            except ValueError:
                extra = "not JSON"
            object.__setattr__(self, "mm_processor_kwargs", extra)
        if extra is not None and not isinstance(extra, Mapping):
            raise InvalidOptionError(
                "mm_processor_kwargs must be a dict (on the command line a JSON object, "
                "e.g. -O mm_processor_kwargs='{\"max_pixels\": 401408}')"
            )


class VllmModel(BatchedModel[VllmOptions]):
    """A checkpoint of any architecture in vlmi_vllm.architectures, on vLLM."""

    Options = VllmOptions
    llm: Any = None
    template_owner: Any = None
    #: the system turn the model's own chat() sends (InternVL's remote-code checkpoints)
    system: str | None = None
    #: the chat template's variables (the thinking switch, when set)
    template_kwargs: dict[str, Any]
    stop_ids: list[int]

    @property
    def preferred_batch_size(self) -> int:
        """``max_num_seqs`` (256): a run's chunk is as many requests as vLLM schedules at once."""
        return self.engine_options.max_num_seqs or DEFAULT_MAX_NUM_SEQS

    def setup(self) -> None:
        """Check the platform and the checkpoint, start vLLM, load the chat template's owner."""
        cpu = _platform_is_cpu()
        opts = self.engine_options
        folder = Path(resolve_weights(self.spec, self.options.weights))
        self.arch = check_checkpoint(folder, self.name, opts.trust_remote_code)
        self.folder = folder
        self.template_kwargs = {}
        if opts.enable_thinking is not None:
            check_thinking_switch(folder, self.name)
            self.template_kwargs = {THINKING_SWITCH: opts.enable_thinking}
        config = read_config(folder) or {}
        self.system = system_message(self.arch, config)
        kwargs = llm_kwargs(
            str(folder),
            opts,
            self.arch,
            self.spec.max_images,
            opts.max_model_len or default_max_model_len(config),
            image_processor_config(folder),
            config,
            cpu=cpu,
        )
        from vllm import LLM

        try:
            llm = LLM(**kwargs)
        except Exception as exc:
            raise engine_start_error(exc, self.name, kwargs, cpu) from exc
        self.attach(llm)

    def attach(self, llm: Any) -> None:
        """Use a started engine: its tokenizer, the processor whose template applies, stop ids."""
        self.llm = llm
        tokenizer = llm.get_tokenizer()
        self.template_owner = tokenizer
        if self.arch.prompt == CHAT_TEMPLATE:
            from transformers import AutoProcessor

            processor = AutoProcessor.from_pretrained(
                self.folder, trust_remote_code=self.engine_options.trust_remote_code
            )
            if getattr(processor, "chat_template", None):
                self.template_owner = processor
        generation = read_json(self.folder / "generation_config.json")
        self.stop_ids = stop_token_ids(self.arch, tokenizer, generation)

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
            request = build_request(
                self.arch, self.template_owner, sample, self.template_kwargs, self.system
            )
            return request, params

        return run_built(
            list(zip(samples, generations)),
            build,
            self._run,
            batch_size=self.engine_options.batch_size,
            is_out_of_memory=_is_out_of_memory,
            oom_hint="lower max_model_len, max_image_pixels or the number of images",
            label=self.name,
            map_error=self.map_error,
        )

    def map_error(self, exc: BaseException) -> VlmiError | None:
        """vLLM's dead engine core as ``EngineGoneError`` (see engine_errors.run_error)."""
        return run_error(exc, self.name)

    def _run(self, chunk: list[Ready]) -> list[str]:
        try:
            outputs = self.llm.generate(
                [request for request, _ in chunk],
                sampling_params=[params for _, params in chunk],
                use_tqdm=len(chunk) > 1 and not progress_shown(),
            )
        except Exception as exc:
            text = str(exc)
            if any(p in text for p in ("maximum context length", "maximum model length")):
                raise InvalidSampleError(
                    f"this prompt (its text and image tokens) is longer than {self.name}'s "
                    f"context: load it with a larger max_model_len, or send less text, fewer "
                    f"or smaller images (max_image_pixels); vLLM says: {exc}"
                ) from exc
            raise
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

    vLLM 0.32's ``LLM`` has no ``shutdown()`` of its own; its engine client
    (``llm.llm_engine.engine_core``) has, and ends the engine-core process.
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
        raise EngineUnavailableError(
            f"vLLM is not installed ({exc}); install it: pip install vlmi-vllm (CUDA), or "
            "vllm-cpu as vlmi's docs/install.md says (CPU)"
        ) from exc
    if not cpu:
        try:
            require_cuda("vLLM")
        except EngineUnavailableError as exc:
            raise EngineUnavailableError(
                f"{exc}; or, on a CPU, install vLLM's CPU backend (vllm-cpu) as "
                "vlmi's docs/install.md says"
            ) from None
    return cpu


def _is_out_of_memory(exc: BaseException) -> bool:
    return is_out_of_memory(
        exc, (*OUT_OF_MEMORY_PHRASES, "no available memory for the cache blocks")
    )


__all__ = ["VllmModel", "VllmOptions", "shutdown_engine"]
