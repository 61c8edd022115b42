"""The CUDA default path (static KV cache in length buckets, compiled decoding), run on CPU.

On CUDA vlmi generates with ``cache_implementation="static"``, sizes the
cache to the prompt plus the new tokens rounded up to a multiple of 64, and
lets ``generate`` compile the decoding step. Every part of that runs on a CPU
too: the static cache eagerly, and the compiled decoding step through
``compile=True`` (inductor builds C++ here).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import vlmi
from vlmi.errors import EngineUnavailableError, InvalidOptionError
from vlmi.plugin import GenerationOptions, Model, Sample, as_sample, prepare_samples
from vlmi_testkit import tiny_checkpoint
from vlmi_transformers.engine import Placement, choose_placement, cpu_compiler

GREEDY = GenerationOptions(max_new_tokens=12)


def prepared(model: Model, items: list[object]) -> list[Sample]:
    samples = prepare_samples(model, [as_sample(item) for item in items])
    assert all(isinstance(s, Sample) for s in samples)
    return samples  # type: ignore[return-value]


def mixed(pictures: list[Path]) -> list[object]:
    p = [str(x) for x in pictures]
    return [
        "What is two plus two?",
        ("Describe the picture.", [p[0]]),
        ("Compare these pictures in detail, please.", [p[1], p[2]]),
        ("Which is bigger?", [p[3], p[4], p[0]]),
    ]


@pytest.mark.parametrize(
    ("cache", "compile", "expected"),
    [
        ("auto", None, Placement("cpu", "float32", "dynamic", None, False)),
        ("dynamic", False, Placement("cpu", "float32", "dynamic", None, False)),
        ("static", None, Placement("cpu", "float32", "static", 64, False)),
        ("auto", True, Placement("cpu", "float32", "static", 64, True)),
        ("static", True, Placement("cpu", "float32", "static", 64, True)),
        ("static", False, Placement("cpu", "float32", "static", 64, False)),
    ],
)
def test_cpu_placement(cache: str, compile: bool | None, expected: Placement) -> None:
    assert choose_placement("cpu", "auto", cache, 64, compile) == expected


def test_compile_without_a_cpp_compiler_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXX", "no-such-compiler")
    with pytest.raises(EngineUnavailableError, match="compile=False"):
        choose_placement("cpu", "auto", "auto", 64, True)
    assert choose_placement("cpu", "auto", "auto", 64, None).compiled is False  # not needed


def test_compile_with_a_dynamic_cache_names_the_fix() -> None:
    with pytest.raises(InvalidOptionError, match="cache_implementation='static'"):
        choose_placement("cpu", "auto", "dynamic", 64, True)


def test_generation_config_carries_the_cache_and_the_compile_switch() -> None:
    folder = str(tiny_checkpoint("llava"))
    eager = vlmi.load(folder, cache_implementation="static", compile=False)
    config = eager.engine.generation_config(GREEDY, 40)
    assert (config.cache_implementation, config.disable_compile) == ("static", True)
    assert config.max_cache_len == 64  # 40 + 12 rounded up
    eager.close()
    compiled = vlmi.load(folder, compile=True, cache_len_multiple_of=32)
    config = compiled.engine.generation_config(GREEDY, 40)
    assert config.cache_implementation == "static" and not config.disable_compile
    assert config.compile_config._compile_all_devices
    assert config.max_cache_len == 64
    assert compiled.engine.generation_config(GREEDY, 20).max_cache_len == 32
    compiled.close()
    dynamic = vlmi.load(folder)
    config = dynamic.engine.generation_config(GREEDY, 40)
    assert config.cache_implementation != "static" and config.max_cache_len is None
    dynamic.close()


def test_static_cache_batches_equal_dynamic_single_runs(arch: str, pictures: list[Path]) -> None:
    """Left-padded batches in a bucketed static cache == one sample at a time, dynamic cache."""
    folder = str(tiny_checkpoint(arch))
    static = vlmi.load(folder, cache_implementation="static")
    dynamic = vlmi.load(folder, cache_implementation="dynamic")
    samples = prepared(static, mixed(pictures))
    batched = static.engine.generate_tokens(samples, GREEDY)
    single = [dynamic.engine.generate_tokens([s], GREEDY)[0] for s in samples]
    assert batched == single
    assert static.eval_batch(mixed(pictures), max_new_tokens=12) == [
        dynamic.eval(*item if isinstance(item, tuple) else (item,), max_new_tokens=12)
        for item in mixed(pictures)
    ]
    static.close()
    dynamic.close()


@pytest.mark.skipif(
    cpu_compiler() is None, reason="torch.compile on a CPU needs a C++ compiler (g++ or $CXX)"
)
def test_compiled_decoding_matches_eager_and_reuses_its_graph_within_a_bucket(
    pictures: list[Path],
) -> None:
    check_compiled_decoding(pictures, {"device": "cpu", "compile": True})


@pytest.mark.gpu
def test_the_cuda_default_compiles_and_reuses_its_graph_within_a_bucket(
    pictures: list[Path],
) -> None:
    """On CUDA the defaults alone (static cache, compile=None) compile the decoding step."""
    check_compiled_decoding(pictures, {"device": "cuda", "dtype": "float32"})


def check_compiled_decoding(pictures: list[Path], options: dict[str, object]) -> None:
    import torch
    from torch._dynamo.utils import counters

    folder = str(tiny_checkpoint("internvl"))
    eager = vlmi.load(folder, **{**options, "cache_implementation": "static", "compile": False})
    compiled = vlmi.load(folder, **options)
    assert compiled.engine.placement.compiled
    p = [str(x) for x in pictures]
    first = prepared(compiled, ["Name a colour.", ("Describe the picture.", [p[0]])])
    second = prepared(
        compiled, ["Write a long sentence about the sea and the sky.", ("What shape?", [p[2]])]
    )
    engine = compiled.engine
    lengths = [engine.model_inputs(batch)["input_ids"].shape[1] for batch in (first, second)]
    caches = [engine.generation_config(GREEDY, n).max_cache_len for n in lengths]
    # prompts of different lengths (not padded), one cache bucket
    assert lengths[0] != lengths[1] and caches[0] == caches[1]

    torch._dynamo.reset()
    counters.clear()
    assert engine.generate_tokens(first, GREEDY) == eager.engine.generate_tokens(first, GREEDY)
    graphs = counters["stats"]["unique_graphs"]
    assert graphs >= 1  # the decoding step really was compiled
    assert engine.generate_tokens(second, GREEDY) == eager.engine.generate_tokens(second, GREEDY)
    assert counters["stats"]["unique_graphs"] == graphs  # no recompilation for the new length
    eager.close()
    compiled.close()
