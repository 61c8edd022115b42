"""The conformance kit against `vlmi serve echo`, reached through vlmi-openai."""

from __future__ import annotations

import pytest

import vlmi
from vlmi.testing import ModelConformance


class TestOpenAIThroughServe(ModelConformance):
    model_name = "openai:echo"
    plugin_module = "vlmi_openai"

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, echo_server):
        # the echo server takes 4 images; declaring it lets vlmi refuse a 5th before sending
        model = vlmi.load(cls.model_name, base_url=echo_server.base_url, max_images=4)
        yield model
        model.close()
