"""Starting vLLM: the checkpoint's own limits first, and start-up failures as typed errors.

vLLM checks its engine arguments while it builds its configuration and
raises pydantic's ``ValidationError`` (a ``ValueError``) with its own field
names, e.g. "User-specified max_model_len (8192) is greater than the derived
max_model_len (max_position_embeddings=4096 ...)". :func:`engine_error`
turns such a failure into an :class:`InvalidOptionError` that names the vlmi
option to change; a failure of the engine process itself (vLLM says "Engine
core initialization failed") into an :class:`EngineUnavailableError`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from vlmi.errors import EngineUnavailableError, InvalidOptionError, VlmiError
from vlmi_minicpmv.engine_config import DEFAULT_MAX_MODEL_LEN, SLICE_PIXELS

#: vLLM's engine-argument names -> the vlmi options that set them
VLLM_TO_VLMI = {
    "max_model_len": ("max_model_len",),
    "tensor_parallel_size": ("tensor_parallel_size",),
    "gpu_memory_utilization": ("gpu_memory_utilization",),
    "kv_cache_memory_bytes": ("kv_cache_memory_bytes",),
    "max_num_seqs": ("max_num_seqs",),
    "max_num_batched_tokens": ("max_model_len", "max_num_seqs"),
    "dtype": ("dtype",),
    "enforce_eager": ("enforce_eager",),
    "mm_processor_kwargs": ("mm_processor_kwargs", "max_image_pixels", "max_slice_nums"),
    "max_slice_nums": ("max_image_pixels", "max_slice_nums", "mm_processor_kwargs"),
}


def slice_pixels(folder: str) -> int:
    """Pixels of one image slice: the image processor's ``scale_resolution``, squared."""
    try:
        config = json.loads((Path(folder) / "preprocessor_config.json").read_text("utf-8"))
        side = int(config["scale_resolution"])
    except (OSError, ValueError, KeyError, TypeError):
        return SLICE_PIXELS
    return side * side


def vllm_reason(exc: BaseException) -> str:
    """vLLM's own words for a failure: pydantic's messages without its decorations."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            messages = [_message(item) for item in errors()]
        except Exception:  # not pydantic's errors() after all
            messages = []
        text = "; ".join(m for m in messages if m)
        if text:
            return text
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _message(item: Any) -> str:
    """One pydantic error: ``field: message`` (the field left out when it is the whole object)."""
    message = str(item.get("msg", "")).removeprefix("Value error, ")
    where = ".".join(str(part) for part in item.get("loc", ()))
    return f"{where}: {message}" if where else message


def options_named(reason: str) -> list[str]:
    """The vlmi options behind the vLLM argument names a reason mentions, in order."""
    named: list[str] = []
    for vllm_name, options in VLLM_TO_VLMI.items():
        if re.search(rf"\b{re.escape(vllm_name)}\b", reason):
            named += [o for o in options if o not in named]
    return named


def engine_error(exc: BaseException, model: str, kwargs: dict[str, Any]) -> VlmiError | None:
    """The typed error for a failure of ``vllm.LLM(**kwargs)``, or None to let it through."""
    if isinstance(exc, VlmiError):
        return None
    reason = vllm_reason(exc)
    if isinstance(exc, (ValueError, TypeError)):  # pydantic's ValidationError is a ValueError
        named = options_named(reason)
        if "max_model_len" in named and "greater than the derived" in reason:
            return InvalidOptionError(
                f"max_model_len={kwargs.get('max_model_len')} is longer than {model}'s "
                f"checkpoint allows: lower max_model_len, or leave it unset (the checkpoint's "
                f"own limit, at most {DEFAULT_MAX_MODEL_LEN}). vLLM: {reason}"
            )
        hint = f"change {' or '.join(named)}" if named else "check the engine options"
        return InvalidOptionError(f"vLLM refused the engine options of {model}: {reason}; {hint}")
    if "Engine core initialization failed" in str(exc):
        return EngineUnavailableError(
            f"vLLM's engine process for {model} failed to start (its log above says why): "
            f"{reason}; with max_model_len={kwargs.get('max_model_len')}, "
            f"max_num_seqs={kwargs.get('max_num_seqs')}, dtype={kwargs.get('dtype')!r}"
        )
    return None


def model_len_limit(kwargs: dict[str, Any], model: str) -> int:
    """The longest context vLLM allows this checkpoint, as it derives it from config.json."""
    from vllm import EngineArgs

    try:
        config = EngineArgs(**{**kwargs, "max_model_len": None}).create_model_config()
    except Exception as exc:
        typed = engine_error(exc, model, kwargs)
        if typed is not None:
            raise typed from exc
        raise
    return int(config.max_model_len)


__all__ = [
    "VLLM_TO_VLMI",
    "engine_error",
    "model_len_limit",
    "options_named",
    "slice_pixels",
    "vllm_reason",
]
