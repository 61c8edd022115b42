"""vlmi-transformers against plain Transformers on one GPU: the 8B-shaped workload, one process.

    python benchmarks/gpu/bench_transformers_gpu.py --out DIR [--shrink]

The workload is ``benchmarks/bench_transformers.py``'s: an InternVL checkpoint
with random bf16 weights (InternViT-300M + a Qwen2.5-7B-shaped LLM, built on
the GPU), one 448x448 picture and about 70 text tokens per sample, 128 new
tokens with EOS ignored, greedy. Measured on the same samples:

1. the seed's loop: batch-1 ``generate`` (Transformers' defaults, dynamic
   cache), a few samples; samples/s = samples / time, and the time the whole
   sample list would take at that rate;
2. plain Transformers ``generate`` with a static compiled cache, written here
   (the processor's chat template, left padding, ``cache_implementation=
   "static"``), at batch 64 and 256;
3. vlmi ``eval_batch`` with ``batch_size`` 64 and 256 (its CUDA defaults:
   static cache in 64-token buckets, compiled decoding).

The plain runs use the weights vlmi loaded (one copy on the GPU); each
measurement is preceded by an untimed warm-up of the same shape (compilation).
Results go to DIR/transformers_results.json after each measurement.
``--shrink``: tiny shapes, float32 on a CPU, batch 2 and 4, 8 new tokens, the
compiled path on the CPU (needs g++): the same code, minutes instead of hours.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_transformers import (
    QUESTION,
    TEXT_7B,
    VISION_300M,
    build_internvl,
    ignore_eos,
    pictures,
    with_batch_size,
)

TINY_VISION = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
}
TINY_TEXT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 152064,
}


class Results:
    """Results so far, rewritten to ``path`` after each one."""

    def __init__(self, path: Path, **meta: Any) -> None:
        self.path = path
        self.data: dict[str, Any] = {"meta": meta, "rates": {}}
        self.save()

    def add(self, key: str, value: Any) -> None:
        self.data["rates"][key] = value
        print(f"  {key:24} {json.dumps(value)}", flush=True)
        self.save()

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=2))


def synchronize() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_gib() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**30, 2)


def recompiles() -> int:
    """Graphs torch.compile has built so far (dynamo's counter)."""
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


class PlainTransformers:
    """Batched ``generate`` written with Transformers alone (the baseline)."""

    def __init__(self, folder: Path, hf_model: Any) -> None:
        from transformers import AutoProcessor

        self.processor = AutoProcessor.from_pretrained(folder, padding_side="left")
        self.model = hf_model

    def inputs(self, batch: list[tuple[str, str]]) -> Any:
        from PIL import Image

        conversations = [
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "image", "image": Image.open(path).convert("RGB")},
                        {"type": "text", "text": question},
                    ],
                }
            ]
            for question, path in batch
        ]
        return self.processor.apply_chat_template(
            conversations,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            processor_kwargs={"padding": True},
        ).to(self.model.device)

    def generate(self, batch: list[tuple[str, str]], new_tokens: int, static: bool) -> list[int]:
        """One ``generate`` call; the number of new tokens of each row."""
        import torch

        inputs = self.inputs(batch)
        extra = {"cache_implementation": "static"} if static else {}
        if static and self.model.device.type != "cuda":  # Transformers compiles on CUDA only
            from transformers import CompileConfig

            config = CompileConfig()
            config._compile_all_devices = True
            extra["compile_config"] = config
        with torch.inference_mode():
            output = self.model.generate(
                **inputs, max_new_tokens=new_tokens, do_sample=False, **extra
            )
        return [output.shape[1] - inputs["input_ids"].shape[1]] * output.shape[0]


