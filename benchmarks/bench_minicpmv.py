"""Throughput of vlmi-minicpmv against vLLM used directly, on the tiny MiniCPM-V-2.6 checkpoint.

Run where vlmi-minicpmv and vlmi-testkit are installed with an engine (vLLM's
CPU backend as the plugin's README installs it, or CUDA vLLM)::

    python benchmarks/bench_minicpmv.py [--samples 48] [--tokens 16] [--rounds 5]

One engine serves the three ways (same samples, same SamplingParams, greedy,
float32), so only what each way does around the engine differs:

1. loop: one ``LLM.generate`` per sample (a per-sample script's way);
2. raw vLLM: one ``LLM.generate`` over the whole list, prompts and
   multi_modal_data built here with vLLM and Transformers only;
3. vlmi: ``model.eval_batch(samples)``.

Images are read from files in every way (PIL decoding included). Each way runs
``--rounds`` times after a warm-up, the ways taking turns; the best round
counts. It prints samples/s, generated tokens, and the ratios vlmi / raw vLLM
(vlmi must add almost nothing: target >= 0.97) and vlmi / loop. Where CUDA is
present vLLM runs on the GPU.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

IMAGE_PLACEHOLDER = "(<image>./</image>)"


def contain_vllm_files(base: Path) -> None:
    """vLLM's cache, RPC sockets and the checkpoint's code modules under ``base``."""
    for variable, folder in (
        ("VLLM_CACHE_ROOT", "vllm-cache"),
        ("VLLM_RPC_BASE_PATH", "vllm-rpc"),
        ("HF_MODULES_CACHE", "hf-modules"),
    ):
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


def raw_requests(tokenizer: Any, samples: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
    """vLLM prompt dicts built directly: chat template, one placeholder per image."""
    from PIL import Image

    requests = []
    for question, paths in samples:
        content = "\n".join([IMAGE_PLACEHOLDER] * len(paths) + [question])
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": content}], tokenize=False, add_generation_prompt=True
        )
        request: dict[str, Any] = {"prompt": prompt}
        if paths:
            request["multi_modal_data"] = {"image": [Image.open(p).convert("RGB") for p in paths]}
        requests.append(request)
    return requests


def best_rates(ways: dict[str, Any], count: int, rounds: int) -> dict[str, tuple[float, Any]]:
    """Samples/s of each way's fastest round, and its result; after one warm-up each.

    The rounds interleave the ways (a round runs each way once), so a change in
    the machine's load falls on all of them alike.
    """
    results = {name: run() for name, run in ways.items()}
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(rounds):
        for name, run in ways.items():
            start = time.perf_counter()
            results[name] = run()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: (count / best[name], results[name]) for name in ways}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=48)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="bench-minicpmv-"))
    contain_vllm_files(base)
    import torch
    from vllm import SamplingParams

    import vlmi
    from vlmi_testkit import make_tiny_minicpmv

    folder = make_tiny_minicpmv(base / "tiny-minicpmv")
    samples = make_samples(base, args.samples)
    cuda = torch.cuda.is_available()
    load: dict[str, Any] = {"max_model_len": 2048, "dtype": "float32"}
    if not cuda:
        load["kv_cache_memory_bytes"] = 1024**3
    started = time.perf_counter()
    model = vlmi.load("minicpm-v-2.6", model_path=str(folder), **load)
    start_seconds = time.perf_counter() - started
    llm = model.llm  # the engine vlmi started; the loop and raw ways call vLLM directly
    tokenizer = llm.get_tokenizer()
    stop_ids = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")]
    params = SamplingParams(max_tokens=args.tokens, temperature=0.0, stop_token_ids=stop_ids)

    def loop() -> list[Any]:
        return [
            llm.generate(raw_requests(tokenizer, [s]), params, use_tqdm=False)[0] for s in samples
        ]

    def raw() -> list[Any]:
        return list(llm.generate(raw_requests(tokenizer, samples), params, use_tqdm=False))

    def through_vlmi() -> list[Any]:
        return model.eval_batch(samples, max_new_tokens=args.tokens)

    count = len(samples)
    rates = best_rates({"loop": loop, "raw": raw, "vlmi": through_vlmi}, count, args.rounds)
    (loop_rate, loop_out), (raw_rate, raw_out) = rates["loop"], rates["raw"]
    vlmi_rate, vlmi_out = rates["vlmi"]
    tokens = sum(len(o.outputs[0].token_ids) for o in raw_out)
    same = [o.outputs[0].text for o in raw_out] == vlmi_out == [o.outputs[0].text for o in loop_out]
    device = torch.cuda.get_device_name(0) if cuda else f"CPU ({os.cpu_count()} cores)"
    print(f"tiny MiniCPM-V-2.6 on vLLM, {device}; {count} samples (0-2 images), greedy")
    print(f"engine start (vlmi.load, vLLM imported before): {start_seconds:.1f} s")
    print(f"{'way':<38}{'samples/s':>10}")
    print(f"{'loop: one LLM.generate per sample':<38}{loop_rate:>10.2f}")
    print(f"{'raw vLLM: one LLM.generate, all':<38}{raw_rate:>10.2f}")
    print(f"{'vlmi eval_batch':<38}{vlmi_rate:>10.2f}")
    print(f"generated tokens per round: {tokens}; same answers in all three ways: {same}")
    print(f"vlmi / raw vLLM = {vlmi_rate / raw_rate:.3f} (target >= 0.97)")
    print(f"vlmi / loop     = {vlmi_rate / loop_rate:.2f}")
    model.close()


if __name__ == "__main__":
    main()
