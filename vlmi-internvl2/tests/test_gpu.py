"""LMDeploy really generating on CUDA (marked ``gpu``; skipped, with the reason, elsewhere).

- The conformance kit on the tiny checkpoint (made here, random weights) on
  each LMDeploy backend: the PyTorch engine, and TurboMind where its native
  module loads (the offline GPU bundle leaves it out: skipped, saying so).
- The kit and a sanity check on real weights:
  VLMI_INTERNVL2_WEIGHTS=/path/to/InternVL2-8B nox -s "plugin(vlmi-internvl2)" -- -m gpu
  ``VLMI_INTERNVL2_MODEL`` names the size the weights are (default
  internvl2-8b), which picks the backend; ``VLMI_INTERNVL2_BACKEND`` overrides it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import vlmi
from vlmi.testing import ModelConformance

WEIGHTS_VARIABLE = "VLMI_INTERNVL2_WEIGHTS"
WEIGHTS = os.environ.get(WEIGHTS_VARIABLE, "")
MODEL = os.environ.get("VLMI_INTERNVL2_MODEL", "internvl2-8b")
BACKEND = os.environ.get("VLMI_INTERNVL2_BACKEND", "")
LOAD = {
    "model_path": WEIGHTS,
    "session_len": 16384,
    "cache_max_entry_count": 0.5,
    **({"backend": BACKEND} if BACKEND else {}),
}
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


def backend_missing(backend: str) -> str | None:
    """Why ``backend`` cannot run here, or None."""
    if backend != "turbomind":
        return None
    from lmdeploy import turbomind

    if turbomind.is_available():
        return None
    return (
        f"TurboMind's native module does not load here ({turbomind._import_error}); the "
        "offline GPU bundle leaves it out (benchmarks/gpu/pack_lmdeploy.py)"
    )


@pytest.mark.gpu
class TestTinyOnThePyTorchEngine(ModelConformance):
    """The kit on the tiny checkpoint: real LMDeploy generation, random weights."""

    model_name = "internvl2-1b"
    plugin_module = "vlmi_internvl2"
    batch_matches_single = False  # continuous batching in float16
    backend = "pytorch"

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, tiny_folder: Path) -> Iterator[vlmi.Model]:
        reason = backend_missing(cls.backend)
        if reason:
            pytest.skip(reason)
        model = vlmi.load(
            cls.model_name,
            model_path=str(tiny_folder),
            backend=cls.backend,
            session_len=8192,
            cache_max_entry_count=0.2,
        )
        yield model
        model.close()

    def test_every_sample_generates(self, model: vlmi.Model, pictures: list[Path]) -> None:
        samples = [("Describe.", [str(p)]) for p in pictures] + ["Hi", "Say something."]
        answers = model.eval_batch(samples, max_new_tokens=16)
        assert all(isinstance(answer, str) for answer in answers), answers


@pytest.mark.gpu
class TestTinyOnTurboMind(TestTinyOnThePyTorchEngine):
    """The same on TurboMind, where its native module is installed."""

    backend = "turbomind"
