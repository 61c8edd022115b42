"""Generation options as chat-completions parameters."""

from __future__ import annotations

import pytest

from vlmi.errors import InvalidOptionError
from vlmi.plugin import GenerationOptions
from vlmi_openai.engine_config import api_params


def options(**values) -> GenerationOptions:
    return GenerationOptions().merged(values)


def test_defaults_are_greedy_with_the_token_limit():
    assert api_params(options()) == {"max_completion_tokens": 512, "temperature": 0.0}


def test_every_option_maps_onto_its_parameter():
    params = api_params(
        options(max_new_tokens=64, temperature=0.7, top_p=0.9, seed=3, stop=["\n", "END"])
    )
    assert params == {
        "max_completion_tokens": 64,
        "temperature": 0.7,
        "top_p": 0.9,
        "seed": 3,
        "stop": ["\n", "END"],
    }


def test_older_servers_get_max_tokens():
    assert api_params(options(max_new_tokens=5), max_tokens_param="max_tokens") == {
        "max_tokens": 5,
        "temperature": 0.0,
    }


def test_top_k_is_refused_unless_the_server_takes_it():
    with pytest.raises(InvalidOptionError, match="send_top_k"):
        api_params(options(top_k=20))
    assert api_params(options(top_k=20), send_top_k=True)["extra_body"] == {"top_k": 20}


def test_more_stop_strings_than_the_api_takes_are_refused():
    with pytest.raises(InvalidOptionError, match="at most 4"):
        api_params(options(stop=["a", "b", "c", "d", "e"]))


def test_an_unknown_token_parameter_is_refused():
    with pytest.raises(InvalidOptionError, match="max_tokens_param"):
        api_params(options(), max_tokens_param="num_predict")
