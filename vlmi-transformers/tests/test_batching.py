"""eval_batch is real batched generation, and under greedy decoding it equals one-at-a-time."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmi.errors import EngineUnavailableError, ImageNotFoundError
from vlmi.plugin import GenerationOptions, Model, Sample


def mixed_batch(pictures: list[Path]) -> list[object]:
    """Text-only, one-image and multi-image samples, images of different sizes."""
    p = [str(x) for x in pictures]
    return [
        "What is two plus two?",
        ("Describe the picture.", [p[0]]),
        ("Compare these pictures in detail, please.", [p[1], p[2]]),
        "Name a color.",
        ("Which is bigger?", [p[3], p[4], p[0]]),
        ("What shape?", [p[2]]),
        {"query": "Count the objects.", "imgs": [p[4]]},
    ]


def token_ids(model: Model, text: str) -> list[int]:
    return model.engine.tokenizer(text, add_special_tokens=False)["input_ids"]


@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_batched_equals_one_at_a_time(
    tiny_model: Model, pictures: list[Path], batch_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = mixed_batch(pictures)
    single = [
        tiny_model.eval(s["query"], s["imgs"], max_new_tokens=12)
        if isinstance(s, dict)
        else tiny_model.eval(*(s if isinstance(s, tuple) else (s,)), max_new_tokens=12)
        for s in samples
    ]
    monkeypatch.setattr(
        tiny_model, "options", _with_batch_size(tiny_model.options, batch_size), raising=True
    )
    batched = tiny_model.eval_batch(samples, max_new_tokens=12)
    assert batched == single
    # the same texts, compared as tokens
    assert [token_ids(tiny_model, b) for b in batched] == [token_ids(tiny_model, s) for s in single]


def test_batched_token_ids_equal_one_at_a_time(tiny_model: Model, pictures: list[Path]) -> None:
    """Token for token, below the text layer (float32 on CPU, left padding)."""
    from vlmi.plugin import as_sample, prepare_samples

    samples = prepare_samples(tiny_model, [as_sample(s) for s in mixed_batch(pictures)])
    options = GenerationOptions(max_new_tokens=16)
    engine = tiny_model.engine
    batched = engine.generate_tokens(samples, options)
    single = [engine.generate_tokens([s], options)[0] for s in samples]
    assert batched == single
    assert all(len(row) >= 1 for row in batched)


def _with_batch_size(options, batch_size):
    from dataclasses import replace

    return replace(options, engine=replace(options.engine, batch_size=batch_size))


def test_one_generate_call_per_chunk(
    tiny_model: Model, pictures: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = tiny_model.engine.model.generate

    def counting(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(tiny_model.engine.model, "generate", counting)
    monkeypatch.setattr(tiny_model, "options", _with_batch_size(tiny_model.options, 4))
    samples = mixed_batch(pictures)
    results = tiny_model.eval_batch(samples, max_new_tokens=4)
    assert all(isinstance(r, str) for r in results)
    assert calls == [4, 3]


def test_bad_sample_keeps_the_others(tiny_model: Model, pictures: list[Path]) -> None:
    samples = mixed_batch(pictures)
    samples.insert(2, ("broken", [str(pictures[0]), "/no/such/picture.png"]))
    results = tiny_model.eval_batch(samples, max_new_tokens=6)
    assert isinstance(results[2], ImageNotFoundError)
    assert results[2].sample_index == 2
    good = [r for i, r in enumerate(results) if i != 2]
    assert good == tiny_model.eval_batch(mixed_batch(pictures), max_new_tokens=6)


def test_per_sample_generation_options_are_grouped(tiny_model: Model, pictures: list[Path]) -> None:
    short = {"query": "Describe.", "imgs": [str(pictures[0])], "generation": {"max_new_tokens": 2}}
    long = {"query": "Describe.", "imgs": [str(pictures[0])], "generation": {"max_new_tokens": 9}}
    first, second = tiny_model.eval_batch([long, short])
    # each answer as if asked alone with its own options (decoded text: a cut can end inside
    # a multi-byte character, so the short answer need not be a prefix of the long one)
    assert first == tiny_model.eval(long["query"], long["imgs"], max_new_tokens=9)
    assert second == tiny_model.eval(short["query"], short["imgs"], max_new_tokens=2)
    assert first != second


def _sample(text: str, pixels: int = 0) -> Sample:
    from PIL import Image

    from vlmi.plugin import ImagePart, TextPart

    parts = [TextPart(text)]
    if pixels:
        parts.insert(0, ImagePart("x", Image.new("RGB", (pixels, 1))))
    return Sample(tuple(parts))


def test_a_batch_of_several_chunks_shows_progress(
    tiny_model: Model, pictures: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model = tiny_model
    original = model.options
    model.options = _with_batch_size(original, 2)
    try:
        answers = model.eval_batch(
            ["Hi", "Hello", ("Describe.", ["/no/such.png"]), "Bye", "Yo"], max_new_tokens=4
        )
    finally:
        model.options = original
    assert (
        isinstance(answers[2], ImageNotFoundError) and sum(isinstance(a, str) for a in answers) == 4
    )
    shown = capsys.readouterr().err  # the four samples that reached the engine, in two chunks
    assert f"{model.name}: 100%" in shown and "4/4" in shown and "0 failed" in shown
    model.eval_batch(["Hi", "Hello"], max_new_tokens=4)  # one chunk: no bar
    assert capsys.readouterr().err == ""


def test_the_engine_batches_by_options_and_prompt_length(
    tiny_model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], GenerationOptions]] = []
    engine = tiny_model.engine
    real = engine.generate

    def recording(samples, options):
        calls.append(([s.text for s in samples], options))
        return real(samples, options)

    monkeypatch.setattr(engine, "generate", recording)
    monkeypatch.setattr(tiny_model, "options", _with_batch_size(tiny_model.options, 2))
    answers = tiny_model.eval_batch(
        [
            "a much longer question with many words",
            "hi",
            {"query": "sampled", "generation": {"temperature": 0.7, "seed": 1}},
            "mid length one",
        ],
        max_new_tokens=3,
    )
    assert all(isinstance(a, str) for a in answers)
    greedy = [texts for texts, options in calls if options.greedy]
    assert greedy == [["hi", "mid length one"], ["a much longer question with many words"]]
    assert [texts for texts, options in calls if not options.greedy] == [["sampled"]]


def test_a_closed_model_says_so_in_a_typed_error(tiny_checkpoint_folder) -> None:
    import vlmi

    model = vlmi.load(str(tiny_checkpoint_folder))
    model.close()
    with pytest.raises(EngineUnavailableError, match="closed"):
        model.eval("Hi")
    (answer,) = model.eval_batch(["Hi"])
    assert isinstance(answer, EngineUnavailableError)


def test_inside_vlmi_run_only_the_run_shows_progress(
    tiny_model: Model, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import vlmi

    original = tiny_model.options
    tiny_model.options = _with_batch_size(original, 2)  # several engine chunks per run batch
    try:
        summary = vlmi.run(
            tiny_model,
            ["Hi", "Hello", "Bye", "Yo", "Hey"],
            tmp_path / "out.jsonl",
            batch_size=5,
            max_new_tokens=4,
        )
    finally:
        tiny_model.options = original
    assert summary.done == 5 and summary.failed == 0
    shown = capsys.readouterr().err
    assert "vlmi run:" in shown and f"{tiny_model.name}:" not in shown
