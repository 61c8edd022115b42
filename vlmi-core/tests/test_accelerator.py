"""The shared GPU checks, in vlmi-core's environment (which has no torch)."""

from __future__ import annotations

import importlib.util

import pytest

from vlmi._accelerator import is_out_of_memory, require_cuda
from vlmi.errors import EngineUnavailableError


class OutOfMemoryError(RuntimeError):
    """Named as torch's is (torch.OutOfMemoryError)."""


def test_out_of_memory_by_type_or_message():
    assert is_out_of_memory(OutOfMemoryError("x"))
    assert is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    engine_phrase = ("no available memory for the cache blocks",)
    assert is_out_of_memory(ValueError("No available memory for the cache blocks"), engine_phrase)
    assert not is_out_of_memory(RuntimeError("CUDA out of memory"), engine_phrase)


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed")
def test_require_cuda_without_torch_says_what_to_install():
    with pytest.raises(
        EngineUnavailableError,
        match="LMDeploy runs InternVL2 on a CUDA GPU and torch is not installed",
    ):
        require_cuda("LMDeploy runs InternVL2")
