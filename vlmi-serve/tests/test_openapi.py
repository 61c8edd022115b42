"""`/openapi.json` is the contract `vlmi serve` keeps: schemathesis fuzzes `vlmi serve echo` with it.

The fuzz run uses every check and every phase; any failure fails the test
with schemathesis' report. Requests go only to the server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from vlmi_testkit.serving import start_server

KEY = "fuzz-key-7"
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
#: a sitecustomize that keeps the fuzzed server from reaching any host but loopback
LOOPBACK_ONLY = Path(__file__).with_name("loopback_only")
#: every error status the chat route answers (401 when an API key is set)
ERROR_STATUSES = {"400", "401", "404", "413", "500", "503", "504"}
#: loopback only: no proxy may carry a request elsewhere
NO_PROXY = {"NO_PROXY": "*", "no_proxy": "*", "HTTP_PROXY": "", "HTTPS_PROXY": "", "ALL_PROXY": ""}


@pytest.fixture(scope="module")
def refused_hosts(tmp_path_factory) -> Path:
    """Where the fuzzed server writes each host it was kept from reaching."""
    path = tmp_path_factory.mktemp("fuzz") / "refused-hosts.txt"
    path.touch()
    return path


@pytest.fixture(scope="module")
def keyed_server(refused_hosts):
    paths = [str(LOOPBACK_ONLY), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {"PYTHONPATH": os.pathsep.join(paths), "VLMI_TEST_REFUSED_HOSTS": str(refused_hosts)}
    server = start_server("echo", "--api-key", KEY, env=env)
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def open_server():
    server = start_server("echo")
    yield server
    assert server.stop() == 0


def fetch(url: str, body: dict | None = None, key: str | None = KEY) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def keys_in(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(keys_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_in(v) for v in value))
    return set()


def test_the_document_describes_the_body_and_every_error_status(keyed_server, open_server):
    status, document = fetch(keyed_server.root + "/openapi.json")
    assert status == 200
    chat = document["paths"]["/v1/chat/completions"]["post"]
    assert chat["requestBody"]["required"] is True
    body = chat["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ChatCompletionRequest"}
    schemas = document["components"]["schemas"]
    request = schemas["ChatCompletionRequest"]
    assert {"model", "messages"} <= set(request["required"])
    assert request["additionalProperties"] is False
    assert request["examples"][0]["model"] == "echo"
    assert set(chat["responses"]) >= ERROR_STATUSES
    for code in ERROR_STATUSES:
        schema = chat["responses"][code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    assert set(schemas["ErrorDetail"]["required"]) == {"message", "type", "param", "code"}
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert chat["security"] == [{"HTTPBearer": []}]
    assert not {"ge", "le", "gt", "lt"} & keys_in(document)  # JSON Schema keywords only
    assert schemas["ChatCompletionRequest"]["properties"]["max_tokens"]["anyOf"][0] == {
        "type": "integer",
        "minimum": 1,
    }
    # the echo model takes at most 4 images: the schema says so
    assert '"maxContains": 4' in json.dumps(schemas["UserMessage"])

    status, unkeyed = fetch(open_server.root + "/openapi.json", key=None)
    assert status == 200
    open_chat = unkeyed["paths"]["/v1/chat/completions"]["post"]
    assert "401" not in open_chat["responses"] and "security" not in open_chat
    assert "securitySchemes" not in unkeyed.get("components", {})


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"frequency_penalty": 0, "logprobs": False, "tools": [], "n": 1, "user": "u"}, 200, None),
        ({"frequency_penalty": None, "tool_choice": "none", "response_format": None}, 200, None),
        ({"made_up_parameter": 0}, 400, "InvalidOptionError"),
        ({"logprobs": 0}, 400, "InvalidOptionError"),
        ({"max_tokens": "5"}, 400, "InvalidOptionError"),
        ({"seed": True}, 400, "InvalidOptionError"),
        ({"tools": [{"type": "function"}]}, 400, "InvalidOptionError"),
    ],
)
def test_parameters_are_neutral_known_and_of_their_json_type(open_server, extra, status, code):
    body = {"model": "echo", "messages": [{"role": "user", "content": "one two"}], **extra}
    got, answer = fetch(open_server.base_url + "/chat/completions", body, key=None)
    assert got == status, answer
    if code:
        assert answer["error"]["code"] == code
        assert next(iter(extra)) in answer["error"]["message"]
    else:
        assert answer["choices"][0]["message"]["content"] == "one two"


@pytest.mark.parametrize(
    ("messages", "needle"),
    [
        ([{"role": "system", "content": "only instructions"}], "0 user messages"),
        ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "2 user messages"),
        ([{"role": "system", "content": "x"}, {"role": "user", "content": " \n"}], "no text"),
        ([{"role": "user", "content": [{"type": "text", "text": " "}]}], "no text"),
        ([{"role": "user", "content": []}], "no text"),
    ],
)
def test_one_user_turn_that_says_something(open_server, messages, needle):
    body = {"model": "echo", "messages": messages}
    status, answer = fetch(open_server.base_url + "/chat/completions", body, key=None)
    assert (status, answer["error"]["code"]) == (400, "InvalidSampleError")
    assert needle in answer["error"]["message"]


def test_blank_system_text_and_empty_text_parts_are_fine(open_server):
    messages = [
        {"role": "system", "content": ""},
        {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "hi"}]},
    ]
    body = {"model": "echo", "messages": messages}
    status, answer = fetch(open_server.base_url + "/chat/completions", body, key=None)
    assert status == 200 and answer["choices"][0]["message"]["content"] == "hi"


def test_the_fuzzed_server_reaches_loopback_only(keyed_server, refused_hosts):
    image = {"type": "image_url", "image_url": {"url": "http://pictures.example/p.png"}}
    body = {"model": "echo", "messages": [{"role": "user", "content": [image]}]}
    status, answer = fetch(keyed_server.base_url + "/chat/completions", body)
    assert (status, answer["error"]["code"]) == (400, "ImageDownloadError")
    assert "'pictures.example'" in refused_hosts.read_text()


def test_schemathesis_finds_nothing(keyed_server, refused_hosts, tmp_path):
    """Every check, every phase, 200 examples per operation, a fixed seed."""
    command = [
        str(Path(sysconfig.get_path("scripts")) / "schemathesis"),
        "run",
        keyed_server.root + "/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        "200",
        "--seed",
        "21",
        "--generation-database",
        "none",
        "--header",
        f"Authorization: Bearer {KEY}",
        "--no-color",
    ]
    env = {**os.environ, **NO_PROXY, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    refused_before = refused_hosts.read_text()
    started = time.monotonic()
    run = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600
    )
    took = time.monotonic() - started
    report = run.stdout + run.stderr
    assert run.returncode == 0, f"schemathesis found problems ({took:.0f} s):\n{report}"
    assert "No issues found" in report, report
    counts = re.search(r"(\d+) generated, (\d+) passed", report)
    assert counts, report
    assert int(counts.group(1)) >= 200 and counts.group(1) == counts.group(2), report
    for phase in ("Examples", "Coverage", "Fuzzing"):
        assert re.search(rf"✅ {phase}", report), report
    refused = refused_hosts.read_text()[len(refused_before) :]
    assert not refused, f"the server tried to reach other hosts: {refused}"
    print(f"schemathesis: {counts.group(1)} cases in {took:.1f} s")
