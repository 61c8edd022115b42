"""Registration through the real entry point, in an environment with vlmi-core and this plugin."""

from __future__ import annotations

import pytest

import vlmi
from vlmi.plugin import find_spec
from vlmi.testing import heavy_modules_after_import


def test_every_size_is_listed_with_its_weights():
    models = {m.name: m for m in vlmi.list_models() if m.family == "internvl2"}
    assert sorted(models) == sorted(
        f"internvl2-{s}" for s in ("1b", "2b", "4b", "8b", "26b", "40b", "76b")
    )
    eight = models["internvl2-8b"]
    assert eight.distribution == "vlmi-internvl2"
    assert eight.engine == "lmdeploy"
    assert eight.weights == {
        "huggingface": "OpenGVLab/InternVL2-8B",
        "modelscope": "OpenGVLab/InternVL2-8B",
    }
    assert "internvl2_8b" in eight.aliases


def test_the_backend_is_chosen_per_model():
    backends = {s: find_spec(f"internvl2-{s}").defaults["backend"] for s in ("1b", "4b", "8b")}
    assert backends == {"1b": "turbomind", "4b": "pytorch", "8b": "turbomind"}


def test_listing_imports_no_engine():
    assert heavy_modules_after_import("vlmi_internvl2") == []


def test_unknown_option_is_rejected_before_any_engine_work():
    with pytest.raises(vlmi.errors.InvalidOptionError, match="session_len"):
        vlmi.load("internvl2-8b", sesion_len=8192)


def _has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


@pytest.mark.skipif(_has_cuda(), reason="a CUDA device is present")
def test_loading_without_cuda_says_so(tmp_path):
    # the real check runs, before any weights are looked for
    with pytest.raises(vlmi.errors.EngineUnavailableError, match="CUDA GPU"):
        vlmi.load("InternVL2_8B", model_path=str(tmp_path / "nowhere"))
