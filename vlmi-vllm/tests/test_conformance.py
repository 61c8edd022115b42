"""vlmi's conformance kit against each tiny architecture, through real vLLM.

One class, run once per architecture (conftest's session-scoped ``arch``), on
the engine conftest keeps for that architecture.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ARCH_LOAD, Engines, checkpoint

from vlmi import errors
from vlmi.testing import ModelConformance


def _engine_dead() -> BaseException:
    from vllm.v1.engine.exceptions import EngineDeadError

    return EngineDeadError()


def _engine_generate_failed() -> BaseException:
    from vllm.v1.engine.exceptions import EngineGenerateError

    return EngineGenerateError("request failed")


class TestConformance(ModelConformance):
    # a folder vlmi-vllm resolves; the kit's load-time checks fail before any engine starts
    model_name = str(checkpoint("qwen2_vl"))
    plugin_module = "vlmi_vllm"
    engine_errors = [
        (_engine_dead, errors.EngineGoneError),
        (_engine_generate_failed, errors.TransientError),
    ]

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, arch: str, engines: Engines) -> Any:
        return engines.get(arch)

    @pytest.fixture(autouse=True)
    def arch_load_options(self, arch: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """The kit's own loads use the architecture's load options (e.g. Kimi-VL's max_num_seqs)."""
        monkeypatch.setattr(type(self), "load_options", ARCH_LOAD.get(arch, {}))
