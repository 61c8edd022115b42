"""vlmi-minicpmv on a real vLLM engine over the tiny MiniCPM-V-2.6 checkpoint.

No recorder: the session's engine is real ``vllm.LLM``. Where a test needs to
see what vLLM received or returned (prompt token ids, generated token ids,
how many ``generate`` calls), it wraps the real ``generate`` and records its
arguments and outputs; vLLM still does the work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vlmi import errors
from vlmi_minicpmv.prompts import IMAGE_PLACEHOLDER

MAX_NEW = 12


class GenerateSpy:
    """Wraps the engine's real ``generate``: records requests, params and outputs."""

    def __init__(self, llm: Any) -> None:
        self.real = llm.generate
        self.calls: list[tuple[list[dict[str, Any]], list[Any]]] = []
        self.outputs: list[Any] = []

    def __call__(self, prompts: Any, sampling_params: Any = None, **kwargs: Any) -> Any:
        self.calls.append((list(prompts), list(sampling_params)))
        outputs = self.real(prompts, sampling_params=sampling_params, **kwargs)
        self.outputs.extend(outputs)
        return outputs


@pytest.fixture
def model(engine: Any) -> Any:
    return engine.model


@pytest.fixture
def spy(model: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[GenerateSpy]:
    recorder = GenerateSpy(model.llm)
    monkeypatch.setattr(model.llm, "generate", recorder)
    yield recorder


def samples(pictures: list[Path]) -> list[Any]:
    """Text only, one image, three images, and images between text (interleaved)."""
    p = [str(x) for x in pictures]
    return [
        "What is two plus two?",
        ("Describe the picture.", [p[1]]),
        ("Compare these.", [p[0], p[2], p[3]]),
        {
            "messages": [
                {"type": "text", "value": "First:"},
                {"type": "image", "value": p[2]},
                {"type": "text", "value": "then:"},
                {"type": "image", "value": p[1]},
                {"type": "text", "value": "which is wider?"},
            ]
        },
    ]


# --- batched == one at a time ---------------------------------------------------------


def test_batch_equals_one_at_a_time(model: Any, pictures: list[Path], spy: GenerateSpy) -> None:
    batch = samples(pictures)
    together = model.eval_batch(batch, max_new_tokens=MAX_NEW)
    assert len(spy.calls) == 1 and len(spy.calls[0][0]) == len(batch)
    alone = [model.eval_batch([sample], max_new_tokens=MAX_NEW)[0] for sample in batch]
    assert all(isinstance(answer, str) for answer in together), together
    assert together == alone
    assert model.eval_batch(batch, max_new_tokens=MAX_NEW) == together  # deterministic
    # the images change the answers (they reach the model)
    assert model.eval("Describe the picture.", imgs=[str(pictures[2])]) != model.eval(
        "Describe the picture.", imgs=[str(pictures[1])]
    )


def test_batch_size_bounds_each_call(
    model: Any, pictures: list[Path], spy: GenerateSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_options = replace(model.options.engine, batch_size=2)
    monkeypatch.setattr(model, "options", replace(model.options, engine=engine_options))
    answers = model.eval_batch([*samples(pictures), "One more."], max_new_tokens=4)
    assert [len(prompts) for prompts, _ in spy.calls] == [2, 2, 1]
    assert all(isinstance(answer, str) for answer in answers)


# --- exact prompt token ids, with vLLM's <unk> expansion -------------------------------


def expected_prompt_ids(
    tokenizer: Any, processor: Any, prompt: str, images: list[Path]
) -> list[int]:
    """The chat-templated prompt with each placeholder replaced by the image's slice text."""
    pieces = prompt.split(IMAGE_PLACEHOLDER)
    assert len(pieces) == len(images) + 1
    text = pieces[0]
    for index, path in enumerate(images):
        with Image.open(path) as image:
            text += processor.get_slice_image_placeholder(image.size, image_idx=index)
        text += pieces[index + 1]
    return list(tokenizer.encode(text, add_special_tokens=False))


@pytest.mark.parametrize(("count", "unk_expected"), [(0, 0), (1, 8), (3, 8 + 32 + 32)])
def test_exact_prompt_token_ids(
    model: Any,
    tiny_minicpmv: Path,
    pictures: list[Path],
    spy: GenerateSpy,
    count: int,
    unk_expected: int,
) -> None:
    from transformers import AutoImageProcessor

    processor = AutoImageProcessor.from_pretrained(str(tiny_minicpmv), trust_remote_code=True)
    chosen = [pictures[0], pictures[2], pictures[3]][:count]  # 1, 3x1 and 1x3 slices
    model.eval("Describe the picture.", imgs=[str(p) for p in chosen], max_new_tokens=2)
    ((request,), _) = spy.calls[0]
    (output,) = spy.outputs
    tokenizer = model.tokenizer
    expected = expected_prompt_ids(tokenizer, processor, request["prompt"], chosen)
    assert list(output.prompt_token_ids) == expected
    unk = tokenizer.convert_tokens_to_ids("<unk>")
    assert list(output.prompt_token_ids).count(unk) == unk_expected
    image_id = tokenizer.convert_tokens_to_ids("<image_id>")
    assert list(output.prompt_token_ids).count(image_id) == count


# --- generation options ---------------------------------------------------------------


def test_max_new_tokens_is_the_exact_token_count(model: Any, spy: GenerateSpy) -> None:
    for limit in (1, 5, 17):
        model.eval("Tell me a long story about a cat.", max_new_tokens=limit)
        completion = spy.outputs[-1].outputs[0]
        if completion.finish_reason == "length":
            assert len(completion.token_ids) == limit
        else:  # an end token came first
            assert len(completion.token_ids) < limit
    assert any(len(o.outputs[0].token_ids) == 17 for o in spy.outputs)


def test_stop_strings_cut_the_answer(model: Any) -> None:
    question = "Count from one to fifty."
    full = model.eval(question, max_new_tokens=24)
    stop = next((full[i : i + 2] for i in range(3, len(full) - 2) if full[i : i + 2].strip()), None)
    assert stop is not None, f"answer too short to pick a stop string from: {full!r}"
    cut = model.eval(question, max_new_tokens=24, stop=[stop])
    assert cut == full[: full.index(stop)]


def test_seeded_sampling_is_reproducible(model: Any, pictures: list[Path]) -> None:
    ask = {"query": "Describe the picture.", "imgs": [str(pictures[1])]}
    sampled = {"temperature": 1.0, "max_new_tokens": 16}
    first = model.eval_batch([ask, ask], seed=11, **sampled)
    again = model.eval_batch([ask], seed=11, **sampled)
    other = model.eval_batch([ask], seed=12, **sampled)
    assert first[0] == first[1] == again[0]
    assert other[0] != first[0]
    assert first[0] != model.eval(**ask, max_new_tokens=16)  # not the greedy answer


def test_per_sample_generation_options(model: Any, spy: GenerateSpy) -> None:
    sampled = {"query": "Hi", "generation": {"temperature": 0.5, "seed": 3, "max_new_tokens": 5}}
    model.eval_batch(["Hi", sampled], max_new_tokens=7)
    ((_, params),) = spy.calls
    assert (params[0].temperature, params[0].max_tokens) == (0.0, 7)
    assert (params[1].temperature, params[1].seed, params[1].max_tokens) == (0.5, 3, 5)
    assert all(p.stop_token_ids == model.stop_ids for p in params)


# --- per-sample errors ------------------------------------------------------------------


def test_bad_samples_fail_only_their_slot(
    model: Any, pictures: list[Path], tmp_path: Path, spy: GenerateSpy
) -> None:
    good = [("Describe.", [str(pictures[1])]), "Name a colour."]
    expected = model.eval_batch(good, max_new_tokens=MAX_NEW)
    spy.calls.clear()
    too_long = "word " * 2000  # longer than max_model_len (1024 tokens): vLLM rejects it
    answers = model.eval_batch(
        [
            good[0],
            ("missing", [str(tmp_path / "nope.png")]),
            ("too many", [str(pictures[0])] * 9),
            too_long,
            good[1],
        ],
        max_new_tokens=MAX_NEW,
    )
    assert [answers[0], answers[4]] == expected
    assert isinstance(answers[1], errors.ImageNotFoundError) and answers[1].sample_index == 1
    assert isinstance(answers[2], errors.TooManyImagesError) and answers[2].sample_index == 2
    assert isinstance(answers[3], errors.GenerationError) and answers[3].sample_index == 3
    assert "maximum context length is 1024" in str(answers[3])
    # the bad images never reach vLLM; the call it rejects is split in halves until the bad
    # prompt is alone: [good, too long] then each alone, and [good]
    assert [len(prompts) for prompts, _ in spy.calls] == [3, 2, 1, 1, 1]


def test_eval_raises_vllms_rejection(model: Any) -> None:
    with pytest.raises(errors.GenerationError):
        model.eval("word " * 2000, max_new_tokens=4)


# --- close ------------------------------------------------------------------------------


def test_close_ends_the_engine_processes_and_a_new_load_works(engine: Any) -> None:
    import psutil

    question = "What is two plus two?"
    before = engine.model.eval(question, max_new_tokens=MAX_NEW)
    children = [
        child
        for child in psutil.Process(os.getpid()).children(recursive=True)
        if child.name().startswith("VLLM")  # vLLM names its processes VLLM::EngineCore, ...
    ]
    assert children, "vLLM's engine core runs in processes of its own"
    engine.model.close()
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], f"still running after close(): {alive}"
    with pytest.raises(errors.EngineUnavailableError, match="closed"):
        engine.model.eval(question)
    engine.model.close()  # closing twice is harmless
    assert engine.reload().eval(question, max_new_tokens=MAX_NEW) == before


def test_video_frames_go_as_images(model: Any, spy: GenerateSpy, tmp_path: Path) -> None:
    import vlmi
    from vlmi_testkit.clips import write_clip

    clip = write_clip(tmp_path / "count.mp4", 20, fps=10)
    assert model.video == "frames"
    video = vlmi.Video(str(clip), nframes=3)
    answer = model.eval("What happens?", videos=video, max_new_tokens=2)
    assert isinstance(answer, str)
    ((request,), _) = spy.calls[0]
    assert request["prompt"].count(IMAGE_PLACEHOLDER) == 3
    frames, sampling = model.load_video(video)
    assert sampling.indices == (5, 10, 15)  # VLMEvalKit's rule: step 20 / 4
    sent = request["multi_modal_data"]["image"]
    assert [f.tobytes() for f in sent] == [f.tobytes() for f in frames]
