"""The model through LMDeploy's real pipeline; only the GPU engine is scripted (conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import vlmi
from vlmi.errors import (
    EngineGoneError,
    EngineOutOfMemoryError,
    EngineUnavailableError,
    ImageNotFoundError,
    InvalidOptionError,
    InvalidSampleError,
    TooManyImagesError,
)
from vlmi_testkit import ScriptedEngine


def count_calls(model: Any) -> list[int]:
    """Record the size of each pipeline call the model makes."""
    calls: list[int] = []
    infer = model.pipe.infer

    def counted(prompts: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(prompts))
        return infer(prompts, *args, **kwargs)

    model.pipe.infer = counted
    return calls


def test_one_pipeline_call_for_the_whole_batch(
    loaded: Any, engines: list[ScriptedEngine], pictures: list[Path]
):
    model = loaded()
    calls = count_calls(model)
    p = [str(x) for x in pictures]
    answers = model.eval_batch(["Hi", ("One?", [p[1]]), ("Two?", [p[1], p[0]]), "Bye"])
    assert answers == [
        "0 images 0 tokens",
        "1 images 256 tokens",
        "2 images 256+3328 tokens",
        "0 images 0 tokens",
    ]
    assert calls == [4]
    assert len(engines[0].requests) == 4


def test_answers_end_at_the_end_of_turn_token(loaded: Any, engines: list[ScriptedEngine]):
    model = loaded()
    # the scripted model goes on after <|im_end|>; LMDeploy must stop there because vlmi
    # passes InternVL2's end-of-turn id (LMDeploy alone knows only the tokenizer's eos)
    assert model.eval("Hi") == "0 images 0 tokens"
    config = engines[0].requests[-1].gen_config
    assert model.tokenizer.get_vocab()["<|im_end|>"] in config.stop_token_ids


def test_generation_options_reach_lmdeploy_per_sample(loaded: Any, engines: list[ScriptedEngine]):
    model = loaded()
    sampled = {"query": "Hi", "generation": {"temperature": 0.5, "seed": 3, "top_k": 5}}
    model.eval_batch(["Hi", sampled])
    greedy, sampling = (r.gen_config for r in engines[0].requests)
    assert (greedy.do_sample, greedy.top_k, greedy.max_new_tokens) == (False, 1, 512)
    assert (sampling.do_sample, sampling.temperature, sampling.top_k) == (True, 0.5, 5)
    assert sampling.random_seed == 3


def test_max_new_tokens_cuts_the_answer(loaded: Any):
    model = loaded()
    full = model.eval("Hi")
    short = model.eval("Hi", max_new_tokens=2)
    assert full.startswith(short) and len(short) < len(full)


def test_a_single_token_stop_string_cuts_the_answer(loaded: Any):
    model = loaded()
    assert model.eval("Hi", stop=" ") == "0"
    assert model.eval("Hi", stop=["s", " "]) == "0"
    # a stop string that never comes: the end-of-turn text LMDeploy then returns is dropped
    assert model.eval("Hi", stop="\n") == "0 images 0 tokens"


def test_a_stop_string_of_several_tokens_is_cut_by_vlmi(loaded: Any, engines: list[ScriptedEngine]):
    model = loaded()
    assert len(model.tokenizer.encode("0 tokens", add_special_tokens=False)) > 1
    answers = model.eval_batch(["Hi", {"query": "Hi", "generation": {"stop": "0 tokens"}}])
    assert answers == ["0 images 0 tokens", "0 images "]
    # LMDeploy would drop it with a warning, so it never gets it
    assert engines[0].requests[-1].gen_config.stop_words is None


def test_options_lmdeploy_refuses_fail_their_slot_only(loaded: Any):
    model = loaded()
    answers = model.eval_batch(["Hi", {"query": "Hi", "generation": {"temperature": 2.5}}])
    assert answers[0] == "0 images 0 tokens"
    assert isinstance(answers[1], InvalidOptionError) and "LMDeploy cannot" in str(answers[1])


def test_an_overlong_sample_fails_alone(loaded: Any, pictures: list[Path]):
    model = loaded(session_len=1000)
    answers = model.eval_batch(["Hi", ("Big", [str(pictures[0])]), "Bye"])
    assert answers[0] == answers[2] == "0 images 0 tokens"
    assert isinstance(answers[1], InvalidSampleError)
    assert "session_len=1000" in str(answers[1]) and "max_total_tiles" in str(answers[1])


def test_bad_images_fail_their_slot_before_lmdeploy(
    loaded: Any, engines: list[ScriptedEngine], pictures: list[Path]
):
    model = loaded()
    p = str(pictures[1])
    answers = model.eval_batch(["Hi", ("Missing", ["/no/such.png"]), ("Nine", [p] * 9), "Bye"])
    assert isinstance(answers[1], ImageNotFoundError)
    assert isinstance(answers[2], TooManyImagesError)
    assert answers[0] == answers[3] == "0 images 0 tokens"
    assert len(engines[0].requests) == 2


def test_batch_size_bounds_each_call(loaded: Any):
    model = loaded(batch_size=2)
    calls = count_calls(model)
    assert model.eval_batch(["a", "b", "c", "d", "e"]) == ["0 images 0 tokens"] * 5
    assert calls == [2, 2, 1]


def test_a_failing_call_is_split_until_the_bad_sample_is_alone(loaded: Any):
    model = loaded()
    infer = model.pipe.infer

    def fragile(prompts: Any, *args: Any, **kwargs: Any) -> Any:
        if any("BREAK" in str(conversation) for conversation in prompts):
            raise RuntimeError("engine refused the batch")
        return infer(prompts, *args, **kwargs)

    model.pipe.infer = fragile
    answers = model.eval_batch(["Hi", "BREAK", "Bye"])
    assert answers[0] == answers[2] == "0 images 0 tokens"
    assert isinstance(answers[1], vlmi.errors.GenerationError)
    assert "engine refused the batch" in str(answers[1])


def test_closed_model_says_so(loaded: Any):
    model = loaded()
    model.close()
    with pytest.raises(EngineUnavailableError, match="closed"):
        model.eval("Hi")


def test_out_of_memory_at_load_names_the_knobs(
    tiny_folder: Path, engines: list[ScriptedEngine], monkeypatch: pytest.MonkeyPatch
):
    import lmdeploy
    import torch

    def out_of_memory(**_: Any) -> Any:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(lmdeploy, "pipeline", out_of_memory)
    with pytest.raises(EngineOutOfMemoryError, match="raise tp") as caught:
        vlmi.load("internvl2-8b", model_path=str(tiny_folder), backend="pytorch", session_len=9000)
    assert "session_len (now 9000)" in str(caught.value)


def test_a_missing_folder_is_named(engines: list[ScriptedEngine], tmp_path: Path):
    with pytest.raises(vlmi.errors.WeightsNotFoundError, match="absent"):
        vlmi.load("internvl2-8b", model_path=str(tmp_path / "absent"))


def test_weights_that_cannot_be_downloaded_say_where_else_to_look(
    engines: list[ScriptedEngine], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(vlmi.errors.WeightsNotFoundError) as caught:
        vlmi.load("internvl2-8b")
    message = str(caught.value)
    assert "OpenGVLab/InternVL2-8B" in message and "huggingface" in message
    assert "hub='modelscope'" in message and "HF_ENDPOINT" in message


def test_a_stopped_engine_is_engine_gone_in_every_slot(loaded: Any, engines: list[ScriptedEngine]):
    model = loaded()
    engines[0].stopped = True  # LMDeploy answers each request "engine_unavailable"
    answers = model.eval_batch(["Hi", "Bye"])
    assert all(isinstance(a, EngineGoneError) and a.retryable for a in answers), answers
    assert "unavailable" in str(answers[0])
