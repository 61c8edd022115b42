"""A loaded checkpoint (processor + model) and one batched ``generate`` call.

Everything here is plain Transformers: ``AutoProcessor`` with left padding,
the processor's own chat template (batched conversations, so each processor
lays out its images its own way), ``AutoModelForImageTextToText.generate``
with the processor's attention mask, and ``batch_decode``. torch and
transformers are imported only when a model is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlmi.errors import EngineOutOfMemoryError, EngineUnavailableError, InvalidOptionError
from vlmi.plugin import GenerationOptions, Sample
from vlmi_transformers.engine_config import build_generation_config
from vlmi_transformers.prompts import prompt_text, to_conversation, video_inputs
from vlmi_transformers.resolution import merged_kwargs

_DTYPES = ("auto", "float32", "bfloat16", "float16")
_CACHES = ("auto", "dynamic", "static")


@dataclass(frozen=True)
class Placement:
    """Where and how the weights live: device, dtype, KV cache, its length bucket, compilation.

    With the static cache, its length (prompt + new tokens) is rounded up to a
    multiple of ``cache_len_multiple_of``, so the compiled decoding step sees
    one cache shape for many prompt lengths; prompts themselves are not
    padded. ``compiled`` says whether ``generate`` compiles the decoding step:
    on CUDA Transformers does so by itself; on other devices vlmi asks for it.
    """

    device: str
    dtype: str
    cache: str
    cache_len_multiple_of: int | None
    compiled: bool = False


def choose_placement(
    device: str,
    dtype: str,
    cache: str,
    cache_len_multiple_of: int = 64,
    compile: bool | None = None,
) -> Placement:
    """Resolve ``auto`` values: CUDA in bfloat16 with a static cache when present, else CPU fp32.

    ``compile=None`` compiles the decoding step exactly when the cache is
    static on CUDA; True compiles it on any device (on a CPU this needs a C++
    compiler) and implies the static cache; False never compiles.
    """
    import torch

    if dtype not in _DTYPES:
        raise InvalidOptionError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
    if cache not in _CACHES:
        raise InvalidOptionError(f"cache_implementation must be one of {_CACHES}, got {cache!r}")
    if compile and cache == "dynamic":
        raise InvalidOptionError(
            "compile=True needs a static KV cache: drop cache_implementation='dynamic' "
            "or pass cache_implementation='static'"
        )
    has_cuda = torch.cuda.is_available()
    if device == "auto":
        device = "cuda" if has_cuda else "cpu"
    if device.startswith("cuda") and not has_cuda:
        raise EngineUnavailableError(
            f"device={device!r} was asked for but torch sees no CUDA device "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); "
            "pass device='cpu' or install a CUDA build of torch"
        )
    on_cuda = device.startswith("cuda")
    if dtype == "auto":
        dtype = "bfloat16" if on_cuda else "float32"
    if cache == "auto":
        cache = "static" if on_cuda or compile else "dynamic"
    compiled = cache == "static" and (on_cuda if compile is None else compile)
    if compiled and not on_cuda and cpu_compiler() is None:
        raise EngineUnavailableError(
            f"compile=True on {device!r} needs a C++ compiler for torch.compile's CPU code "
            "(g++ on PATH, or the CXX variable): install one, or pass compile=False"
        )
    bucket = cache_len_multiple_of if cache == "static" else None
    return Placement(device, dtype, cache, bucket, compiled)


def cpu_compiler() -> str | None:
    """The C++ compiler torch.compile (inductor) would build CPU code with, if there is one."""
    import os
    import shutil

    return shutil.which(os.environ.get("CXX") or "g++")


class Engine:
    """A processor and a model on one device; :meth:`generate` answers one batch."""

    def __init__(
        self,
        folder: Path,
        placement: Placement,
        attn_implementation: str | None,
        processor_options: tuple[int | None, dict[str, Any] | None] = (None, None),
        native_video: bool = False,
    ) -> None:
        import torch
        from transformers import AutoModelForImageTextToText

        self.placement = placement
        #: whether videos go to the processor as clips (ModelSpec.video == "native")
        self.native_video = native_video
        self.processor = load_processor(folder, *processor_options)
        self.tokenizer = getattr(self.processor, "tokenizer", self.processor)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        load_kwargs: dict[str, Any] = {"dtype": getattr(torch, placement.dtype)}
        if attn_implementation:
            load_kwargs["attn_implementation"] = attn_implementation
        try:
            model = AutoModelForImageTextToText.from_pretrained(folder, **load_kwargs)
            self.model = model.to(placement.device).eval()
        except torch.OutOfMemoryError as exc:
            raise EngineOutOfMemoryError(
                f"out of memory loading {folder} in {placement.dtype} on {placement.device}: "
                "use a smaller model, dtype='bfloat16', or another device"
            ) from exc

    def model_inputs(self, samples: Sequence[Sample]) -> Any:
        """The processor's batched, left-padded tensors for ``samples``, on the model's device.

        Videos of a model that takes clips (``native_video``) go to the processor
        with their frames and metadata; otherwise their frames are image parts.
        """
        if self.native_video and any(s.num_videos for s in samples):
            texts = [prompt_text(self.processor, s, native_video=True) for s in samples]
            inputs = self.processor(
                text=texts, **video_inputs(samples), padding=True, return_tensors="pt"
            )
            return inputs.to(self.model.device)
        inputs = self.processor.apply_chat_template(
            [to_conversation(s) for s in samples],
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            processor_kwargs={"padding": True},
        )
        return inputs.to(self.model.device)

    def generation_config(self, options: GenerationOptions, prompt_length: int) -> Any:
        """The ``GenerationConfig`` of one ``generate`` call: vlmi's options, cache, compilation.

        ``prompt_length`` is the batch's padded prompt length; a static cache
        is sized for it plus ``max_new_tokens``, rounded up to the bucket.
        """
        config = build_generation_config(self.model.generation_config, options)
        bucket = self.placement.cache_len_multiple_of
        if self.placement.cache == "static" and bucket:
            config.cache_implementation = "static"
            config.max_cache_len = -(-(prompt_length + options.max_new_tokens) // bucket) * bucket
            _set_compilation(config, self.placement)
        if config.pad_token_id is None:
            config.pad_token_id = self.tokenizer.pad_token_id
        return config

    def generate_tokens(
        self, samples: Sequence[Sample], options: GenerationOptions
    ) -> list[list[int]]:
        """One ``generate`` call over ``samples`` (same options): the new token ids of each.

        Ids after the first end-of-sequence token (the batch's right padding)
        are dropped.
        """
        import torch

        inputs = self.model_inputs(samples)
        prompt_length = inputs["input_ids"].shape[1]
        config = self.generation_config(options, prompt_length)
        if options.seed is not None:
            torch.manual_seed(options.seed)
        extra: dict[str, Any] = {}
        if options.stop:
            from transformers import StoppingCriteriaList

            from vlmi_transformers.stopping import StopStringsInAnswer

            stop = StopStringsInAnswer(self.tokenizer, options.stop, prompt_length)
            extra["stopping_criteria"] = StoppingCriteriaList([stop])
        with torch.inference_mode():
            output = self.model.generate(**inputs, generation_config=config, **extra)
        new_tokens = output[:, prompt_length:].tolist()
        return [_until_end(row, _end_ids(config)) for row in new_tokens]

    def generate(self, samples: Sequence[Sample], options: GenerationOptions) -> list[str]:
        """One ``generate`` call over ``samples`` (same options); texts in order."""
        rows = self.generate_tokens(samples, options)
        texts = self.tokenizer.batch_decode(rows, skip_special_tokens=True)
        return [options.cut_at_stop(text) for text in texts]

    def close(self) -> None:
        """Drop the weights and free cached GPU memory."""
        import gc

        import torch

        self.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def load_processor(
    folder: Path, max_image_pixels: int | None = None, mm_processor_kwargs: Any = None
) -> Any:
    """``AutoProcessor`` with left padding, the expert's options and the resolution limit.

    With a limit, the processor is loaded once as configured, to learn how it
    resizes, then again with the limit's own options (resolution.py).
    """
    from transformers import AutoProcessor

    expert = dict(mm_processor_kwargs or {})
    try:
        processor = AutoProcessor.from_pretrained(folder, padding_side="left", **expert)
        if max_image_pixels is None:
            return processor
        image_processor = getattr(processor, "image_processor", None)
        if image_processor is None:
            raise InvalidOptionError(
                f"max_image_pixels was given, but {folder} has no image processor to limit"
            )
        chosen = merged_kwargs(image_processor, max_image_pixels, expert)
        return AutoProcessor.from_pretrained(folder, padding_side="left", **chosen)
    except (TypeError, ValueError) as exc:
        if not expert or isinstance(exc, InvalidOptionError):
            raise
        raise InvalidOptionError(
            f"the processor of {folder} refused mm_processor_kwargs={expert}: {exc}"
        ) from exc


def _set_compilation(config: Any, placement: Placement) -> None:
    """Make ``generate`` compile the decoding step exactly when ``placement.compiled``.

    Transformers compiles it by itself only on accelerators (CUDA, XPU, ...);
    ``CompileConfig._compile_all_devices`` is its switch for the other devices.
    """
    from transformers import CompileConfig

    if not placement.compiled:
        config.disable_compile = True
        return
    config.disable_compile = False
    if not placement.device.startswith("cuda"):
        compile_config = CompileConfig()
        compile_config._compile_all_devices = True
        config.compile_config = compile_config


def _end_ids(config: Any) -> set[int]:
    eos = config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    return ids


def _until_end(row: list[int], end_ids: set[int]) -> list[int]:
    """The row up to and including its first end id (what follows is padding)."""
    for position, token in enumerate(row):
        if token in end_ids:
            return row[: position + 1]
    return row


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is torch's out-of-memory error (without importing torch needlessly)."""
    import torch

    return isinstance(exc, torch.OutOfMemoryError)


__all__ = [
    "Engine",
    "Placement",
    "choose_placement",
    "cpu_compiler",
    "is_out_of_memory",
    "load_processor",
]
