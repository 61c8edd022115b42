"""The registry's logic on specs built here; real entry-point discovery is in tests/."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vlmi._plugins import PluginSet, get_plugin_manager
from vlmi._registry import Registry
from vlmi._spec import ModelSpec, PluginInfo
from vlmi.errors import DuplicateModelError, PluginError, UnknownModelError


def spec(name, dist="vlmi-a", aliases=()):
    return ModelSpec(
        name=name,
        aliases=aliases,
        factory="x:Y",
        family="f",
        engine="e",
        plugin=PluginInfo(dist.removeprefix("vlmi-"), dist, "1.0"),
    )


def registry():
    return Registry(PluginSet(get_plugin_manager()))


def test_names_and_aliases_resolve_case_insensitively():
    reg = registry()
    reg.add(spec("m-1", aliases=("m1",)))
    assert reg.resolve("M1").name == "m-1"
    assert reg.resolve(" m-1 ").name == "m-1"


def test_a_clash_names_both_distributions_and_spares_the_rest():
    reg = registry()
    reg.add(spec("shared", "vlmi-a"))
    reg.add(spec("only-b", "vlmi-b", aliases=("shared",)))
    with pytest.raises(DuplicateModelError) as info:
        reg.resolve("shared")
    assert "vlmi-a" in str(info.value)
    assert "vlmi-b" in str(info.value)
    assert reg.resolve("only-b").name == "only-b"
    # both stay listed; the shared name has no default
    assert [(s.name, reg.is_default(s)) for s in reg.models()] == [
        ("only-b", True),
        ("shared", False),
    ]
    assert set(reg.conflicts) == {"shared"}


def test_missing_family_plugin_names_the_install_command():
    with pytest.raises(UnknownModelError, match="pip install vlmi-internvl2"):
        registry().resolve("internvl2-8b")
    with pytest.raises(UnknownModelError, match="pip install vlmi-minicpmv"):
        registry().resolve("MiniCPM-V-2_6")
    with pytest.raises(UnknownModelError, match="pip install vlmi-transformers"):
        registry().resolve("internvl3-8b-hf")
    with pytest.raises(UnknownModelError, match="pip install vlmi-transformers"):
        registry().resolve("Qwen2.5-VL-7B")
    with pytest.raises(UnknownModelError, match="pip install vlmi-internvl2"):
        registry().resolve("OpenGVLab/InternVL2-8B")


@pytest.mark.parametrize("name", ["internvl2.5-8b", "InternVL2_5-8B", "OpenGVLab/InternVL2_5-8B"])
def test_newer_internvl_generations_are_not_sent_to_vlmi_internvl2(name):
    with pytest.raises(UnknownModelError) as info:
        registry().resolve(name)
    assert "vlmi-internvl2" not in str(info.value)
    assert "pip install vlmi-vllm" in str(info.value)


def test_internvl3_remote_code_goes_to_vlmi_vllm_and_the_converted_one_to_transformers():
    with pytest.raises(UnknownModelError, match="pip install vlmi-vllm") as info:
        registry().resolve("internvl3-8b")
    assert "vlmi-transformers" not in str(info.value)
    with pytest.raises(UnknownModelError, match="pip install vlmi-transformers"):
        registry().resolve("internvl3-8b-hf")


def test_a_model_several_plugins_serve_names_each_of_them():
    with pytest.raises(UnknownModelError) as info:
        registry().resolve("qwen3-vl-8b")
    message = str(info.value)
    assert "pip install vlmi-transformers (transformers)" in message
    assert "pip install vlmi-vllm (vllm)" in message


def test_the_core_code_names_no_plugin_outside_its_hint_table():
    from pathlib import Path

    import vlmi

    core = Path(vlmi.__file__).parent
    named = {
        path.name
        for path in core.rglob("*.py")
        if path.name != "_install_hints.py"
        and any(
            d in path.read_text() for d in ("vlmi-internvl2", "vlmi-minicpmv", "vlmi-transformers")
        )
    }
    assert named == set()


def test_close_matches_are_suggested():
    reg = registry()
    reg.add(spec("qwen2-vl-7b"))
    with pytest.raises(UnknownModelError, match="Did you mean: qwen2-vl-7b"):
        reg.resolve("qwen2-vl-7")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "Bad Name"},
        {"name": "ok", "factory": "no_colon"},
        {"name": "ok", "weights": {"github": "x"}},
        {"name": "ok", "max_images": -1},
    ],
)
def test_invalid_specs(kwargs):
    base = {"factory": "x:Y", "family": "f", "engine": "e"}
    with pytest.raises(PluginError):
        ModelSpec(**{**base, **kwargs})


def test_factory_import_errors_are_plugin_errors():
    from vlmi._api import model_class

    with pytest.raises(PluginError, match="reinstall vlmi-a"):
        model_class(spec("m"))
    broken = ModelSpec(name="m", factory="vlmi.errors:Nope", family="f", engine="e")
    with pytest.raises(PluginError, match="has no 'Nope'"):
        model_class(broken)
    not_a_model = ModelSpec(name="m", factory="vlmi.errors:VlmiError", family="f", engine="e")
    with pytest.raises(PluginError, match="not a vlmi.Model subclass"):
        model_class(not_a_model)


def test_a_plugin_whose_registration_fails_is_unloaded_and_not_asked_to_resolve():
    from vlmi._registry import build_registry
    from vlmi.plugin import hookimpl

    asked: list[str] = []

    class Failing:
        @hookimpl
        def register_models(self, register):
            raise RuntimeError("boom")

        @hookimpl
        def resolve_model(self, name):
            asked.append(name)
            return spec("claimed")

    plugins = PluginSet(get_plugin_manager())
    plugins.manager.register(Failing(), name="failing")
    plugins.loaded["failing"] = PluginInfo("failing", "vlmi-failing", "1")
    registry = build_registry(plugins)
    assert "failing" not in plugins.loaded
    assert [(f.distribution, f.stage) for f in plugins.failures] == [("vlmi-failing", "register")]
    with pytest.raises(UnknownModelError, match="vlmi-failing"):
        registry.resolve("anything")
    assert asked == []


def test_the_choice_rule_family_plugin_then_preference_then_an_error():
    reg = registry()
    reg.add(replace(spec("m", "vlmi-engine-a"), generic=True, preference=9))
    reg.add(spec("m", "vlmi-family"))
    reg.add(replace(spec("m", "vlmi-engine-b"), generic=True, preference=1))
    assert reg.resolve("m").plugin.distribution == "vlmi-family"
    assert reg.resolve("m", plugin="vlmi-engine-b").plugin.distribution == "vlmi-engine-b"
    assert next(s.plugin.distribution for s in reg.models()) == "vlmi-family"

    engines = registry()
    engines.add(replace(spec("m", "vlmi-engine-a"), generic=True, preference=9))
    engines.add(replace(spec("m", "vlmi-engine-b"), generic=True, preference=1))
    assert engines.resolve("m").plugin.distribution == "vlmi-engine-a"

    tie = registry()
    tie.add(replace(spec("m", "vlmi-engine-a"), generic=True))
    tie.add(replace(spec("m", "vlmi-engine-b"), generic=True))
    tie.add(replace(spec("m", "vlmi-engine-c"), generic=True, preference=-1))
    with pytest.raises(DuplicateModelError) as info:
        tie.resolve("m")
    assert info.value.owners[0].startswith("vlmi-engine-a")
    assert [o.split()[0] for o in info.value.owners] == ["vlmi-engine-a", "vlmi-engine-b"]


def test_one_plugin_registering_a_name_twice_has_no_default():
    reg = registry()
    reg.add(spec("m", "vlmi-a"))
    reg.add(spec("m", "vlmi-a", aliases=("m2",)))
    reg.add(replace(spec("m", "vlmi-b"), generic=True))
    with pytest.raises(DuplicateModelError, match="registered twice by vlmi-a"):
        reg.resolve("m")
    assert reg.resolve("m", plugin="vlmi-b").plugin.distribution == "vlmi-b"
    assert reg.resolve("m2").plugin.distribution == "vlmi-a"


def test_claims_get_the_config_and_follow_the_same_rule(tmp_path):
    from vlmi._registry import build_registry
    from vlmi.plugin import hookimpl

    (tmp_path / "config.json").write_text('{"architectures": ["TinyForCausalLM"]}')
    seen: list[object] = []

    class Claimant:
        def __init__(self, dist, generic):
            self.dist, self.generic = dist, generic

        @hookimpl
        def register_models(self, register):
            pass

        @hookimpl
        def resolve_model(self, name, config):
            seen.append(config)
            return replace(spec("ckpt", self.dist), generic=self.generic)

    plugins = PluginSet(get_plugin_manager())
    for dist, generic in (("vlmi-eng", True), ("vlmi-fam", False)):
        plugins.manager.register(Claimant(dist, generic), name=dist)
        plugins.loaded[dist] = PluginInfo(dist, dist, "1")
    reg = build_registry(plugins)
    assert reg.resolve(str(tmp_path)).plugin.distribution == "vlmi-fam"
    assert seen == [{"architectures": ["TinyForCausalLM"]}] * 2
    assert reg.resolve(str(tmp_path), plugin="vlmi-eng").plugin.distribution == "vlmi-eng"
    assert reg.resolve("not-a-path").plugin.distribution == "vlmi-fam"
    assert seen[-1] is None  # no folder, no hub id: no config
