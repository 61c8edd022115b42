"""One model name from several plugins: vlmi-parrot (a family plugin) and vlmi-mimic (an engine
plugin) provide the same names; the listing, the default, an explicit choice, the errors, the
records and resume, and hub ids / folders claimed from their config.json."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import vlmi
from vlmi._listing import (
    ERROR_FIELDS,
    MODEL_FIELDS,
    PLUGIN_FIELDS,
    RESOLVE_ERROR_FIELDS,
    RESOLVE_FIELDS,
)
from vlmi._run.output import RunConfigMismatchError
from vlmi.errors import DuplicateModelError, UnknownModelError
from vlmi.plugin import find_spec


def providers(name: str) -> list[tuple[str, bool]]:
    return [(m.distribution, m.default) for m in vlmi.list_models() if m.name == name]


def test_each_name_is_listed_once_per_plugin_with_its_default():
    # a family plugin goes before an engine plugin, whatever the engine plugin's preference
    assert providers("parrot-1b") == [("vlmi-parrot", True), ("vlmi-mimic", False)]
    # two engine plugins' specs: the higher preference (vlmi-mimic's 5 over 0) is the default
    assert providers("parrot-3b") == [("vlmi-mimic", True), ("vlmi-parrot", False)]
    # equal standing: listed, neither the default
    assert sorted(providers("parrot-tie")) == [("vlmi-mimic", False), ("vlmi-parrot", False)]
    assert providers("mimic-only") == [("vlmi-mimic", True)]


def test_the_default_and_an_explicit_choice_answer_through_their_own_plugin():
    assert vlmi.load("parrot-1b").eval("hi") == "parrot: hi"
    assert vlmi.load("PARROT-SMALL").eval("hi") == "parrot: hi"  # vlmi-parrot's alias
    assert vlmi.load("parrot-3b").eval("hi") == "mimic: hi"
    assert vlmi.load("parrot-1b", plugin="vlmi-mimic").eval("hi") == "mimic: hi"
    assert vlmi.load("parrot-3b", plugin="vlmi_parrot").eval("hi") == "parrot: hi"
    assert vlmi.load("parrot-tie", plugin="mimic").eval("hi") == "mimic: hi"  # entry point
    assert find_spec("parrot-tie", plugin="vlmi-parrot").plugin.distribution == "vlmi-parrot"


def test_no_rule_to_decide_is_an_error_naming_both_and_the_fix():
    with pytest.raises(DuplicateModelError) as info:
        vlmi.load("parrot-tie")
    message = str(info.value)
    assert "vlmi-parrot" in message and "vlmi-mimic" in message
    assert "plugin=" in message and "--plugin" in message
    assert not info.value.twice


def test_one_plugin_registering_a_name_twice_is_an_error():
    with pytest.raises(DuplicateModelError, match="registered twice by vlmi-mimic") as info:
        vlmi.load("mimic-twice")
    assert info.value.twice
    with pytest.raises(DuplicateModelError, match="twice"):
        vlmi.load("mimic-twice", plugin="vlmi-mimic")


def test_a_plugin_that_does_not_provide_the_name_or_is_not_installed():
    with pytest.raises(UnknownModelError, match="'vlmi-parrot' does not provide.*vlmi-mimic"):
        vlmi.load("mimic-only", plugin="vlmi-parrot")
    with pytest.raises(UnknownModelError, match="no loaded plugin is called 'vlmi-nope'"):
        vlmi.load("parrot-1b", plugin="vlmi-nope")


def test_the_command_line_picks_with_plugin(vlmi_cli):
    picked = vlmi_cli("eval", "parrot-1b", "hi", "--plugin", "vlmi-mimic")
    assert picked.stdout.strip() == "mimic: hi", picked.stderr
    undecided = vlmi_cli("eval", "parrot-tie", "hi")
    assert undecided.returncode == 1
    assert "no rule decides" in undecided.stderr and "--plugin" in undecided.stderr


def _check_fields(entry: dict, documented: dict[str, str]) -> None:
    assert list(entry) == list(documented), "a field is not documented, or a documented one gone"


def test_models_json_has_exactly_the_documented_fields(vlmi_cli):
    out = vlmi_cli("models", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"format", "vlmi_version", "models", "conflicts"}
    assert data["format"] == 1
    for entry in data["models"]:
        _check_fields(entry, MODEL_FIELDS)
        assert isinstance(entry["name"], str) and isinstance(entry["aliases"], list)
        assert isinstance(entry["default"], bool) and isinstance(entry["generic"], bool)
        assert isinstance(entry["preference"], int)
        assert entry["engine_version"] is None or isinstance(entry["engine_version"], str)
    rows = {(e["name"], e["plugin"]): e for e in data["models"]}
    mimic = rows["parrot-1b", "vlmi-mimic"]
    assert (mimic["plugin_version"], mimic["entry_point"]) == ("1.4.0", "mimic")
    assert (mimic["engine"], mimic["engine_version"]) == ("mimic", "1.4.0")
    assert (mimic["default"], mimic["generic"], mimic["preference"]) == (False, True, 5)
    parrot = rows["parrot-1b", "vlmi-parrot"]
    assert (parrot["default"], parrot["generic"], parrot["aliases"]) == (
        True,
        False,
        ["parrot-small"],
    )
    assert parrot["engine_version"] is None  # engine "python": no such distribution
    assert sorted(data["conflicts"]["parrot-tie"]) == ["vlmi-mimic", "vlmi-parrot"]
    assert data["conflicts"]["mimic-twice"] == ["vlmi-mimic", "vlmi-mimic"]
    text = vlmi_cli("models").stdout
    assert "parrot-1b *" in text and "pick another with --plugin" in text


def test_plugins_json_has_exactly_the_documented_fields(vlmi_cli):
    out = vlmi_cli("plugins", "--json")
    data = json.loads(out.stdout)
    assert set(data) == {"format", "vlmi_version", "plugins", "errors", "conflicts"}
    for entry in data["plugins"]:
        _check_fields(entry, PLUGIN_FIELDS)
    for entry in data["errors"]:
        _check_fields(entry, ERROR_FIELDS)
    mimic = {p["distribution"]: p for p in data["plugins"]}["vlmi-mimic"]
    assert (mimic["status"], mimic["models"], mimic["engines"]) == ("loaded", 5, {"mimic": "1.4.0"})
    disabled = json.loads(
        vlmi_cli("plugins", "--json", env={"VLMI_DISABLE_PLUGINS": "vlmi-mimic"}).stdout
    )
    entry = {p["distribution"]: p for p in disabled["plugins"]}["vlmi-mimic"]
    _check_fields(entry, PLUGIN_FIELDS)
    assert (entry["status"], entry["models"], entry["engines"]) == ("disabled", 0, {})


def test_resolve_json_says_what_a_name_gives_here_with_the_documented_fields(vlmi_cli):
    out = vlmi_cli("models", "--resolve", "Parrot-3B", "--plugin", "vlmi-parrot", "--json")
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    _check_fields(found, {"format": "", "vlmi_version": "", **RESOLVE_FIELDS})
    assert (found["name"], found["given"], found["plugin"]) == (
        "parrot-3b",
        "Parrot-3B",
        "vlmi-parrot",
    )
    assert (found["engine"], found["engine_version"], found["needs_gpu"]) == ("python", None, False)
    mimic = json.loads(vlmi_cli("models", "--resolve", "parrot-3b", "--json").stdout)
    assert (mimic["plugin"], mimic["engine_version"], mimic["needs_gpu"]) == (
        "vlmi-mimic",
        "1.4.0",
        True,  # the default: an engine plugin's model runs on a GPU
    )
    missing = vlmi_cli("models", "--resolve", "Qwen3-VL-8B", "--json")
    assert missing.returncode == 1
    error = json.loads(missing.stdout)["error"]
    _check_fields(error, RESOLVE_ERROR_FIELDS)
    assert error["type"] == "UnknownModelError" and "'Qwen3-VL-8B'" in error["message"]
    assert error["install"] == ["vlmi-transformers", "vlmi-vllm"]
    bad = json.loads(vlmi_cli("models", "--resolve", "parrot-1b", "-O", "bogus=1", "--json").stdout)
    assert bad["error"]["type"] == "InvalidOptionError" and bad["error"]["install"] == []
    plain = vlmi_cli("models", "--resolve", "parrot-small")
    assert "plugin: vlmi-parrot" in plain.stdout.splitlines()


def test_the_documented_field_tables_are_in_the_listing_module_docs():
    """Each field has a one-line meaning, which docs/formats.md's tables are made from."""
    for table in (MODEL_FIELDS, PLUGIN_FIELDS, ERROR_FIELDS, RESOLVE_FIELDS, RESOLVE_ERROR_FIELDS):
        assert all(isinstance(v, str) and v and "\n" not in v for v in table.values())


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_records_say_who_answered_and_resume_refuses_another_plugin(tmp_path, vlmi_cli):
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "query": f"q{i}"}) + "\n" for i in range(3)))
    out = tmp_path / "out.jsonl"
    done = vlmi_cli("run", "parrot-1b", str(data), "-o", str(out), "-q", "--plugin", "vlmi-mimic")
    assert done.returncode == 0, done.stderr
    records = _records(out)
    assert [r["prediction"] for r in records] == ["mimic: q0", "mimic: q1", "mimic: q2"]
    for record in records:
        assert record["model"] == "parrot-1b"
        assert (record["plugin"], record["plugin_version"]) == ("vlmi-mimic", "1.4.0")
        assert (record["engine"], record["engine_version"]) == ("mimic", "1.4.0")
        assert "generation" in record["options"]
    # the default provider of the name is another plugin: the output is not resumed with it
    refused = vlmi_cli("run", "parrot-1b", str(data), "-o", str(out), "-q")
    assert refused.returncode == 1
    assert "plugin 'vlmi-mimic' -> 'vlmi-parrot'" in refused.stderr
    assert "engine 'mimic' -> 'python'" in refused.stderr
    assert len(_records(out)) == 3
    # the same plugin again resumes (nothing left to do)
    again = vlmi.run(vlmi.load("parrot-1b", plugin="vlmi-mimic"), data, out, progress=False)
    assert (again.done, again.skipped) == (0, 3)
    with pytest.raises(RunConfigMismatchError, match="plugin_version '1.4.0' -> '0.3.0'"):
        vlmi.run("parrot-1b", data, out, progress=False, load_options={"plugin": "vlmi-parrot"})


