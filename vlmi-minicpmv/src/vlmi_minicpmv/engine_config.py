"""vlmi options mapped onto vLLM: ``LLM`` keyword arguments and ``SamplingParams``.

``LLM(**llm_kwargs(...))``:

===========================  =================================================
vlmi                         vLLM
===========================  =================================================
weights folder               ``model``
(always)                     ``trust_remote_code=True`` (MiniCPM-V ships code)
``max_model_len``            ``max_model_len``
model's ``max_images``       ``limit_mm_per_prompt={"image": max_images}``
``dtype``                    ``dtype``
``tensor_parallel_size``     ``tensor_parallel_size``
``gpu_memory_utilization``   ``gpu_memory_utilization``
``max_num_seqs``             ``max_num_seqs``
``enforce_eager``            ``enforce_eager``
``max_slice_nums``           ``mm_processor_kwargs={"max_slice_nums": ...}``
(always)                     ``generation_config="vllm"``: the checkpoint's
                             generation_config.json never changes an option
===========================  =================================================

``SamplingParams(**sampling_kwargs(...))`` is always complete (vLLM's own
defaults are 16 tokens at temperature 1.0):

==================  ==================================================
vlmi                vLLM
==================  ==================================================
``max_new_tokens``  ``max_tokens``
``temperature``     ``temperature`` (0 = greedy)
``top_p``           ``top_p``
``top_k``           ``top_k`` (None -> 0, all tokens)
``seed``            ``seed`` (per request)
``stop``            ``stop`` (the text is cut before the stop string)
(always)            ``stop_token_ids`` = ids of ``<|im_end|>``, ``<|endoftext|>``;
                    ``n=1``, ``repetition_penalty=1.0``, ``min_p=0``,
                    ``skip_special_tokens=True``
==================  ==================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vlmi.errors import InvalidOptionError
from vlmi.plugin import GenerationOptions

DTYPES = ("auto", "bfloat16", "float16", "float32")


def llm_kwargs(folder: str, options: Any, max_images: int | None) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM`` for a weights folder and MiniCPMVOptions."""
    if options.dtype not in DTYPES:
        raise InvalidOptionError(f"dtype must be one of {DTYPES}, got {options.dtype!r}")
    if not 0.0 < options.gpu_memory_utilization <= 1.0:
        raise InvalidOptionError(
            f"gpu_memory_utilization must be in (0, 1], got {options.gpu_memory_utilization}"
        )
    kwargs: dict[str, Any] = {
        "model": folder,
        "trust_remote_code": True,
        "max_model_len": options.max_model_len,
        "limit_mm_per_prompt": {"image": max_images if max_images is not None else 1},
        "dtype": options.dtype,
        "tensor_parallel_size": options.tensor_parallel_size,
        "gpu_memory_utilization": options.gpu_memory_utilization,
        "max_num_seqs": options.max_num_seqs,
        "enforce_eager": options.enforce_eager,
        "generation_config": "vllm",
    }
    if options.max_slice_nums is not None:
        kwargs["mm_processor_kwargs"] = {"max_slice_nums": options.max_slice_nums}
    return kwargs


def sampling_kwargs(options: GenerationOptions, stop_ids: Sequence[int]) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams``: every field that matters is set."""
    return {
        "n": 1,
        "max_tokens": options.max_new_tokens,
        "temperature": 0.0 if options.greedy else options.temperature,
        "top_p": 1.0 if options.greedy else options.top_p,
        "top_k": 0 if options.greedy else (options.top_k or 0),
        "min_p": 0.0,
        "repetition_penalty": 1.0,
        "seed": options.seed,
        "stop": list(options.stop),
        "stop_token_ids": list(stop_ids),
        "skip_special_tokens": True,
    }


def sampling_params(options: GenerationOptions, stop_ids: Sequence[int]) -> Any:
    """A real ``vllm.SamplingParams`` (vLLM validates the values)."""
    from vllm import SamplingParams
    from vllm.exceptions import VLLMValidationError

    try:
        return SamplingParams(**sampling_kwargs(options, stop_ids))
    except (ValueError, VLLMValidationError) as exc:
        raise InvalidOptionError(f"vLLM cannot honour these generation options: {exc}") from exc


__all__ = ["DTYPES", "llm_kwargs", "sampling_kwargs", "sampling_params"]
