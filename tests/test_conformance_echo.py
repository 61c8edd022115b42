"""The conformance kit, run against the echo test plugin's models, and shown to catch wrong ones."""

from __future__ import annotations

import re

import pytest

from vlmi import errors
from vlmi.testing import ModelConformance
from vlmi_echo.model import EchoEngineDead

pytest_plugins = ["pytester"]


def echo_images(answer: str) -> list[tuple[int, int]]:
    """The (width, height) of each image the echo model reports, in order."""
    return [(int(w), int(h)) for w, h in re.findall(r"<image:(\d+)x(\d+):", answer)]


class TestEcho(ModelConformance):
    model_name = "echo"
    plugin_module = "vlmi_echo"
    image_report = staticmethod(echo_images)
    engine_errors = [
        (lambda: EchoEngineDead("engine process exited"), errors.EngineGoneError),
        (lambda: ConnectionRefusedError(111, "Connection refused"), errors.EngineConnectionError),
    ]


class TestEchoTextOnly(ModelConformance):
    model_name = "echo-text"
    plugin_module = "vlmi_echo"


KIT_AGAINST = """
import re
from vlmi import errors
from vlmi.testing import ModelConformance
from vlmi_echo.model import EchoEngineDead

class TestWrong(ModelConformance):
    model_name = "echo"
    plugin_module = "vlmi_echo"
    load_options = {options!r}
    engine_errors = [(lambda: EchoEngineDead("gone"), errors.EngineGoneError)]
    image_report = staticmethod(
        lambda a: [(int(w), int(h)) for w, h in re.findall(r"<image:(\\d+)x(\\d+):", a)]
    )
"""


@pytest.mark.parametrize(
    ("options", "caught"),
    [
        ({"ignore_max_new_tokens": True}, ["test_max_new_tokens_is_honoured"]),
        ({"reverse_images": True}, ["test_several_images"]),
        ({"ignore_stop": True}, ["test_generation_options_are_honoured_or_refused"]),
        ({"ignore_seed": True}, ["test_generation_options_are_honoured_or_refused"]),
        ({"unmapped_errors": True}, ["test_engine_errors_are_mapped"]),
    ],
)
def test_the_kit_fails_a_wrong_model(pytester: pytest.Pytester, options: dict, caught: list[str]):
    pytester.makepyfile(test_wrong=KIT_AGAINST.format(options=options))
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    failed = sorted(re.findall(r"FAILED \S+::TestWrong::(\w+)", result.stdout.str()))
    assert failed == caught, result.stdout.str()
