"""Real entry-point discovery with the test plugins installed (vlmi-echo good, vlmi-broken not)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import vlmi
from vlmi._registry import get_registry
from vlmi.errors import PluginError
from vlmi.plugin import hookimpl


def test_good_plugin_is_found_and_broken_one_is_recorded():
    names = {m.name: m for m in vlmi.list_models()}
    assert names["echo"].distribution == "vlmi-echo"
    assert names["echo"].version == "0.1.0"
    assert names["echo"].aliases == ("echo-test",)
    assert names["echo"].default_weights == "vlmi/echo"
    failures = get_registry().plugins.failures
    assert [(f.distribution, f.stage) for f in failures] == [("vlmi-broken", "import")]
    assert "pip install not-an-engine" in failures[0].error


def test_alias_loads_the_same_model():
    assert vlmi.load("ECHO-TEST").name == "echo"


def test_missing_family_plugin_says_what_to_install():
    with pytest.raises(vlmi.errors.UnknownModelError, match="pip install vlmi-internvl2"):
        vlmi.load("internvl2-8b")


def test_model_classes_are_the_strategy_base():
    model = vlmi.load("echo")
    assert isinstance(model, vlmi.Model)
    assert "echo" in repr(model)


def _plugins_json(vlmi_cli, **env):
    out = vlmi_cli("plugins", "--json", env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_plugins_command_shows_versions_and_errors(vlmi_cli):
    data = _plugins_json(vlmi_cli)
    status = {p["distribution"]: p["status"] for p in data["plugins"]}
    assert status == {
        "vlmi-echo": "loaded",
        "vlmi-parrot": "loaded",
        "vlmi-mimic": "loaded",
        "vlmi-broken": "error",
    }
    assert data["errors"][0]["stage"] == "import"
    text = vlmi_cli("plugins")
    assert "vlmi-broken 0.1.0" in text.stdout
    assert "not-an-engine" in text.stdout


def test_disable_by_entry_point_or_distribution(vlmi_cli):
    for name in ("broken", "vlmi-broken"):
        data = _plugins_json(vlmi_cli, VLMI_DISABLE_PLUGINS=name)
        assert data["errors"] == []
        assert {p["distribution"]: p["status"] for p in data["plugins"]}[
            "vlmi-broken"
        ] == "disabled"
    data = _plugins_json(vlmi_cli, VLMI_DISABLE_PLUGINS="*")
    assert {p["status"] for p in data["plugins"]} == {"disabled"}


def test_allowlist(vlmi_cli):
    data = _plugins_json(vlmi_cli, VLMI_LOAD_PLUGINS="echo")
    assert data["errors"] == []
    models = vlmi_cli("models", "--json", env={"VLMI_LOAD_PLUGINS": ""})
    assert json.loads(models.stdout)["models"] == []


def test_strict_mode_raises_the_plugin_error():
    code = "import vlmi; vlmi.list_models()"
    env = {"VLMI_STRICT_PLUGINS": "1"}
    import os

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}
    )
    assert out.returncode != 0
    assert "not-an-engine" in out.stderr


def test_import_is_light():
    """What `import vlmi` pulls in (its time is measured by benchmarks/bench_import.py)."""
    code = (
        "import sys, json, vlmi, vlmi.plugin; "
        "print(json.dumps([m for m in ('torch', 'numpy', 'transformers', 'PIL', 'vllm', "
        "'lmdeploy', 'tqdm', 'pandas') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_register_rejects_non_specs():
    from vlmi._plugins import PluginSet, get_plugin_manager
    from vlmi._registry import build_registry
    from vlmi._spec import PluginInfo

    class Plugin:
        @hookimpl
        def register_models(self, register):
            register({"name": "not a spec"})

    plugins = PluginSet(get_plugin_manager())
    plugins.manager.register(Plugin(), name="p")
    plugins.loaded["p"] = PluginInfo("p", "vlmi-p", "1")
    registry = build_registry(plugins)
    assert registry.specs == []
    assert "vlmi.plugin.ModelSpec" in plugins.failures[0].error
    assert PluginError.__name__ in plugins.failures[0].error
