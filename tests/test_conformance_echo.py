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


class TestEchoFewFrames(ModelConformance):
    """A model capping videos at 3 frames: the kit's frame counts follow the cap."""

    model_name = "echo-few-frames"
    plugin_module = "vlmi_echo"
    image_report = staticmethod(echo_images)


class TestEchoTextOnly(ModelConformance):
    model_name = "echo-text"
    plugin_module = "vlmi_echo"


KIT_AGAINST = """
import re
from vlmi import errors
from vlmi.testing import ModelConformance
from vlmi_echo.model import EchoEngineDead

class TestWrong(ModelConformance):
    model_name = {model!r}
    plugin_module = "vlmi_echo"
    load_options = {options!r}
    engine_errors = [(lambda: EchoEngineDead("gone"), errors.EngineGoneError)]
    image_report = staticmethod(
        lambda a: [(int(w), int(h)) for w, h in re.findall(r"<image:(\\d+)x(\\d+):", a)]
    )
"""


@pytest.mark.parametrize(
    ("model", "options", "caught"),
    [
        ("echo", {"ignore_max_new_tokens": True}, ["test_max_new_tokens_is_honoured"]),
        ("echo", {"reverse_images": True}, ["test_several_images"]),
        ("echo", {"ignore_stop": True}, ["test_generation_options_are_honoured_or_refused"]),
        ("echo", {"ignore_seed": True}, ["test_generation_options_are_honoured_or_refused"]),
        ("echo", {"unmapped_errors": True}, ["test_engine_errors_are_mapped"]),
        (
            "echo-few-frames",
            {"ignore_max_frames": True},
            [
                "test_max_frames_caps_a_video",
                "test_nframes_gives_that_many_frames[4]",
                "test_video_sample_is_answered",
            ],
        ),
    ],
)
def test_the_kit_fails_a_wrong_model(
    pytester: pytest.Pytester, model: str, options: dict, caught: list[str]
):
    pytester.makepyfile(test_wrong=KIT_AGAINST.format(model=model, options=options))
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    failed = sorted(re.findall(r"FAILED \S+::TestWrong::([\w\[\]]+)", result.stdout.str()))
    assert failed == caught, result.stdout.str()


def test_without_pyav_the_video_checks_skip_saying_why(pytester: pytest.Pytester):
    pytester.makeconftest("import sys\nsys.modules['av'] = None  # PyAV not installed\n")
    pytester.makepyfile(
        test_kit="""
from vlmi.testing import ModelConformance

class TestTakes(ModelConformance):
    model_name = "echo"

class TestRefuses(ModelConformance):
    model_name = "echo-text"
"""
    )
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "-rs", "-k", "video or frames"
    )
    out = result.stdout.str()
    skipped = re.findall(r"SKIPPED \[(\d+)\] \S+:\d+: (.*)", out)
    reasons = {reason: 0 for _, reason in skipped}
    for count, reason in skipped:
        reasons[reason] += int(count)
    assert reasons == {
        "PyAV is not installed: pip install vlmi-core[video] to run the video checks": 6,
        "echo takes video (frames)": 1,
        "echo-text declares no video (ModelSpec.video)": 6,
    }, out
    # the refusal of a model without video needs no PyAV
    assert "FAILED" not in out and "1 passed" in out, out
