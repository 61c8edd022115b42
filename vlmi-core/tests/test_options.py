from __future__ import annotations

from dataclasses import dataclass

import pytest

from vlmi._options import EngineOptions, parse_load_options
from vlmi.errors import InvalidOptionError


@dataclass(frozen=True)
class Engine(EngineOptions):
    tp: int = 1
    share: float = 0.8
    backend: str = "turbomind"
    eager: bool = False
    session_len: int | None = None


def test_split_and_coerce_cli_strings():
    parsed = parse_load_options(
        "m",
        Engine,
        {"tp": "2", "share": 1, "eager": "true", "session_len": "none", "max_new_tokens": 9},
    )
    assert parsed.engine == Engine(tp=2, share=1.0, eager=True, session_len=None)
    assert parsed.generation.max_new_tokens == 9
    assert parsed.weights.hub == "huggingface"


def test_spec_defaults_are_overridden_by_options():
    parsed = parse_load_options("m", Engine, {"tp": 4}, defaults={"tp": 2, "backend": "pytorch"})
    assert parsed.engine == Engine(tp=4, backend="pytorch")


def test_unknown_option_lists_every_accepted_name():
    with pytest.raises(InvalidOptionError) as info:
        parse_load_options("m", Engine, {"tensor_parallel": 2})
    message = str(info.value)
    for name in ("model_path", "hub", "revision", "tp", "share", "max_new_tokens", "stop"):
        assert name in message


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"tp": "two"}, "tp must be int"),
        ({"tp": True}, "tp"),
        ({"eager": 3}, "eager"),
        ({"hub": "x"}, "hub"),
    ],
)
def test_bad_values(options, match):
    with pytest.raises(InvalidOptionError, match=match):
        parse_load_options("m", Engine, options)


def test_hub_from_environment(monkeypatch):
    monkeypatch.setenv("VLMI_HUB", "modelscope")
    assert parse_load_options("m", Engine, {}).weights.hub == "modelscope"