def test_records_written_before_they_named_their_plugin_are_resumed(tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "query": f"q{i}"}) + "\n" for i in range(2)))
    out = tmp_path / "out.jsonl"
    vlmi.run("parrot-1b", data, out, progress=False)
    old = _records(out)[0]
    for key in ("plugin", "plugin_version", "engine", "engine_version"):
        del old[key]
    out.write_text(json.dumps(old) + "\n")
    summary = vlmi.run("parrot-1b", data, out, progress=False)
    assert (summary.done, summary.skipped) == (1, 1)


# --- hub ids and folders, claimed from config.json ------------------------------------------

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class _Hub(BaseHTTPRequestHandler):
    """A loopback Hugging Face endpoint: each repo holds a config.json and big weights."""

    files: dict[str, bytes] = {}
    requests: list[str] = []

    def _answer(self, body: bool) -> None:
        self.requests.append(f"{self.command} {self.path}")
        # /{org}/{name}/resolve/{revision}/{file}
        parts = self.path.split("?")[0].strip("/").split("/")
        key = f"{parts[0]}/{parts[1]}/{parts[-1]}" if len(parts) >= 5 else ""
        content = self.files.get(key)
        if content is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{hashlib.sha1(content).hexdigest()}"')
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if body:
            self.wfile.write(content)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub() -> Iterator[str]:
    weights = b"\0" * 4096
    _Hub.files = {
        "parrot-org/Parrot-Ckpt/config.json": json.dumps(
            {"model_type": "parrot", "architectures": ["ParrotForCausalLM"]}
        ).encode(),
        "parrot-org/Parrot-Ckpt/model.safetensors": weights,
        "parrot-org/Mimic-Ckpt/config.json": json.dumps(
            {"model_type": "mimic", "architectures": ["MimicForCausalLM"]}
        ).encode(),
        "parrot-org/Mimic-Ckpt/model.safetensors": weights,
        "parrot-org/Other-Ckpt/config.json": json.dumps({"model_type": "bert"}).encode(),
    }
    _Hub.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


