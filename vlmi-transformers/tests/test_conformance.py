"""vlmi's conformance kit against each tiny architecture, through the real Transformers path."""

from __future__ import annotations

import pytest
from conftest import session_model

from vlmi.plugin import Model
from vlmi.testing import ModelConformance
from vlmi_testkit import TINY_RECIPES, tiny_checkpoint


def _suite(arch: str) -> type[ModelConformance]:
    """The kit on ``arch``'s tiny checkpoint, on the model the session's other tests use."""

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls: type[ModelConformance], tiny_models: dict[str, Model]) -> Model:
        return session_model(arch, tiny_models)

    attributes = {
        "model_name": str(tiny_checkpoint(arch)),
        "plugin_module": "vlmi_transformers",
        "model": model,
    }
    return type(f"TestTiny_{arch}", (ModelConformance,), attributes)


# one suite per tiny architecture: TestTiny_qwen2_vl, TestTiny_internvl, ...
for _arch in TINY_RECIPES:
    globals()[f"TestTiny_{_arch}"] = _suite(_arch)


class TestCuratedNameWithLocalWeights(ModelConformance):
    """A curated name whose weights come from model_path (how offline users run it)."""

    model_name = "qwen2.5-vl-7b"
    load_options = {"model_path": str(tiny_checkpoint("qwen2_5_vl")), "batch_size": 3}
    plugin_module = "vlmi_transformers"
