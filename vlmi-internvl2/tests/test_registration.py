"""Registration through the real entry point, in an environment with vlmi-core and this plugin."""

from __future__ import annotations

import pytest

import vlmi
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


def test_listing_imports_no_engine():
    assert heavy_modules_after_import("vlmi_internvl2") == []


def test_unknown_option_is_rejected_before_any_engine_work():
    with pytest.raises(vlmi.errors.InvalidOptionError, match="session_len"):
        vlmi.load("internvl2-8b", sesion_len=8192)


def test_loading_says_the_engine_is_not_released_yet():
    with pytest.raises(
        vlmi.errors.EngineUnavailableError, match="LMDeploy integration is not released"
    ):
        vlmi.load("InternVL2_8B")