CLAIMS = """
import json, vlmi
from vlmi.plugin import find_spec
from vlmi.errors import UnknownModelError
out = {}
for name, plugin in [("parrot-org/Parrot-Ckpt", None), ("parrot-org/Parrot-Ckpt", "vlmi-mimic"),
                     ("parrot-org/Mimic-Ckpt", None)]:
    spec = find_spec(name, plugin)
    out[f"{name} {plugin}"] = [spec.name, spec.plugin.distribution]
out["answer"] = vlmi.load("parrot-org/Parrot-Ckpt").eval("hi")
out["told"] = find_spec("parrot-org/Mimic-Ckpt", revision="v2").description
try:
    find_spec("parrot-org/Other-Ckpt")
except UnknownModelError as exc:
    out["other"] = str(exc)
print(json.dumps(out))
"""


def test_hub_ids_are_claimed_from_config_json_by_the_rule_and_no_weights_are_fetched(hub, tmp_path):
    env = {
        "HF_ENDPOINT": hub,
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", CLAIMS],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    # both plugins claim a ParrotForCausalLM checkpoint: the family plugin is the default
    assert out["parrot-org/Parrot-Ckpt None"] == ["parrot-checkpoint", "vlmi-parrot"]
    assert out["parrot-org/Parrot-Ckpt vlmi-mimic"] == ["mimic-checkpoint", "vlmi-mimic"]
    assert out["parrot-org/Mimic-Ckpt None"] == ["mimic-checkpoint", "vlmi-mimic"]
    assert out["answer"] == "parrot: hi"
    assert out["told"] == "asked for huggingface at v2"  # the claim is told hub and revision
    assert "model_type 'bert'" in out["other"]
    fetched = {line.split()[1].rsplit("/", 1)[-1] for line in _Hub.requests}
    assert fetched == {"config.json"}, _Hub.requests
    assert any("Parrot-Ckpt" in line for line in _Hub.requests)


def test_a_folder_is_claimed_from_its_config_json_by_the_same_rule(tmp_path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["ParrotForCausalLM"]}))
    assert find_spec(str(folder)).plugin.distribution == "vlmi-parrot"
    assert find_spec(str(folder), plugin="vlmi-mimic").name == "mimic-checkpoint"
    (folder / "config.json").write_text(json.dumps({"architectures": ["MimicForCausalLM"]}))
    assert find_spec(str(folder)).plugin.distribution == "vlmi-mimic"
    with pytest.raises(UnknownModelError, match="'vlmi-parrot' does not provide"):
        find_spec(str(folder), plugin="vlmi-parrot")


def test_claims_are_told_the_hub_and_revision_the_weights_come_from(tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["MimicForCausalLM"]}))
    assert find_spec(str(tmp_path)).description == "asked for huggingface"
    told = find_spec(str(tmp_path), hub="modelscope", revision="v2")
    assert told.description == "asked for modelscope at v2"
    monkeypatch.setenv("VLMI_HUB", "modelscope")
    assert find_spec(str(tmp_path)).description == "asked for modelscope"
