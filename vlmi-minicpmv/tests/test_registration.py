"""Registration through the real entry point, in an environment with vlmi-core and this plugin."""

from __future__ import annotations

import pytest

import vlmi
from vlmi.plugin import find_spec
from vlmi.testing import heavy_modules_after_import


def test_listed_with_weights_and_aliases():
    (model,) = [m for m in vlmi.list_models() if m.family == "minicpmv"]
    assert model.name == "minicpm-v-2.6"
    assert model.engine == "vllm"
    assert model.max_images == 8
    assert model.weights == {
        "huggingface": "openbmb/MiniCPM-V-2_6",
        "modelscope": "OpenBMB/MiniCPM-V-2_6",
    }
    assert find_spec("MiniCPM-V-2_6").name == "minicpm-v-2.6"


def test_listing_imports_no_engine():
    assert heavy_modules_after_import("vlmi_minicpmv") == []


def test_unknown_option_is_rejected_before_any_engine_work():
    with pytest.raises(vlmi.errors.InvalidOptionError, match="max_model_len"):
        vlmi.load("minicpm-v-2.6", max_len=4096)
