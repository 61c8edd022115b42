"""Every vlmi option built into the real LMDeploy config objects, and their refusals."""

from __future__ import annotations

from typing import Any

import pytest
from lmdeploy import GenerationConfig, PytorchEngineConfig, TurbomindEngineConfig, VisionConfig

from vlmi.errors import InvalidOptionError
from vlmi.plugin import GenerationOptions, parse_load_options
from vlmi_internvl2.engine_config import (
    TEXT_BUDGET,
    backend_config,
    finish_text,
    generation_config,
    pipeline_kwargs,
    session_len,
)
from vlmi_internvl2.model import InternVL2Options
from vlmi_internvl2.prompts import SYSTEM_PROMPT


def options(**given: Any) -> InternVL2Options:
    engine = parse_load_options("internvl2-8b", InternVL2Options, given).engine
    assert isinstance(engine, InternVL2Options)
    return engine


def test_defaults_build_an_explicit_turbomind_config():
    kwargs = pipeline_kwargs("/weights", options(), max_images=8)
    config = kwargs["backend_config"]
    assert type(config) is TurbomindEngineConfig
    assert (config.tp, config.cache_max_entry_count, config.dtype) == (1, 0.8, "auto")
    assert config.max_batch_size is None  # LMDeploy sizes it for the GPU it finds
    # 8 images share 24 tiles (3 each + thumbnail): 32 tiles; one image: 13 tiles
    assert config.session_len == 32 * 256 + TEXT_BUDGET
    assert isinstance(kwargs["vision_config"], VisionConfig)
    assert kwargs["vision_config"].max_batch_size == 16
    assert kwargs["trust_remote_code"] is True
    assert kwargs["model_path"] == "/weights"
    template = kwargs["chat_template_config"]
    assert (template.model_name, template.model_path) == ("hf", "/weights")


def test_every_engine_option_reaches_the_pytorch_config():
    given = options(
        backend="pytorch",
        tp=2,
        session_len=20000,
        cache_max_entry_count=0.5,
        max_batch_size=64,
        dtype="float16",
        vision_max_batch_size=4,
    )
    kwargs = pipeline_kwargs("/weights", given, max_images=8)
    config = kwargs["backend_config"]
    assert type(config) is PytorchEngineConfig
    assert (config.tp, config.session_len, config.cache_max_entry_count) == (2, 20000, 0.5)
    assert (config.max_batch_size, config.dtype) == (64, "float16")
    assert kwargs["vision_config"].max_batch_size == 4


def test_session_len_follows_the_tile_budget():
    assert session_len(options(max_dynamic_patch=6, max_total_tiles=6), 1) == 7 * 256 + TEXT_BUDGET
    # two images, 12 tiles each + thumbnails = 26 tiles
    assert session_len(options(), 2) == 26 * 256 + TEXT_BUDGET


@pytest.mark.parametrize(
    ("given", "match"),
    [
        ({"backend": "vllm"}, "backend must be one of"),
        ({"dtype": "float32"}, "dtype must be one of"),
        ({"cache_max_entry_count": 1.5}, "cache_max_entry_count"),
    ],
)
def test_bad_engine_values_are_refused(given: dict[str, Any], match: str):
    with pytest.raises(InvalidOptionError, match=match):
        backend_config(options(**given), 8)


@pytest.mark.parametrize(
    ("given", "match"),
    [
        ({"tp": 0}, "tp must be >= 1"),
        ({"session_len": 0}, "session_len"),
        ({"max_total_tiles": 0}, "max_total_tiles"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_counts_are_refused_at_load(given: dict[str, Any], match: str):
    with pytest.raises(InvalidOptionError, match=match):
        options(**given)


def test_the_system_prompt_is_internvl2s_own_by_default():
    assert options().system_prompt == SYSTEM_PROMPT
    assert options(system_prompt="").system_prompt == ""


def test_greedy_is_explicit():
    config = generation_config(GenerationOptions(max_new_tokens=7), [5, 6])
    assert type(config) is GenerationConfig
    assert (config.do_sample, config.top_k, config.max_new_tokens) == (False, 1, 7)
    assert config.stop_token_ids == [5, 6]
    assert (config.repetition_penalty, config.min_p, config.n) == (1.0, 0.0, 1)
    assert config.random_seed is None and config.stop_words is None


def test_sampling_needs_do_sample_and_keeps_the_seed():
    config = generation_config(
        GenerationOptions(temperature=0.7, top_p=0.9, top_k=40, seed=11), [5]
    )
    assert (config.do_sample, config.temperature, config.top_p, config.top_k) == (
        True,
        0.7,
        0.9,
        40,
    )
    assert config.random_seed == 11
    assert generation_config(GenerationOptions(temperature=0.7), [5]).top_k == 0  # all tokens


def test_a_temperature_lmdeploy_cannot_take_is_an_error():
    with pytest.raises(InvalidOptionError, match="LMDeploy cannot honour"):
        generation_config(GenerationOptions(temperature=2.5), [5])


def test_only_one_token_stop_strings_go_to_lmdeploy():
    tokens = {"\n": [10], "Answer:": [3, 4]}
    config = generation_config(GenerationOptions(stop=("\n",)), [5], tokens.__getitem__)
    assert config.stop_words == ["\n"] and config.include_stop_str_in_output is True
    both = GenerationOptions(stop=("\n", "Answer:"))
    assert generation_config(both, [5], tokens.__getitem__).stop_words == ["\n"]
    longer = generation_config(GenerationOptions(stop=("Answer:",)), [5], tokens.__getitem__)
    assert longer.stop_words is None and longer.include_stop_str_in_output is False
    assert finish_text("42\nAnswer: 7", both, ()) == "42"


def test_finish_text_cuts_at_the_first_stop_and_drops_end_of_turn():
    stop = GenerationOptions(stop=("\n",))
    assert finish_text("A cat.\nMore", stop, ("<|im_end|>",)) == "A cat."
    assert finish_text("A cat.<|im_end|>", GenerationOptions(), ("<|im_end|>",)) == "A cat."
    assert finish_text("x. y; z", GenerationOptions(stop=(";", ".")), ()) == "x"


def test_importing_lmdeploy_leaves_truncated_images_refused():
    from PIL import ImageFile

    from vlmi_internvl2.engine_config import import_lmdeploy

    import_lmdeploy()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
