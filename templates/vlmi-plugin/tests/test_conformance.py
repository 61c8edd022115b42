"""Run vlmi's conformance suite against this plugin's model: pytest tests/."""

from __future__ import annotations

from vlmi.testing import ModelConformance


class TestMyFamilyDemo(ModelConformance):
    model_name = "myfamily-demo"
    plugin_module = "vlmi_myfamily"
