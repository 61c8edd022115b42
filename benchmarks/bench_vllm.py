"""vlmi-vllm against vLLM used directly, per architecture, each way in a process of its own.

Run where vlmi-vllm and vlmi-testkit are installed with an engine (vLLM's CPU
backend as vlmi-vllm's README installs it, or CUDA vLLM)::

    python benchmarks/bench_vllm.py [--archs qwen2_vl,internvl] [--reps 5]
        [--samples 32] [--tokens 16] [--quick]

For each architecture, on the tiny vllm-variant checkpoint of vlmi-testkit
(float32, greedy, the same samples with 0, 1 or 2 images and the same number of
new tokens in every way), the two ways take turns, each repetition in a fresh
process (so neither inherits the other's engine, caches or memory), the order
swapped every repetition:

1. raw vLLM: ``vllm.LLM`` started here, one ``LLM.generate`` over the whole
   list, prompts built by the checkpoint's processor (``apply_chat_template``)
   and images decoded with PIL; no vlmi code;
2. vlmi-vllm: ``vlmi.load(folder)``, ``model.eval_batch(samples)``, and the
   seed's loop (``model.eval`` one sample at a time) over the same samples.

Each process warms up once and then times its way ``--calls`` times (9), keeping the
median (one timed call of about a hundred milliseconds swings with the machine).

A whole process can also run fast or slow (on a shared 2-core virtual machine, two
processes of the same way differ by up to a third), which a handful of repetitions
does not average out. So one more process per architecture measures the two ways
side by side on one engine (vLLM started by ``vlmi.load``; the raw way calls its
``LLM.generate`` with its own requests and one ``SamplingParams``): ``--pairs``
pairs of calls (61: the median of fewer moves by a few percent from run to run),
alternating, the order swapped every pair, each pair's ratio kept; that is vlmi's
own cost per call, without the processes' noise.

Printed per architecture: vlmi / raw (samples/s; target >= 0.97) over the separate
processes as the median with its min-max over the repetitions; the same on one
engine as the median of the pairs with their quartiles; and eval_batch / the seed's
loop. Before it starts, it prints an estimate of the whole run's duration.
``--reps 0``: the one engine only. ``--quick``: 1 repetition, 8 samples, 4 tokens,
3 calls, 3 pairs, for a smoke check.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: architectures with a tiny vllm-variant checkpoint in vlmi-testkit that vLLM's CPU backend runs
ARCHS = ("qwen2_vl", "qwen2_5_vl", "internvl")
#: seconds one child process takes on a 2-core CPU (imports, engine start, the runs)
CHILD_SECONDS = 90


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
        if not path.exists():
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


def engine_kwargs() -> dict[str, Any]:
    import torch

    load: dict[str, Any] = {"max_model_len": 2048, "dtype": "float32"}
    if not torch.cuda.is_available():
        load["kv_cache_memory_bytes"] = 512 * 1024**2
    return load


def timed(run: Any, times: int = 3) -> tuple[float, Any]:
    """The median seconds of ``times`` calls of ``run``, and its last result."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def raw_way(llm: Any, folder: Path, samples: list[Any], tokens: int) -> Any:
    """The raw way on a started ``LLM``: a callable answering ``samples`` as vLLM's docs do."""
    from transformers import AutoProcessor
    from vllm import SamplingParams

    processor = AutoProcessor.from_pretrained(folder)
    params = SamplingParams(
        max_tokens=tokens, temperature=0.0, stop_token_ids=[processor.tokenizer.eos_token_id]
    )

    def run() -> list[str]:
        outputs = llm.generate(raw_requests(processor, samples), params, use_tqdm=False)
        return [o.outputs[0].text for o in outputs]

    return run


def child(way: str, folder: Path, samples: list[Any], args: argparse.Namespace) -> dict[str, Any]:
    """One way in this process (or both on one engine): warm up, then time; seconds, answers."""
    tokens = args.tokens
    if way == "raw":
        from vllm import LLM

        llm = LLM(model=str(folder), enforce_eager=True, **engine_kwargs())
        run = raw_way(llm, folder, samples, tokens)
        run()
        seconds, answers = timed(run, args.calls)
        return {"batch_s": seconds, "answers": answers}
    import vlmi

    model = vlmi.load(str(folder), plugin="vlmi-vllm", **engine_kwargs())

    def ours() -> list[Any]:
        return model.eval_batch(samples, max_new_tokens=tokens)

    ours()
    if way == "paired":
        raw = raw_way(model.llm, folder, samples, tokens)
        raw()
        ratios = []
        for pair in range(args.pairs):
            first, second = (raw, ours) if pair % 2 == 0 else (ours, raw)
            (a, _), (b, _) = timed(first, 1), timed(second, 1)
            raw_s, ours_s = (a, b) if pair % 2 == 0 else (b, a)
            ratios.append(raw_s / ours_s)
        model.close()
        return {"ratios": ratios}
    seconds, answers = timed(ours, args.calls)
    loop_s, _ = timed(lambda: [model.eval(q, i, max_new_tokens=tokens) for q, i in samples], 1)
    model.close()
    return {"batch_s": seconds, "loop_s": loop_s, "answers": answers}


