"""CUDA checks (marked ``gpu``; skipped, with the reason, elsewhere): tiny checkpoints, real weights.

VLMI_TRANSFORMERS_WEIGHTS=/path/to/Qwen2.5-VL-7B-Instruct pytest vlmi-transformers/tests -m gpu
(the tiny-checkpoint tests need no weights; benchmarks/gpu/run_transformers.sh runs them all)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ARCHITECTURES

import vlmi
from vlmi.plugin import Sample, as_sample, prepare_samples
from vlmi.testing import ModelConformance
from vlmi_testkit import tiny_checkpoint

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
@pytest.mark.parametrize("arch", ARCHITECTURES)
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


#: ||batched - single|| / ||single|| of the next-token logits: bf16 rounding and a different
#: padding/reduction order stay far below this; a wrong mask or position ids do not
BF16_TOLERANCE = 3e-2


def check_bf16_batch_against_single(arch: str, device: str, pictures: list[Path]) -> None:
    """bf16, left-padded batch: next-token logits within tolerance of one-at-a-time runs."""
    import torch

    model = vlmi.load(str(tiny_checkpoint(arch)), device=device, dtype="bfloat16", batch_size=4)
    items = [
        "Hi",
        ("Describe.", [str(pictures[0])]),
        ("Compare both pictures in a few words.", [str(p) for p in pictures[1:3]]),
    ]
    samples = prepare_samples(model, [as_sample(item) for item in items])
    assert all(isinstance(s, Sample) for s in samples)
    engine = model.engine
    with torch.inference_mode():
        batched = engine.model(**engine.model_inputs(samples)).logits[:, -1].float()
        single = torch.stack(
            [engine.model(**engine.model_inputs([s])).logits[0, -1].float() for s in samples]
        )
    error = ((batched - single).norm(dim=-1) / single.norm(dim=-1)).max().item()
    assert error < BF16_TOLERANCE, f"{arch}: relative logit error {error:.2e}"
    answers = model.eval_batch(items, max_new_tokens=8)
    assert all(isinstance(answer, str) for answer in answers), answers
    model.close()


@pytest.mark.gpu
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_tiny_bf16_batches_on_cuda_match_single_runs_within_tolerance(
    arch: str, pictures: list[Path]
) -> None:
    check_bf16_batch_against_single(arch, "cuda", pictures)


def test_the_bf16_tolerance_check_on_cpu_bf16(pictures: list[Path]) -> None:
    """The same check on a CPU (one architecture), so its code runs in CI."""
    check_bf16_batch_against_single("internvl", "cpu", pictures)
