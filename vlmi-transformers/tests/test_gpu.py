"""Real weights on CUDA (marked ``gpu``; skipped, with the reason, elsewhere).

VLMI_TRANSFORMERS_WEIGHTS=/path/to/Qwen2.5-VL-7B-Instruct pytest vlmi-transformers/tests -m gpu
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import vlmi
from vlmi.testing import ModelConformance
from vlmi_testkit import TINY_RECIPES, tiny_checkpoint

WEIGHTS_VARIABLE = "VLMI_TRANSFORMERS_WEIGHTS"
WEIGHTS = os.environ.get(WEIGHTS_VARIABLE, "")


@pytest.mark.gpu
@pytest.mark.skipif(not WEIGHTS, reason=f"set {WEIGHTS_VARIABLE}=/path/to/a checkpoint folder")
class TestRealWeightsOnCuda(ModelConformance):
    model_name = WEIGHTS
    load_options = {"device": "cuda", "batch_size": 4}
    plugin_module = "vlmi_transformers"
    batch_matches_single = False  # bf16: batched and single answers may drift apart


@pytest.mark.gpu
def test_real_weights_answer_sensibly(pictures: list[Path]) -> None:
    if not WEIGHTS:
        pytest.skip(f"set {WEIGHTS_VARIABLE}=/path/to/a checkpoint folder")
    model = vlmi.load(WEIGHTS, device="cuda")
    answer = model.eval("What is 2 + 3? Answer with one number.", max_new_tokens=8)
    assert "5" in answer
    model.close()


@pytest.mark.gpu
@pytest.mark.parametrize("arch", sorted(TINY_RECIPES))
def test_tiny_batches_on_cuda_agree_with_single_runs(arch: str, pictures: list[Path]) -> None:
    """float32 on CUDA with the static cache: batched greedy == one-at-a-time."""
    model = vlmi.load(str(tiny_checkpoint(arch)), device="cuda", dtype="float32", batch_size=4)
    samples = [
        ("Hi", []),
        ("Describe.", [str(pictures[0])]),
        ("Both?", [str(p) for p in pictures[1:3]]),
    ]
    single = [model.eval(q, i, max_new_tokens=8) for q, i in samples]
    assert model.eval_batch(samples, max_new_tokens=8) == single
    model.close()
