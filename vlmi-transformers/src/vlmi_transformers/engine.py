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
from vlmi.generation import GenerationOptions
from vlmi.sample import Sample
from vlmi_transformers.generation_mapping import build_generation_config, cut_at_stop
from vlmi_transformers.prompts import to_conversation

_DTYPES = ("auto", "float32", "bfloat16", "float16")
_CACHES = ("auto", "dynamic", "static")


@dataclass(frozen=True)
class Placement:
    """Where and how the weights live: device, dtype name, KV-cache kind, prompt padding."""

    device: str
    dtype: str
    cache: str
    pad_to_multiple_of: int | None


def choose_placement(
    device: str, dtype: str, cache: str, pad_to_multiple_of: int | None
) -> Placement:
    """Resolve ``auto`` values: CUDA in bfloat16 with a static cache when present, else CPU fp32."""
    import torch

    if dtype not in _DTYPES:
        raise InvalidOptionError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
    if cache not in _CACHES:
        raise InvalidOptionError(f"cache_implementation must be one of {_CACHES}, got {cache!r}")
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
        cache = "static" if on_cuda else "dynamic"
    if pad_to_multiple_of is None and cache == "static":
        # bucket prompt lengths so the compiled static-cache graph is reused
        pad_to_multiple_of = 64
    return Placement(device, dtype, cache, pad_to_multiple_of or None)


class Engine:
    """A processor and a model on one device; :meth:`generate` answers one batch."""

    def __init__(self, folder: Path, placement: Placement, attn_implementation: str | None) -> None:
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.placement = placement
        self.processor = AutoProcessor.from_pretrained(folder, padding_side="left")
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
        """The processor's batched, left-padded tensors for ``samples``, on the model's device."""
        processor_kwargs: dict[str, Any] = {"padding": True}
        if self.placement.pad_to_multiple_of:
            processor_kwargs["pad_to_multiple_of"] = self.placement.pad_to_multiple_of
        inputs = self.processor.apply_chat_template(
            [to_conversation(s) for s in samples],
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            processor_kwargs=processor_kwargs,
        )
        return inputs.to(self.model.device)

    def generate_tokens(
        self, samples: Sequence[Sample], options: GenerationOptions
    ) -> list[list[int]]:
        """One ``generate`` call over ``samples`` (same options): the new token ids of each.

        Ids after the first end-of-sequence token (the batch's right padding)
        are dropped.
        """
        import torch

        inputs = self.model_inputs(samples)
        config = build_generation_config(self.model.generation_config, options)
        if self.placement.cache == "static":
            config.cache_implementation = "static"
        if config.pad_token_id is None:
            config.pad_token_id = self.tokenizer.pad_token_id
        if options.seed is not None:
            torch.manual_seed(options.seed)
        extra: dict[str, Any] = {"tokenizer": self.tokenizer} if options.stop else {}
        with torch.inference_mode():
            output = self.model.generate(**inputs, generation_config=config, **extra)
        new_tokens = output[:, inputs["input_ids"].shape[1] :].tolist()
        return [_until_end(row, _end_ids(config)) for row in new_tokens]

    def generate(self, samples: Sequence[Sample], options: GenerationOptions) -> list[str]:
        """One ``generate`` call over ``samples`` (same options); texts in order."""
        rows = self.generate_tokens(samples, options)
        texts = self.tokenizer.batch_decode(rows, skip_special_tokens=True)
        return [cut_at_stop(text, options.stop) for text in texts]

    def close(self) -> None:
        """Drop the weights and free cached GPU memory."""
        import gc

        import torch

        self.model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


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


__all__ = ["Engine", "Placement", "choose_placement", "is_out_of_memory"]
