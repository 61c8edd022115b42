"""vlmi's conformance kit against each tiny architecture, through the real Transformers path."""

from __future__ import annotations

from vlmi.testing import ModelConformance
from vlmi_transformers.testing import tiny_checkpoint


class TestTinyQwen2VL(ModelConformance):
    model_name = str(tiny_checkpoint("qwen2_vl"))
    plugin_module = "vlmi_transformers"


class TestTinyQwen25VL(ModelConformance):
    model_name = str(tiny_checkpoint("qwen2_5_vl"))
    plugin_module = "vlmi_transformers"


class TestTinyQwen3VL(ModelConformance):
    model_name = str(tiny_checkpoint("qwen3_vl"))
    plugin_module = "vlmi_transformers"


class TestTinyGemma3(ModelConformance):
    model_name = str(tiny_checkpoint("gemma3"))
    plugin_module = "vlmi_transformers"


class TestTinyInternVL(ModelConformance):
    model_name = str(tiny_checkpoint("internvl"))
    plugin_module = "vlmi_transformers"


class TestTinyLlava(ModelConformance):
    model_name = str(tiny_checkpoint("llava"))
    plugin_module = "vlmi_transformers"


class TestCuratedNameWithLocalWeights(ModelConformance):
    """A curated name whose weights come from model_path (how offline users run it)."""

    model_name = "qwen2.5-vl-7b"
    load_options = {"model_path": str(tiny_checkpoint("qwen2_5_vl")), "batch_size": 3}
    plugin_module = "vlmi_transformers"
