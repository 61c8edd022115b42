"""vlmi's conformance kit against each tiny architecture, through the real Transformers path."""

from __future__ import annotations

from vlmi.testing import ModelConformance
from vlmi_testkit import TINY_RECIPES, tiny_checkpoint

# one suite per tiny architecture: TestTiny_qwen2_vl, TestTiny_internvl, ...
for _arch in TINY_RECIPES:
    globals()[f"TestTiny_{_arch}"] = type(
        f"TestTiny_{_arch}",
        (ModelConformance,),
        {"model_name": str(tiny_checkpoint(_arch)), "plugin_module": "vlmi_transformers"},
    )


class TestCuratedNameWithLocalWeights(ModelConformance):
    """A curated name whose weights come from model_path (how offline users run it)."""

    model_name = "qwen2.5-vl-7b"
    load_options = {"model_path": str(tiny_checkpoint("qwen2_5_vl")), "batch_size": 3}
    plugin_module = "vlmi_transformers"
