"""vlmi generation options on the real GenerationConfig, and their effect on real generation."""

from __future__ import annotations

import pytest
import torch
from transformers import GenerationConfig

from vlmi.plugin import GenerationOptions, Model
from vlmi_transformers.engine_config import build_generation_config
from vlmi_transformers.stopping import StopStringsInAnswer

# a checkpoint default that must not leak into vlmi's meaning of the options
QWEN_LIKE = GenerationConfig(
    do_sample=True,
    top_k=1,
    top_p=0.001,
    temperature=0.01,
    repetition_penalty=1.05,
    eos_token_id=[7, 8],
    pad_token_id=3,
)


def test_greedy_is_the_default_and_overrides_the_checkpoint() -> None:
    config = build_generation_config(QWEN_LIKE, GenerationOptions())
    assert config.do_sample is False
    assert config.num_beams == 1
    assert config.max_new_tokens == 512
    assert config.repetition_penalty == 1.0
    assert config.eos_token_id == [7, 8] and config.pad_token_id == 3
    config.validate(strict=True)


def test_sampling_options_are_all_set() -> None:
    options = GenerationOptions(temperature=0.7, top_p=0.9, top_k=None, max_new_tokens=33)
    config = build_generation_config(QWEN_LIKE, options)
    assert (config.do_sample, config.temperature, config.top_p) == (True, 0.7, 0.9)
    assert config.top_k == 0  # off, not the checkpoint's 1
    assert config.max_new_tokens == 33
    config.validate(strict=True)
    with_k = build_generation_config(QWEN_LIKE, GenerationOptions(temperature=1.0, top_k=5))
    assert with_k.top_k == 5


def test_stop_strings_are_cut_and_not_left_to_transformers() -> None:
    config = build_generation_config(QWEN_LIKE, GenerationOptions(stop=("END", "\n\n")))
    assert config.stop_strings is None  # see test_stop_strings_ignore_the_prompt
    options = GenerationOptions(stop=("END", "\n\n"))
    assert options.cut_at_stop("one\n\ntwo END") == "one"
    assert options.cut_at_stop("no marker") == "no marker"


def test_the_original_config_is_untouched() -> None:
    build_generation_config(QWEN_LIKE, GenerationOptions(max_new_tokens=3))
    assert QWEN_LIKE.do_sample is True and QWEN_LIKE.top_k == 1


def test_seed_makes_sampling_reproducible(tiny_model: Model) -> None:
    ask = {"query": "Tell me about the picture.", "max_new_tokens": 12, "temperature": 1.5}
    first = tiny_model.eval(**ask, seed=1)
    assert tiny_model.eval(**ask, seed=1) == first
    others = {tiny_model.eval(**ask, seed=seed) for seed in range(2, 6)}
    assert others - {first}, "different seeds should sample differently"
    greedy = tiny_model.eval(ask["query"], max_new_tokens=12)
    assert tiny_model.eval(ask["query"], max_new_tokens=12, seed=9) == greedy


def test_stop_string_ends_the_answer(tiny_model: Model) -> None:
    full = tiny_model.eval("Describe it.", max_new_tokens=20)
    if len(full) < 4:
        pytest.skip("the random model stopped too early to cut its answer")
    marker = full[2:4]
    cut = tiny_model.eval("Describe it.", max_new_tokens=20, stop=[marker])
    assert cut == full[: full.find(marker)]


def test_stop_strings_ignore_the_prompt(tiny_model: Model) -> None:
    """A stop string counts once the answer holds all of it, not when the prompt ends in part."""
    tokenizer = tiny_model.engine.tokenizer
    newline = tokenizer.convert_tokens_to_ids(tokenizer.tokenize("\n"))
    prompt = tokenizer("Say it:", add_special_tokens=False)["input_ids"] + newline
    answer_start = torch.tensor([prompt + newline])
    answer_done = torch.tensor([prompt + newline + newline])
    stop = StopStringsInAnswer(tokenizer, ["\n\n"], len(prompt))
    assert stop(answer_start, None).tolist() == [False]  # "\n" + "\n" spans the prompt
    assert stop(answer_done, None).tolist() == [True]
    # row-wise, and only the newest tokens count
    word = tokenizer("sea", add_special_tokens=False)["input_ids"]
    rows = torch.tensor([prompt + word * 30 + newline * 2, prompt + newline * 2 + word * 30])
    assert stop(rows, None).tolist() == [True, False]
