"""Checks GPU engine plugins share: is there a CUDA device, was that an out-of-memory error.

torch is imported only inside :func:`require_cuda`, which only plugins that
bring torch call; vlmi-core itself never depends on it.
"""

from __future__ import annotations

from vlmi.errors import EngineUnavailableError, MissingDependencyError

from ._install_hints import OPEN_NAMES_PLUGIN

OUT_OF_MEMORY_PHRASES = ("out of memory",)


def require_cuda(runs: str) -> None:
    """Raise EngineUnavailableError unless torch sees a CUDA device.

    :param runs: what needs it, e.g. ``"LMDeploy runs InternVL2"``.
    """
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(
            f"{runs} on a CUDA GPU and torch is not installed; reinstall the plugin with its "
            "engine (pip install <the plugin>)"
        ) from None
    if not torch.cuda.is_available():
        raise EngineUnavailableError(
            f"{runs} on a CUDA GPU and torch sees none "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); run on a "
            f"machine with an NVIDIA GPU, or use {OPEN_NAMES_PLUGIN} for a CPU model"
        )


def is_out_of_memory(exc: BaseException, phrases: tuple[str, ...] = OUT_OF_MEMORY_PHRASES) -> bool:
    """Whether ``exc`` is an accelerator out-of-memory error (torch's, or an engine's message)."""
    if any(cls.__name__ == "OutOfMemoryError" for cls in type(exc).__mro__):
        return True
    text = str(exc).lower()
    return any(phrase in text for phrase in phrases)


__all__ = ["OUT_OF_MEMORY_PHRASES", "is_out_of_memory", "require_cuda"]
