"""Errors while vLLM builds its engine, as typed vlmi errors naming the option to change.

vLLM reports a bad engine setting as pydantic's ``ValidationError`` or a
``ValueError`` whose text names vLLM's own argument (``max_model_len``,
``tensor_parallel_size``, ...). :func:`engine_start_error` turns it into an
:class:`~vlmi.errors.InvalidOptionError` that names vlmi's option, an
out-of-memory failure into :class:`~vlmi.errors.EngineOutOfMemoryError`, and
anything else into :class:`~vlmi.errors.EngineUnavailableError` with vLLM's
message.

While it answers, :func:`run_error` maps vLLM's own failures of the moment:
``EngineDeadError`` (the engine core process died: nothing more is answered)
to :class:`~vlmi.errors.EngineGoneError`, ``EngineGenerateError`` (a failed
request vLLM calls recoverable) to :class:`~vlmi.errors.TransientError`. They
are recognised by class name, so this module never imports vLLM.
"""

from __future__ import annotations

from typing import Any

from vlmi.errors import (
    EngineGoneError,
    EngineOutOfMemoryError,
    EngineUnavailableError,
    InvalidOptionError,
    TransientError,
    VlmiError,
)
from vlmi.plugin import OUT_OF_MEMORY_PHRASES, is_out_of_memory

#: vLLM's argument -> the vlmi option that sets it (most specific first)
VLLM_TO_VLMI = (
    ("max_model_len", "max_model_len"),
    ("max_position_embeddings", "max_model_len"),
    ("tensor_parallel_size", "tp"),
    ("gpu_memory_utilization", "gpu_memory_utilization"),
    ("kv_cache_memory_bytes", "kv_cache_memory_bytes"),
    ("max_num_seqs", "max_num_seqs"),
    ("max_num_batched_tokens", "max_model_len"),
    ("limit_mm_per_prompt", "max_images of the model"),
    ("mm_processor_kwargs", "mm_processor_kwargs / max_image_pixels"),
    ("trust_remote_code", "trust_remote_code"),
    ("dtype", "dtype"),
)


def engine_start_error(
    exc: BaseException, name: str, kwargs: dict[str, Any], cpu: bool
) -> VlmiError:
    """The vlmi error for an exception raised by ``vllm.LLM(**kwargs)``."""
    if isinstance(exc, VlmiError):
        return exc
    text = str(exc)
    if is_out_of_memory(exc, (*OUT_OF_MEMORY_PHRASES, "no available memory for the cache blocks")):
        memory = (
            f"kv_cache_memory_bytes is {kwargs.get('kv_cache_memory_bytes')}"
            if cpu
            else f"gpu_memory_utilization is {kwargs.get('gpu_memory_utilization')}"
        )
        return EngineOutOfMemoryError(
            f"vLLM ran out of {'host' if cpu else 'GPU'} memory starting {name}: lower "
            f"max_model_len (now {kwargs.get('max_model_len')}) or max_num_seqs, raise tp, "
            f"or free memory; {memory}. vLLM says: {_first_lines(text)}"
        )
    for vllm_name, option in VLLM_TO_VLMI:
        if vllm_name in text:
            value = kwargs.get(vllm_name)
            now = f" (now {value!r})" if value is not None else ""
            return InvalidOptionError(
                f"vLLM cannot start {name} with this {option}{now}: change that option. "
                f"vLLM says: {_first_lines(text)}"
            )
    return EngineUnavailableError(f"vLLM could not start {name}: {_first_lines(text)}")


def run_error(exc: BaseException, name: str) -> VlmiError | None:
    """The vlmi error for vLLM's failure of the moment while answering, else ``None``."""
    kinds = {kind.__name__ for kind in type(exc).__mro__}
    if "EngineDeadError" in kinds:
        return EngineGoneError(
            f"vLLM's engine core for {name} died ({type(exc).__name__}: {_first_lines(str(exc))}); "
            "see the log above for the root cause, then load the model again"
        )
    if "EngineGenerateError" in kinds:
        return TransientError(
            f"vLLM failed to generate for {name} ({_first_lines(str(exc))}); it may succeed again"
        )
    return None


def _first_lines(text: str, lines: int = 6) -> str:
    return " ".join(text.strip().splitlines()[:lines])


__all__ = ["VLLM_TO_VLMI", "engine_start_error", "run_error"]
