from __future__ import annotations

import pytest

from vlmi._generation import GenerationOptions
from vlmi.errors import InvalidOptionError


def test_defaults_are_greedy():
    options = GenerationOptions()
    assert options.greedy
    assert options.max_new_tokens == 512


def test_merge_coerces():
    options = GenerationOptions().merged(
        {"max_new_tokens": "16", "temperature": 0.7, "top_k": 0, "stop": "###", "seed": 3}
    )
    assert options.max_new_tokens == 16
    assert not options.greedy
    assert options.top_k is None
    assert options.stop == ("###",)
    assert options.to_dict()["stop"] == ["###"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_new_tokens", 0),
        ("max_new_tokens", 1.5),
        ("max_new_tokens", True),
        ("temperature", -1),
        ("temperature", "hot"),
        ("top_p", 0),
        ("top_p", 1.5),
        ("top_k", -2),
        ("stop", ["", "x"]),
        ("stop", 5),
        ("stop", {"a": 1}),
        ("seed", "abc"),
        ("max_new_tokens", float("inf")),
        ("max_new_tokens", float("nan")),
        ("temperature", float("nan")),
        ("temperature", float("inf")),
        ("top_p", float("nan")),
        ("seed", float("inf")),
    ],
)
def test_bad_values(name, value):
    with pytest.raises(InvalidOptionError, match=name):
        GenerationOptions().merged({name: value})


def test_unknown_name_lists_accepted():
    with pytest.raises(InvalidOptionError, match="max_new_tokens, temperature, top_p"):
        GenerationOptions().merged({"max_tokens": 5})


def test_generation_options_must_be_a_mapping():
    with pytest.raises(InvalidOptionError, match="mapping"):
        GenerationOptions().merged(["max_new_tokens", 5])  # type: ignore[arg-type]


def test_cut_at_stop_cuts_at_the_earliest_stop_string():
    options = GenerationOptions(stop=("END", "\n\n"))
    assert options.cut_at_stop("one\n\ntwo END") == "one"
    assert options.cut_at_stop("a END b\n\n") == "a "
    assert options.cut_at_stop("no marker") == "no marker"
    assert GenerationOptions().cut_at_stop("kept\n\nwhole") == "kept\n\nwhole"
