"""The conformance kit against real InternVL2 weights on LMDeploy (marked ``gpu``).

VLMI_INTERNVL2_WEIGHTS=/path/to/InternVL2-8B nox -s "plugin(vlmi-internvl2)" -- -m gpu

``VLMI_INTERNVL2_MODEL`` names the size the weights are (default internvl2-8b),
which picks the backend (the 4B runs on the PyTorch engine).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import vlmi
from vlmi.testing import ModelConformance

WEIGHTS_VARIABLE = "VLMI_INTERNVL2_WEIGHTS"
WEIGHTS = os.environ.get(WEIGHTS_VARIABLE, "")
MODEL = os.environ.get("VLMI_INTERNVL2_MODEL", "internvl2-8b")
LOAD = {"model_path": WEIGHTS, "session_len": 16384, "cache_max_entry_count": 0.5}
needs_weights = pytest.mark.skipif(
    not WEIGHTS, reason=f"set {WEIGHTS_VARIABLE}=/path/to/InternVL2-8B (and a CUDA GPU)"
)


@pytest.mark.gpu
@needs_weights
class TestInternVL2OnLMDeploy(ModelConformance):
    model_name = MODEL
    load_options = LOAD
    plugin_module = "vlmi_internvl2"
    batch_matches_single = False  # bf16 continuous batching


@pytest.mark.gpu
@needs_weights
def test_answers_make_sense(pictures: list[Path]) -> None:
    model = vlmi.load(MODEL, **LOAD)
    assert "5" in model.eval("What is 2 + 3? Answer with one number.", max_new_tokens=8)
    both = model.eval_batch(
        [("What colour dominates this picture?", [str(pictures[1])]), "Say hello."],
        max_new_tokens=32,
    )
    assert all(isinstance(answer, str) and answer.strip() for answer in both)
    model.close()
