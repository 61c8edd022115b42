"""The conformance kit against `vlmi serve echo`, reached through vlmi-openai."""

from __future__ import annotations

import openai
import pytest

import vlmi
from vlmi import errors
from vlmi.testing import ModelConformance

try:  # the HTTP client the installed openai client raises with
    import httpx2 as httpx
except ImportError:  # openai 1.x
    import httpx  # type: ignore[no-redef]

_REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")


def _busy() -> BaseException:
    response = httpx.Response(503, request=_REQUEST, json={"error": {"message": "overloaded"}})
    return openai.InternalServerError("overloaded", response=response, body=None)


class TestOpenAIThroughServe(ModelConformance):
    model_name = "openai:echo"
    plugin_module = "vlmi_openai"
    engine_errors = [
        (lambda: openai.APITimeoutError(request=_REQUEST), errors.EngineTimeoutError),
        (lambda: openai.APIConnectionError(request=_REQUEST), errors.EngineConnectionError),
        (_busy, errors.EngineConnectionError),
    ]

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, echo_server):
        # the echo server takes 4 images; declaring it lets vlmi refuse a 5th before sending
        model = vlmi.load(cls.model_name, base_url=echo_server.base_url, max_images=4)
        yield model
        model.close()
