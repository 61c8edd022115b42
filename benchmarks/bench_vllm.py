"""vlmi-vllm against vLLM used directly and against vlmi-transformers, per architecture.

Run where vlmi-vllm, vlmi-transformers and vlmi-testkit are installed with an
engine (vLLM's CPU backend as vlmi-vllm's README installs it, or CUDA vLLM)::

    python benchmarks/bench_vllm.py [--archs qwen2_vl,internvl] [--samples 32]
        [--tokens 16] [--rounds 3]

For each architecture, on the tiny vllm-variant checkpoint of vlmi-testkit
(float32, greedy, the same samples with 0, 1 or 2 images and the same number
of new tokens in every way):

1. raw vLLM: one ``LLM.generate`` over the whole list, on the engine vlmi
   started, with prompts built here by the checkpoint's processor
   (``apply_chat_template``) and images decoded with PIL; no vlmi code;
2. vlmi-vllm: ``model.eval_batch(samples)``;
3. vlmi-transformers: ``model.eval_batch(samples)`` (batch size 8).

Each way runs ``--rounds`` times after a warm-up, the two vLLM ways taking
turns; the best round counts. It prints samples/s, and vlmi-vllm / raw vLLM
(target >= 0.97) and vlmi-vllm / vlmi-transformers. Where CUDA is present both
engines run on the GPU.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

# the two plugins both claim a checkpoint folder; the folder is vlmi-vllm's here, and
# vlmi-transformers' model class is loaded through a spec of its own


def contain_vllm_files(base: Path) -> None:
    """vLLM's cache and RPC sockets under ``base``."""
    for variable, folder in (("VLLM_CACHE_ROOT", "vllm-cache"), ("VLLM_RPC_BASE_PATH", "rpc")):
        (base / folder).mkdir(parents=True, exist_ok=True)
        os.environ[variable] = str(base / folder)


def make_samples(folder: Path, count: int) -> list[tuple[str, list[str]]]:
    """``count`` questions with 0, 1, 2 or 1 images of varied sizes, cycling."""
    from vlmi.testing.inputs import make_picture

    sizes = [(120, 90), (200, 100), (64, 64), (100, 300), (90, 60)]
    paths = []
    for index, size in enumerate(sizes):
        path = folder / f"picture{index}.png"
        make_picture(*size, seed=index).save(path)
        paths.append(str(path))
    samples = []
    for index in range(count):
        images = [paths[(index + k) % len(paths)] for k in range([0, 1, 2, 1][index % 4])]
        samples.append((f"Question {index}: describe what you see in detail.", images))
    return samples


def raw_requests(processor: Any, samples: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
    """vLLM prompt dicts built directly: the processor's chat template, images first."""
    from PIL import Image

    requests = []
    for question, paths in samples:
        content = [{"type": "image"} for _ in paths] + [{"type": "text", "text": question}]
        prompt = processor.apply_chat_template(
            [{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True
        )
        request: dict[str, Any] = {"prompt": prompt}
        if paths:
            request["multi_modal_data"] = {"image": [Image.open(p).convert("RGB") for p in paths]}
        requests.append(request)
    return requests


def best_seconds(ways: dict[str, Any], rounds: int) -> dict[str, tuple[float, Any]]:
    """Each way's fastest round (after one warm-up), the ways taking turns, and its result."""
    results = {name: run() for name, run in ways.items()}
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(rounds):
        for name, run in ways.items():
            start = time.perf_counter()
            results[name] = run()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: (best[name], results[name]) for name in ways}


def transformers_model(folder: Path, dtype: str) -> Any:
    import vlmi

    return vlmi.load(str(folder), plugin="vlmi-transformers", dtype=dtype)


def bench(arch: str, base: Path, samples: list[Any], args: argparse.Namespace) -> None:
    import torch
    from transformers import AutoProcessor
    from vllm import SamplingParams

    import vlmi
    from vlmi_testkit import make_tiny_checkpoint

    folder = make_tiny_checkpoint(arch, base / f"tiny-{arch}", variant="vllm")
    cuda = torch.cuda.is_available()
    load: dict[str, Any] = {"max_model_len": 2048, "dtype": "float32"}
    if not cuda:
        load["kv_cache_memory_bytes"] = 512 * 1024**2
    started = time.perf_counter()
    model = vlmi.load(str(folder), **load)
    start_seconds = time.perf_counter() - started
    llm = model.llm  # the engine vlmi started; the raw way calls vLLM directly
    processor = AutoProcessor.from_pretrained(folder)
    eos = processor.tokenizer.eos_token_id
    params = SamplingParams(max_tokens=args.tokens, temperature=0.0, stop_token_ids=[eos])

    def raw() -> list[Any]:
        return list(llm.generate(raw_requests(processor, samples), params, use_tqdm=False))

    def through_vlmi() -> list[Any]:
        return model.eval_batch(samples, max_new_tokens=args.tokens)

    timed = best_seconds({"raw": raw, "vlmi": through_vlmi}, args.rounds)
    model.close()
    reference = transformers_model(folder, "float32")
    with_transformers = best_seconds(
        {"transformers": lambda: reference.eval_batch(samples, max_new_tokens=args.tokens)},
        max(1, args.rounds // 3),
    )
    reference.close()
    count = len(samples)
    raw_rate = count / timed["raw"][0]
    vlmi_rate = count / timed["vlmi"][0]
    tf_rate = count / with_transformers["transformers"][0]
    tokens = sum(len(o.outputs[0].token_ids) for o in timed["raw"][1])
    same = [o.outputs[0].text for o in timed["raw"][1]] == timed["vlmi"][1]
    device = torch.cuda.get_device_name(0) if cuda else f"CPU ({os.cpu_count()} cores)"
    print(f"\n{arch}: tiny checkpoint, {device}; {count} samples (0-2 images), greedy float32")
    print(f"engine start (vlmi.load): {start_seconds:.1f} s; tokens per round: {tokens}")
    print(f"{'way':<40}{'samples/s':>10}")
    print(f"{'raw vLLM: one LLM.generate, all':<40}{raw_rate:>10.2f}")
    print(f"{'vlmi-vllm eval_batch':<40}{vlmi_rate:>10.2f}")
    print(f"{'vlmi-transformers eval_batch':<40}{tf_rate:>10.2f}")
    print(f"same answers raw vLLM / vlmi-vllm: {same}")
    print(f"vlmi-vllm / raw vLLM = {vlmi_rate / raw_rate:.3f} (target >= 0.97)")
    print(f"vlmi-vllm / vlmi-transformers = {vlmi_rate / tf_rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", default="qwen2_vl,internvl")
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-vllm-"))
    contain_vllm_files(base)
    samples = make_samples(base, args.samples)
    for arch in args.archs.split(","):
        bench(arch, base, samples, args)


if __name__ == "__main__":
    main()
