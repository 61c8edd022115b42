"""The conformance kit, run against the echo test plugin's models."""

from __future__ import annotations

from vlmi.testing import ModelConformance


class TestEcho(ModelConformance):
    model_name = "echo"
    plugin_module = "vlmi_echo"


class TestEchoTextOnly(ModelConformance):
    model_name = "echo-text"
    plugin_module = "vlmi_echo"