def spawn(way: str, arch: str, base: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", way, "--archs", arch, "--base", str(base)]
    command += ["--samples", str(args.samples), "--tokens", str(args.tokens)]
    command += ["--calls", str(args.calls), "--pairs", str(args.pairs)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{way} on {arch} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f})"


def bench(arch: str, base: Path, args: argparse.Namespace) -> None:
    runs: dict[str, list[dict[str, Any]]] = {"raw": [], "vlmi": []}
    for rep in range(args.reps):
        for way in ("raw", "vlmi") if rep % 2 == 0 else ("vlmi", "raw"):
            runs[way].append(spawn(way, arch, base, args))
            print(f"  {arch} rep {rep + 1} {way}: {runs[way][-1]['batch_s']:.3f} s", flush=True)
    paired = spawn("paired", arch, base, args)["ratios"]
    print(f"  {arch} one engine: {len(paired)} pairs", flush=True)
    count = args.samples
    print(f"\n{arch}: {count} samples (0-2 images) x {args.tokens} tokens, {args.reps} reps each")
    if runs["raw"]:
        raw_s = statistics.median(r["batch_s"] for r in runs["raw"])
        ours_s = statistics.median(v["batch_s"] for v in runs["vlmi"])
        ratios = [r["batch_s"] / v["batch_s"] for r, v in zip(runs["raw"], runs["vlmi"])]
        loops = [v["loop_s"] / v["batch_s"] for v in runs["vlmi"]]
        same = all(r["answers"] == v["answers"] for r, v in zip(runs["raw"], runs["vlmi"]))
        print(f"  raw vLLM   {count / raw_s:8.2f} /s")
        print(f"  vlmi-vllm  {count / ours_s:8.2f} /s")
        print(f"  vlmi / raw (samples/s, target >= 0.97): {spread(ratios)}")
        print(f"  eval_batch / seed's loop of eval: {spread(loops)}")
        print(f"  same answers raw / vlmi: {same}")
    low, mid, high = statistics.quantiles(paired, n=4)
    print(
        f"  vlmi / raw on one engine, {len(paired)} alternating pairs: {mid:.3f} "
        f"(quartiles {low:.3f}-{high:.3f}, min {min(paired):.3f}, max {max(paired):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", default="qwen2_vl,internvl", help=f"of {', '.join(ARCHS)}")
    parser.add_argument(
        "--reps", type=int, default=5, help="fresh processes per way (0: one engine only)"
    )
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--calls", type=int, default=9, help="timed calls per process")
    parser.add_argument("--pairs", type=int, default=61, help="alternating pairs on one engine")
    parser.add_argument(
        "--quick", action="store_true", help="1 rep, 8 samples, 4 tokens, 3 calls, 3 pairs"
    )
    parser.add_argument("--child", choices=["raw", "vlmi", "paired"], help=argparse.SUPPRESS)
    parser.add_argument("--base", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.reps, args.samples, args.tokens, args.calls, args.pairs = 1, 8, 4, 3, 3
    archs = args.archs.split(",")
    if args.child:
        from vlmi_testkit import make_tiny_checkpoint

        contain_vllm_files(args.base)
        folder = args.base / f"tiny-{archs[0]}"
        if not (folder / "config.json").exists():
            make_tiny_checkpoint(archs[0], folder, variant="vllm")
        result = child(args.child, folder, make_samples(args.base, args.samples), args)
        print("RESULT " + json.dumps(result), flush=True)
        return
    unknown = sorted(set(archs) - set(ARCHS))
    if unknown:
        parser.error(f"no tiny vllm checkpoint for {', '.join(unknown)}; choose from {ARCHS}")
    estimate = len(archs) * (args.reps * 2 + 1) * CHILD_SECONDS
    print(
        f"{len(archs)} architectures x ({args.reps} reps x 2 ways + 1 on one engine), one "
        f"process each: about {estimate / 60:.0f} min on a 2-core CPU "
        f"({CHILD_SECONDS} s per process)",
        flush=True,
    )
    base = Path(tempfile.mkdtemp(prefix="bench-vllm-"))
    for arch in archs:
        bench(arch, base / arch, args)


if __name__ == "__main__":
    main()
