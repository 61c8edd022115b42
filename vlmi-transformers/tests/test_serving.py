"""A tiny checkpoint behind ``vlmi serve``, used through ``vlmi.load("openai:<name>")``.

One server for the module (one architecture, in a child process on 127.0.0.1,
with an API key), reached through the vlmi-openai plugin as a user would:
the conformance kit passes through it, and its greedy answers equal the
in-process answers of the same checkpoint, for text-only, one-image and
several-image samples, alone and in batches (which the server regroups into
its own ``eval_batch`` calls). The server refuses images above
``SERVER_MAX_PIXELS`` (``VLMI_MAX_IMAGE_PIXELS`` in its environment only), so a
batch can hold a sample that only the server rejects: that sample's slot gets
the typed error, the others their answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import vlmi
from vlmi import errors
from vlmi.testing import ModelConformance, make_picture
from vlmi_testkit import tiny_checkpoint
from vlmi_testkit.serving import ServerProcess, start_server

ARCH = "qwen2_vl"
SERVED_NAME = "tiny-qwen2-vl"
API_KEY = "serve-test-key"
#: the server's image limit; the pictures used here stay under it, TOO_LARGE does not
SERVER_MAX_PIXELS = 60_000
TOO_LARGE = (400, 300)
TOKENS = 12


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    """``vlmi serve <tiny checkpoint>`` under a served name, with an API key."""
    process = start_server(
        str(tiny_checkpoint(ARCH)),
        "--served-name",
        SERVED_NAME,
        "--api-key",
        API_KEY,
        "--max-wait-ms",
        "20",
        env={"VLMI_MAX_IMAGE_PIXELS": str(SERVER_MAX_PIXELS)},
    )
    yield process
    assert process.stop() == 0
    log = "".join(process.log)
    assert API_KEY not in log
    # concurrent requests were answered in fewer eval_batch calls than requests
    summary = re.search(r"(\d+) request\(s\) in (\d+) batch\(es\)", log)
    assert summary is not None, log
    requests, batches = map(int, summary.groups())
    assert 0 < batches < requests, summary.group(0)


@pytest.fixture(scope="module")
def remote(server: ServerProcess) -> Iterator[vlmi.Model[Any]]:
    """The served checkpoint as a vlmi model, through the vlmi-openai plugin."""
    model = vlmi.load(f"openai:{SERVED_NAME}", base_url=server.base_url, api_key=API_KEY)
    yield model
    model.close()


@pytest.fixture(scope="module")
def local(tiny_models: dict[str, vlmi.Model[Any]]) -> vlmi.Model[Any]:
    """The same checkpoint loaded in this process (shared with the other test modules)."""
    if ARCH not in tiny_models:
        tiny_models[ARCH] = vlmi.load(str(tiny_checkpoint(ARCH)))
    return tiny_models[ARCH]


@pytest.fixture(scope="module")
def too_large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A picture the server refuses (over SERVER_MAX_PIXELS) and the client accepts."""
    path = tmp_path_factory.mktemp("too-large") / "too-large.png"
    make_picture(*TOO_LARGE, seed=4).save(path)
    return path


class TestTinyCheckpointThroughServe(ModelConformance):
    """vlmi's conformance kit, every call going over HTTP to the served tiny checkpoint."""

    model_name = f"openai:{SERVED_NAME}"
    plugin_module = "vlmi_openai"

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, remote: vlmi.Model[Any]) -> vlmi.Model[Any]:
        return remote


def shapes(pictures: list[Path]) -> list[Any]:
    """Text-only, one-image, several-image and interleaved samples."""
    first, second, third = (str(p) for p in pictures[:3])
    return [
        "What is two plus two?",
        ("Describe the picture.", first),
        ("Compare these pictures.", [third, first]),
        {"query": "Which one is larger?", "imgs": [first, second, third]},
        [
            {"type": "text", "value": "Left:"},
            {"type": "image", "value": second},
            {"type": "text", "value": "right:"},
            {"type": "image", "value": first},
        ],
    ]


def test_served_answers_equal_in_process_answers(
    remote: vlmi.Model[Any], local: vlmi.Model[Any], pictures: list[Path]
) -> None:
    samples = shapes(pictures)
    expected = local.eval_batch(samples, max_new_tokens=TOKENS)
    # distinct answers: they depend on the text and images, so equality below is informative
    assert len(set(expected)) == len(expected) and all(isinstance(a, str) for a in expected)
    # each shape alone, then all at once (requests in flight together, batched by the server)
    assert [remote.eval_batch([s], max_new_tokens=TOKENS)[0] for s in samples] == expected
    assert remote.eval_batch(samples, max_new_tokens=TOKENS) == expected
    single = remote.eval("Describe the picture.", imgs=pictures[0], max_new_tokens=TOKENS)
    assert single == expected[1]


def test_a_sample_the_server_refuses_fails_only_its_slot(
    remote: vlmi.Model[Any], local: vlmi.Model[Any], pictures: list[Path], too_large: Path
) -> None:
    good = shapes(pictures)[:3]
    samples = [good[0], ("Describe the picture.", str(too_large)), *good[1:]]
    results = remote.eval_batch(samples, max_new_tokens=TOKENS)
    assert len(results) == len(samples)
    refused = results[1]
    assert isinstance(refused, errors.ImageTooLargeError), refused
    assert refused.sample_index == 1
    assert "VLMI_MAX_IMAGE_PIXELS" in str(refused)
    assert [results[0], *results[2:]] == local.eval_batch(good, max_new_tokens=TOKENS)
    # the same picture is fine in-process, where no such limit is set
    assert isinstance(local.eval("Describe the picture.", imgs=too_large, max_new_tokens=2), str)


def test_wrong_api_key_is_refused_with_a_typed_error(server: ServerProcess) -> None:
    model = vlmi.load(
        f"openai:{SERVED_NAME}", base_url=server.base_url, api_key="wrong", max_retries=0
    )
    try:
        with pytest.raises(errors.EngineUnavailableError, match="API key"):
            model.eval("What is two plus two?", max_new_tokens=2)
    finally:
        model.close()
