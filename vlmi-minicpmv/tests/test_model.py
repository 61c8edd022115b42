"""The model's batch path up to vLLM's generate call (the GPU seam), with the real vLLM classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from vllm import SamplingParams

import vlmi
from vlmi.errors import (
    EngineUnavailableError,
    GenerationError,
    ImageNotFoundError,
    InvalidOptionError,
    TooManyImagesError,
)
from vlmi.plugin import find_spec, parse_load_options
from vlmi_minicpmv.model import MiniCPMVModel, MiniCPMVOptions


def attached(llm: Any, **options: Any) -> MiniCPMVModel:
    spec = find_spec("minicpm-v-2.6")
    model = MiniCPMVModel(spec, parse_load_options(spec.name, MiniCPMVOptions, options))
    model.attach(llm)
    return model


def test_one_generate_call_for_the_whole_batch(llm: Any, pictures: list[Path]) -> None:
    model = attached(llm)
    p = [str(x) for x in pictures]
    answers = model.eval_batch(
        ["Hi", ("One?", [p[0]]), ("Three?", [p[1], p[2], p[3]]), ("Again?", [p[2]])],
        max_new_tokens=40,
    )
    assert answers == [
        "0 image(s)  t=0.0",
        "1 image(s) 64x48 t=0.0",
        "3 image(s) 120x40,200x200,33x90 t=0.0",
        "1 image(s) 200x200 t=0.0",
    ]
    assert len(llm.calls) == 1
    prompts, params = llm.calls[0]
    assert len(prompts) == 4 and all(isinstance(sp, SamplingParams) for sp in params)
    assert all(sp.stop_token_ids == model.stop_ids for sp in params)


def test_per_sample_generation_options(llm: Any) -> None:
    model = attached(llm)
    sampled = {"query": "Hi", "generation": {"temperature": 0.5, "seed": 3, "max_new_tokens": 5}}
    model.eval_batch(["Hi", sampled])
    ((_, params),) = llm.calls
    assert (params[0].temperature, params[0].max_tokens) == (0.0, 512)
    assert (params[1].temperature, params[1].seed, params[1].max_tokens) == (0.5, 3, 5)


def test_batch_size_bounds_each_call(llm: Any) -> None:
    model = attached(llm, batch_size=2)
    assert len(model.eval_batch([f"q{i}" for i in range(5)], max_new_tokens=8)) == 5
    assert [len(prompts) for prompts, _ in llm.calls] == [2, 2, 1]


def test_bad_samples_keep_the_others(llm: Any, pictures: list[Path], tmp_path: Path) -> None:
    model = attached(llm)
    nine = [str(pictures[0])] * 9
    answers = model.eval_batch(
        [
            "fine",
            ("missing", [str(tmp_path / "nope.png")]),
            ("too many", nine),
            "REJECT me",
            ("fine too", [str(pictures[1])]),
        ],
        max_new_tokens=40,
    )
    assert answers[0] == "0 image(s)  t=0.0"
    assert isinstance(answers[1], ImageNotFoundError) and answers[1].sample_index == 1
    assert isinstance(answers[2], TooManyImagesError)
    assert isinstance(answers[3], GenerationError) and answers[3].sample_index == 3
    assert answers[4] == "1 image(s) 120x40 t=0.0"
    # too many images never reach the engine; the rejected request is retried alone
    sent = [len(prompts) for prompts, _ in llm.calls]
    assert sent[0] == 3 and sent[1:] == [1, 1, 1]


def test_eval_single_sample(llm: Any, pictures: list[Path]) -> None:
    model = attached(llm)
    assert model.eval("Describe.", imgs=str(pictures[2]), max_new_tokens=40) == (
        "1 image(s) 200x200 t=0.0"
    )
    with pytest.raises(GenerationError, match="rejected"):
        model.eval("REJECT")


def test_loading_without_cuda_names_the_fix(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(EngineUnavailableError, match="CUDA GPU"):
        vlmi.load("minicpm-v-2.6", model_path=str(tmp_path))


def test_bad_engine_option_values() -> None:
    with pytest.raises(InvalidOptionError, match="max_model_len must be >= 1"):
        vlmi.load("minicpm-v-2.6", max_model_len=0)
