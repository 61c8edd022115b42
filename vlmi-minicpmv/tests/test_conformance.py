"""The conformance kit against real MiniCPM-V-2.6 weights on vLLM (marked ``gpu``).

VLMI_MINICPMV_WEIGHTS=/path/to/MiniCPM-V-2_6 pytest vlmi-minicpmv/tests -m gpu
"""

from __future__ import annotations

import os

import pytest

import vlmi
from vlmi.testing import ModelConformance

WEIGHTS_VARIABLE = "VLMI_MINICPMV_WEIGHTS"
WEIGHTS = os.environ.get(WEIGHTS_VARIABLE, "")
LOAD = {"model_path": WEIGHTS, "max_model_len": 8192, "gpu_memory_utilization": 0.85}


@pytest.mark.gpu
@pytest.mark.skipif(not WEIGHTS, reason=f"set {WEIGHTS_VARIABLE}=/path/to/MiniCPM-V-2_6")
class TestMiniCPMVOnVllm(ModelConformance):
    model_name = "minicpm-v-2.6"
    load_options = LOAD
    plugin_module = "vlmi_minicpmv"
    batch_matches_single = False  # bf16 continuous batching


@pytest.mark.gpu
@pytest.mark.skipif(not WEIGHTS, reason=f"set {WEIGHTS_VARIABLE}=/path/to/MiniCPM-V-2_6")
def test_answers_make_sense() -> None:
    model = vlmi.load("minicpm-v-2.6", **LOAD)
    assert "5" in model.eval("What is 2 + 3? Answer with one number.", max_new_tokens=8)
    model.close()
