"""vlmi's conformance kit against each tiny architecture, through real vLLM.

One class, run once per architecture (conftest's session-scoped ``arch``), on
the engine conftest keeps for that architecture.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Engines, checkpoint

from vlmi.testing import ModelConformance


class TestConformance(ModelConformance):
    # a folder vlmi-vllm resolves; the kit's load-time checks fail before any engine starts
    model_name = str(checkpoint("qwen2_vl"))
    plugin_module = "vlmi_vllm"

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, arch: str, engines: Engines) -> Any:
        return engines.get(arch)
