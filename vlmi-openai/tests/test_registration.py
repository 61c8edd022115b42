"""Names, specs and loading options of vlmi-openai (no request is sent here)."""

from __future__ import annotations

import pytest

import vlmi
from vlmi.errors import EngineUnavailableError, InvalidOptionError, UnknownModelError
from vlmi.plugin import find_spec
from vlmi.testing import heavy_modules_after_import


def test_the_catalog_is_listed():
    rows = {m.name: m for m in vlmi.list_models()}
    for name in ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini"):
        assert rows[name].family == "openai"
        assert rows[name].distribution == "vlmi-openai"
    assert find_spec("gpt-4o").defaults == {"api_model": "gpt-4o"}


def test_openai_prefix_claims_any_model_id_keeping_its_spelling():
    spec = find_spec("openai:Qwen/Qwen2.5-VL-7B-Instruct")
    assert spec.name == "openai-qwen-qwen2.5-vl-7b-instruct"
    assert spec.defaults == {"api_model": "Qwen/Qwen2.5-VL-7B-Instruct"}
    assert spec.plugin is not None and spec.plugin.distribution == "vlmi-openai"
    assert find_spec("openai:gpt-4o").name == "gpt-4o"
    # an API model holds no GPU here: `vlmi compare` runs it beside the GPU models
    assert not spec.needs_gpu and not find_spec("gpt-4o").needs_gpu


def test_an_empty_model_id_is_not_claimed():
    with pytest.raises(UnknownModelError, match="vlmi-openai"):
        find_spec("openai:")


def test_importing_the_plugin_imports_no_client_or_engine():
    assert heavy_modules_after_import("vlmi_openai", ("openai", "torch", "numpy", "httpx")) == []


def test_the_openai_api_needs_a_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(EngineUnavailableError, match="OPENAI_API_KEY"):
        vlmi.load("gpt-4o")


def test_environment_variables_set_endpoint_and_key(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    with vlmi.load("openai:some-model") as model:
        assert model.base_url == "http://127.0.0.1:9/v1"
        assert model.client.api_key == "sk-from-env"
        assert model.engine_options.api_model == "some-model"


def test_an_explicit_key_is_kept_out_of_the_repr():
    with vlmi.load("openai:m", base_url="http://127.0.0.1:9/v1", api_key="sk-secret") as model:
        assert model.client.api_key == "sk-secret"
        assert "sk-secret" not in repr(model.engine_options)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("concurrency", 0),
        ("max_retries", -1),
        ("timeout", 0),
        ("max_tokens_param", "max_new_tokens"),
        ("bogus", 1),
    ],
)
def test_bad_options_are_refused(option, value):
    with pytest.raises(InvalidOptionError, match=option):
        vlmi.load("openai:m", base_url="http://127.0.0.1:9/v1", **{option: value})