def timed(run: Any) -> tuple[float, Any]:
    synchronize()
    started = time.perf_counter()
    result = run()
    synchronize()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--loop-samples", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--shrink", action="store_true", help="tiny shapes on a CPU")
    args = parser.parse_args()
    import torch

    import vlmi

    if args.shrink:
        args.batches, args.loop_samples, args.new_tokens = [2, 4], 2, 8
    device = "cuda" if torch.cuda.is_available() and not args.shrink else "cpu"
    out = Results(
        args.out / "transformers_results.json",
        device=torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        shapes="tiny" if args.shrink else "InternViT-300M + Qwen2.5-7B",
        new_tokens=args.new_tokens,
        torch=torch.__version__,
    )
    with tempfile.TemporaryDirectory() as tmp:  # not under --out: 16 GB of weights
        folder = Path(tmp)
        started = time.perf_counter()
        vision, text = (TINY_VISION, TINY_TEXT) if args.shrink else (VISION_300M, TEXT_7B)
        target = build_internvl(folder, device, vision, text)
        out.add("checkpoint s", round(time.perf_counter() - started, 1))
        options: dict[str, Any] = {"device": device}
        if args.shrink:
            options |= {"dtype": "float32", "compile": True}
        started = time.perf_counter()
        model = vlmi.load(str(target), **options)
        placement = model.engine.placement
        out.add("vlmi load s", round(time.perf_counter() - started, 1))
        out.add("placement", {"cache": placement.cache, "compiled": placement.compiled})
        ignore_eos(model)  # the model's own generation_config: plain runs share it
        count = max(args.batches) if not args.shrink else 8  # 256: 4 chunks of 64, 1 of 256
        imgs = pictures(folder, 32, (448, 448))
        samples = [(QUESTION, imgs[i % len(imgs)]) for i in range(count)]
        plain = PlainTransformers(target, model.engine.model)
        measure_loop(plain, samples, args, out)
        for batch_size in args.batches:
            measure_plain(plain, samples, batch_size, args, out)
            measure_vlmi(model, samples, batch_size, args, out)
        summarise(out, args.batches)
        model.close()


def measure_loop(plain: PlainTransformers, samples: list[Any], args: Any, out: Results) -> None:
    plain.generate(samples[:1], args.new_tokens, static=False)  # warm-up
    reset_peak()
    first = samples[: args.loop_samples]
    seconds, lengths = timed(
        lambda: [plain.generate([sample], args.new_tokens, False)[0] for sample in first]
    )
    rate = args.loop_samples / seconds
    out.add(
        "loop",
        {
            "samples": args.loop_samples,
            "samples_per_s": round(rate, 3),
            "new_tokens": sorted(set(lengths)),
            "extrapolated_s_for_all": round(len(samples) / rate, 1),
            "peak_gpu_gib": peak_gib(),
        },
    )


def measure_plain(
    plain: PlainTransformers, samples: list[Any], batch_size: int, args: Any, out: Results
) -> None:
    chunks = [samples[i : i + batch_size] for i in range(0, len(samples), batch_size)]
    plain.generate(chunks[0], args.new_tokens, static=True)  # warm-up: compiles
    before = recompiles()
    reset_peak()
    seconds, lengths = timed(
        lambda: [n for chunk in chunks for n in plain.generate(chunk, args.new_tokens, True)]
    )
    out.add(
        f"plain static {batch_size}",
        {
            "samples": len(samples),
            "samples_per_s": round(len(samples) / seconds, 3),
            "new_tokens": sorted(set(lengths)),
            "graphs_built_while_timed": recompiles() - before,
            "peak_gpu_gib": peak_gib(),
        },
    )
    gc.collect()


def measure_vlmi(model: Any, samples: list[Any], batch_size: int, args: Any, out: Results) -> None:
    with_batch_size(model, batch_size)
    items = [(question, [path]) for question, path in samples]
    model.eval_batch(items[:batch_size], max_new_tokens=args.new_tokens)  # warm-up: compiles
    before = recompiles()
    reset_peak()
    seconds, answers = timed(lambda: model.eval_batch(items, max_new_tokens=args.new_tokens))
    out.add(
        f"vlmi {batch_size}",
        {
            "samples": len(items),
            "samples_per_s": round(len(items) / seconds, 3),
            "failed": sum(not isinstance(a, str) for a in answers),
            "graphs_built_while_timed": recompiles() - before,
            "peak_gpu_gib": peak_gib(),
        },
    )
    gc.collect()


def summarise(out: Results, batches: list[int]) -> None:
    rates = out.data["rates"]
    loop = rates["loop"]["samples_per_s"]
    ratios = {}
    for batch_size in batches:
        vlmi_rate = rates[f"vlmi {batch_size}"]["samples_per_s"]
        ratios[f"vlmi/plain {batch_size}"] = round(
            vlmi_rate / rates[f"plain static {batch_size}"]["samples_per_s"], 3
        )
        ratios[f"vlmi/loop {batch_size}"] = round(vlmi_rate / loop, 1)
    out.add("ratios", ratios)


if __name__ == "__main__":
    main()
