"""The vlmi-core conformance kit through LMDeploy's real pipeline on the tiny checkpoint.

Only LMDeploy's GPU engine is scripted (vlmi_testkit.scripted_engine); the
real-weights run of the same kit is in test_gpu.py.
"""

from __future__ import annotations

from typing import Any

import pytest

import vlmi
from vlmi import errors
from vlmi.testing import ModelConformance


def _engine_unavailable() -> BaseException:
    from lmdeploy.serve.core.exceptions import ErrorCode, RequestError

    return RequestError(ErrorCode.ENGINE_UNAVAILABLE)


class TestConformanceThroughLMDeploy(ModelConformance):
    """The vlmi-core kit against LMDeploy's pipeline on the tiny checkpoint (scripted engine)."""

    model_name = "internvl2-1b"
    plugin_module = "vlmi_internvl2"
    engine_errors = [(_engine_unavailable, errors.EngineGoneError)]

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, tmp_path_factory: pytest.TempPathFactory) -> Any:
        import vlmi_internvl2.model as model_module
        from vlmi_testkit import make_tiny_internvl2, scripted_engine

        folder = make_tiny_internvl2(tmp_path_factory.mktemp("conformance") / "tiny")
        saved = model_module._require_cuda
        model_module._require_cuda = lambda: None  # type: ignore[assignment]
        try:
            with scripted_engine():
                model = vlmi.load(cls.model_name, model_path=str(folder), backend="pytorch")
                yield model
                model.close()
        finally:
            model_module._require_cuda = saved  # type: ignore[assignment]
