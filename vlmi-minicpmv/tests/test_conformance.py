"""The conformance kit against MiniCPM-V-2.6 on real vLLM.

- :class:`TestMiniCPMVOnVllmCpu`: the tiny checkpoint on the session's engine
  (vLLM's CPU backend in CI), float32 and greedy, so batched answers must
  equal one-at-a-time answers.
- :class:`TestMiniCPMVOnVllm` (marked ``gpu``): the real weights on a CUDA GPU:
  VLMI_MINICPMV_WEIGHTS=/path/to/MiniCPM-V-2_6 pytest vlmi-minicpmv/tests -m gpu
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import pytest

import vlmi
from vlmi import errors
from vlmi.testing import ModelConformance


def _engine_dead() -> BaseException:
    from vllm.v1.engine.exceptions import EngineDeadError

    return EngineDeadError()


def _engine_generate_failed() -> BaseException:
    from vllm.v1.engine.exceptions import EngineGenerateError

    return EngineGenerateError("request failed")


#: vLLM's own failures of the moment and the vlmi errors they become
ENGINE_ERRORS = [
    (_engine_dead, errors.EngineGoneError),
    (_engine_generate_failed, errors.TransientError),
]

WEIGHTS_VARIABLE = "VLMI_MINICPMV_WEIGHTS"
WEIGHTS = os.environ.get(WEIGHTS_VARIABLE, "")
LOAD = {"model_path": WEIGHTS, "max_model_len": 8192, "gpu_memory_utilization": 0.85}


class TestMiniCPMVOnVllmCpu(ModelConformance):
    model_name = "minicpm-v-2.6"
    plugin_module = "vlmi_minicpmv"
    load_options: ClassVar[dict[str, Any]] = {"model_path": "/not/used"}
    engine_errors = ENGINE_ERRORS

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, engine: Any) -> vlmi.Model:
        """The session's engine (started once; the kit's own fixture would start another)."""
        return engine.model


@pytest.mark.gpu
@pytest.mark.skipif(not WEIGHTS, reason=f"set {WEIGHTS_VARIABLE}=/path/to/MiniCPM-V-2_6")
class TestMiniCPMVOnVllm(ModelConformance):
    model_name = "minicpm-v-2.6"
    load_options = LOAD
    plugin_module = "vlmi_minicpmv"
    batch_matches_single = False  # bf16 continuous batching
    engine_errors = ENGINE_ERRORS


@pytest.mark.gpu
@pytest.mark.skipif(not WEIGHTS, reason=f"set {WEIGHTS_VARIABLE}=/path/to/MiniCPM-V-2_6")
def test_answers_make_sense() -> None:
    model = vlmi.load("minicpm-v-2.6", **LOAD)
    assert "5" in model.eval("What is 2 + 3? Answer with one number.", max_new_tokens=8)
    model.close()
