"""eval / eval_batch semantics, through the echo plugin loaded by real discovery."""

from __future__ import annotations

import pytest

import vlmi
from vlmi import errors
from vlmi.plugin import BatchedModel
from vlmi.testing.inputs import make_picture


@pytest.fixture(scope="module")
def echo():
    return vlmi.load("echo")


@pytest.fixture(scope="module")
def pics(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pics")
    paths = []
    for seed in range(3):
        path = folder / f"{seed}.png"
        make_picture(seed=seed).save(path)
        paths.append(str(path))
    return paths


def test_images_go_first_and_arrive_decoded(echo, pics):
    answer = echo.eval("what", imgs=pics[:2])
    first, second, word = answer.split()
    assert first.startswith("<image:64x48:") and second.startswith("<image:64x48:")
    assert first != second
    assert word == "what"


def test_generation_options_reach_the_model(echo):
    assert echo.eval("a b c d e", max_new_tokens=2) == "a b"
    assert echo.eval("a b STOP c", stop=["STOP"]) == "a b "
    sampled = echo.eval("a b c d e f g h", temperature=1.0, seed=1)
    assert sampled == echo.eval("a b c d e f g h", temperature=1.0, seed=1)
    assert sampled != echo.eval("a b c d e f g h", temperature=1.0, seed=2)


def test_load_time_generation_defaults():
    model = vlmi.load("echo", max_new_tokens=1)
    assert model.eval("a b c") == "a"
    assert model.eval("a b c", max_new_tokens=2) == "a b"


def test_batch_goes_to_the_engine_in_one_call(echo, pics):
    echo.batch_sizes.clear()
    results = echo.eval_batch(
        [
            "t",
            ("one", pics[0]),
            {"query": "many", "imgs": pics, "generation": {"max_new_tokens": 2}},
            {"messages": [{"type": "text", "value": "x"}, {"type": "image", "value": pics[1]}]},
            ("bad", "/no/such.png"),
        ]
    )
    assert echo.batch_sizes == [4]
    assert results[0] == "t"
    assert results[1].endswith(" one")
    assert len(results[2].split()) == 2
    assert results[3].startswith("x <image:")
    assert isinstance(results[4], errors.ImageNotFoundError)
    assert results[4].sample_index == 4


def test_engine_failure_for_one_sample_is_kept_in_its_slot():
    model = vlmi.load("echo", fail_on="boom")
    results = model.eval_batch(["fine", "boom here", "also fine"])
    assert results[0] == "fine" and results[2] == "also fine"
    assert isinstance(results[1], errors.GenerationError)
    assert isinstance(results[1].__cause__, RuntimeError)
    with pytest.raises(errors.GenerationError, match="engine failure"):
        model.eval("boom")


def test_bad_per_sample_generation_option_fails_only_that_sample(echo):
    results = echo.eval_batch(["ok", {"query": "x", "generation": {"max_tokens": 3}}])
    assert results[0] == "ok"
    assert isinstance(results[1], errors.InvalidOptionError)


def test_a_plugin_returning_the_wrong_count_is_reported(echo, monkeypatch):
    monkeypatch.setattr(echo, "generate_batch", lambda samples, gens: ["only one"])
    results = echo.eval_batch(["a", "b"])
    assert all(isinstance(r, errors.PluginError) for r in results)
    assert [r.sample_index for r in results] == [0, 1]


def test_query_first_models(pics):
    model = vlmi.load("echo")
    spec = model.spec.__class__(**{**model.spec.__dict__, "images_first": False})
    model.spec = spec
    assert model.eval("q", imgs=pics[0]).startswith("q <image:")
    assert model.eval_batch([("q", pics[0])])[0].startswith("q <image:")


class _WholeBatches(BatchedModel):
    """An engine plugin that only answers batches: upper-cases, fails on "bad"."""

    calls: list[int]

    def generate_batch(self, samples, generations):
        self.calls.append(len(samples))
        return [
            errors.InvalidSampleError("bad sample") if s.text == "bad" else s.text.upper()
            for s in samples
        ]


def test_a_batched_model_answers_one_sample_as_a_batch_of_one(echo):
    model = _WholeBatches(echo.spec, echo.options)
    model.calls = []
    assert model.eval("hi") == "HI"
    with pytest.raises(errors.InvalidSampleError, match="bad sample"):
        model.eval("bad")
    assert model.eval_batch(["a", "bad", "c"])[::2] == ["A", "C"]
    assert model.calls == [1, 1, 3]


BAD_OPTIONS = [
    {"stop": 5},
    {"max_new_tokens": float("inf")},
    {"temperature": float("nan")},
    {"top_p": float("inf")},
]


@pytest.mark.parametrize("bad", BAD_OPTIONS, ids=lambda b: f"{next(iter(b))}={b[next(iter(b))]}")
def test_bad_option_values_are_invalid_option_errors_everywhere(echo, bad):
    name = next(iter(bad))
    with pytest.raises(errors.InvalidOptionError, match=name):
        vlmi.load("echo", **bad)
    with pytest.raises(errors.InvalidOptionError, match=name):
        echo.eval("hi", **bad)
    with pytest.raises(errors.InvalidOptionError, match=name):
        echo.eval_batch(["hi"], **bad)
    one, other = echo.eval_batch([{"query": "hi", "generation": bad}, "fine"])
    assert isinstance(one, errors.InvalidOptionError) and name in str(one)
    assert other == "fine"


def test_a_bad_option_on_the_command_line_is_an_error_line_not_a_traceback(vlmi_cli):
    out = vlmi_cli("eval", "echo", "hi", "-O", "max_new_tokens=lots")
    assert out.returncode == 1
    assert out.stderr.startswith("error: ") and "max_new_tokens must be" in out.stderr
    assert "Traceback" not in out.stderr
    flag = vlmi_cli("eval", "echo", "hi", "-O", "reverse_images=maybe")
    assert flag.returncode == 1 and "reverse_images must be bool, got 'maybe'" in flag.stderr


@pytest.mark.parametrize("text", ["1", "yes", "true", "on", "TRUE"])
def test_option_text_is_read_the_same_from_the_command_line_and_from_python(text, vlmi_cli):
    """One rule: a value given as text is read for the option's type, wherever it comes from."""
    loaded = vlmi.load("echo", reverse_images=text, latency=text if text == "1" else "0")
    assert loaded.engine_options.reverse_images is True
    shown = vlmi_cli("eval", "echo", "-O", f"reverse_images={text}", "-i", "x.png", "q")
    assert "reverse_images" not in shown.stderr  # accepted; the missing image is the error
    assert "ImageNotFoundError" in shown.stderr or "x.png" in shown.stderr
    for off in ("0", "no", "false", "off"):
        assert vlmi.load("echo", reverse_images=off).engine_options.reverse_images is False


def test_a_slot_the_plugin_leaves_without_an_answer_is_an_error_in_place(echo, monkeypatch):
    monkeypatch.setattr(echo, "generate_batch", lambda samples, gens: ["A", None, "C"])
    results = echo.eval_batch(["a", "b", "c"])
    assert results[0] == "A" and results[2] == "C"
    assert isinstance(results[1], errors.PluginError) and results[1].sample_index == 1


def test_run_prepares_each_sample_once(tmp_path, pics, monkeypatch):
    """Options merged and images loaded once per sample on the way from the file to the engine."""
    import json

    from vlmi.plugin import GenerationOptions

    path = tmp_path / "in.jsonl"
    rows = [
        {"id": i, "query": "q", "imgs": [pics[i % 3]], "generation": {"seed": i}} for i in range(6)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = vlmi.load("echo")
    merges: list[object] = []
    real_merged = GenerationOptions.merged

    def counting_merged(self, overrides):
        merges.append(overrides)
        return real_merged(self, overrides)

    loads: list[object] = []
    real_load = model.load_img
    monkeypatch.setattr(GenerationOptions, "merged", counting_merged)
    monkeypatch.setattr(model, "load_img", lambda src: loads.append(src) or real_load(src))
    summary = vlmi.run(model, path, tmp_path / "out.jsonl", batch_size=4, progress=False)
    assert summary.done == 6 and summary.failed == 0
    per_sample = [m for m in merges if m and "seed" in m]
    assert len(per_sample) == 6  # each sample's own options, merged once
    assert len(loads) == 6  # each image decoded once


def test_an_option_the_model_does_not_honour_is_refused_never_dropped(echo, monkeypatch):
    monkeypatch.setattr(type(echo), "honours", frozenset({"max_new_tokens", "stop"}))
    assert echo.eval("a b c", max_new_tokens=2, stop="c") == "a b"
    assert echo.eval("a b c", temperature=0, top_p=1.0) == "a b c"  # defaults are fine
    with pytest.raises(errors.InvalidOptionError, match=r"cannot honour temperature=0.5"):
        echo.eval("a b c", temperature=0.5)
    refused, fine = echo.eval_batch([{"query": "x", "generation": {"seed": 3}}, "y"])
    assert isinstance(refused, errors.InvalidOptionError) and refused.sample_index == 0
    assert "honours max_new_tokens, stop" in str(refused)
    assert fine == "y"
