"""The benchmark's workload on a CPU: its InternVL builder at small sizes, and EOS ignored.

benchmarks/bench_transformers.py builds an 8B-shaped InternVL on CUDA; the
same builder runs here with small sizes, so the checkpoint it writes, the
256 image tokens per 448x448 picture and the fixed number of new tokens are
checked without a GPU.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

import vlmi
from vlmi.plugin import GenerationOptions, as_sample, prepare_samples

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_transformers.py"
SMALL_VISION = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
}
SMALL_TEXT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 1024,
}


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_transformers", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_checkpoint_loads_and_generates_exactly_the_asked_tokens(
    bench: ModuleType, tmp_path: Path
) -> None:
    target = bench.build_internvl(tmp_path, "cpu", SMALL_VISION, SMALL_TEXT)
    model = vlmi.load(str(target), device="cpu")
    bench.ignore_eos(model)
    imgs = bench.pictures(tmp_path, 2, (448, 448))
    items = [(bench.QUESTION, [imgs[0]]), (bench.QUESTION, [imgs[1]])]
    samples = prepare_samples(model, [as_sample(item) for item in items])
    engine = model.engine
    inputs = engine.model_inputs(samples)
    image_token = engine.model.config.image_token_id
    assert (inputs["input_ids"] == image_token).sum(dim=1).tolist() == [256, 256]
    text_tokens = int(inputs["attention_mask"][0].sum()) - 256
    assert 60 <= text_tokens <= 85  # "about 70 text tokens" with a locally trained tokenizer
    rows = engine.generate_tokens(samples, GenerationOptions(max_new_tokens=20))
    assert [len(row) for row in rows] == [20, 20]
    assert all(isinstance(text, str) for text in model.eval_batch(items, max_new_tokens=4))
    model.close()
