"""Throughput of vlmi-transformers: a Python loop of ``eval`` against ``eval_batch``.

Run with ``nox -s bench_transformers`` (or ``python benchmarks/bench_transformers.py``
in an environment with vlmi-transformers[testing]). Prints samples/s and peak
memory for:

0. vlmi's own cost (``--overhead``, or ``--only-overhead``): on the tiny Qwen2-VL and
   InternVL checkpoints, 32 samples x 16 new tokens (one 448x448 picture each, EOS
   ignored), vlmi ``eval_batch`` against a hand-written Transformers batch over the same
   samples (the same processor and weights, chunks of the same batch size), taking turns
   in one process for ``--reps`` repetitions (the order swapped every time). Printed: the
   median seconds of each, and vlmi / hand-written (target >= 0.97) as the median and the
   min-max of the per-repetition ratios, in wall time and in process CPU time (steadier
   on a shared machine), for file paths (both decode them) and for PIL images given
   ready; plus whether the answers are identical;
1. a tiny InternVL checkpoint on the CPU (always; float32, dynamic cache);
2. with CUDA present: an 8B-shaped InternVL with random bf16 weights
   (InternViT-300M + a Qwen2.5-7B-shaped LLM), one 448x448 image and about 70
   text tokens per sample, 128 new tokens with EOS ignored, so every batch
   size does exactly the same work. It also prints how far the best rate is
   from the workload's compute floor (about 110 samples/s on one H200).

Reference points measured on one H200 for exactly that workload with plain
Transformers ``generate``: loop 0.37 samples/s; padded batch 32/128/256 with a
dynamic cache 3.8/10.9/15.2; batch 64/256 with a compiled static cache
23.3/31.8; prefill alone at 256: 68.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import vlmi
from vlmi.testing.inputs import make_picture  # needs only Pillow

COMPUTE_FLOOR = 110.0  # samples/s for the 8B workload on one H200 (see the docstring)
# about 70 prompt tokens besides the image, with the tiny recipe's tokenizer (checked in tests)
QUESTION = (
    "Look at the picture carefully and describe every object you can see in it, where each "
    "one is, and which colours appear."
)


def pictures(folder: Path, count: int, size: tuple[int, int]) -> list[str]:
    paths = []
    for seed in range(count):
        path = folder / f"p{seed}.png"
        make_picture(*size, seed=seed).save(path)
        paths.append(str(path))
    return paths


def with_batch_size(model: vlmi.Model, batch_size: int) -> None:
    options = model.options
    model.options = replace(options, engine=replace(options.engine, batch_size=batch_size))


def ignore_eos(model: Any) -> None:
    """Every sample generates exactly max_new_tokens (random weights never stop sensibly)."""
    config = model.engine.model.generation_config
    config.pad_token_id = model.engine.tokenizer.pad_token_id
    config.eos_token_id = None


def reset_peak_memory() -> None:
    """Start a new GPU peak (the process RSS peak cannot be reset, so it only grows)."""
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
    except ImportError:
        pass


def peak_memory() -> str:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = f"peak RSS {rss:,.0f} MiB"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = torch.cuda.max_memory_allocated() / 2**30
            text += f", peak GPU {gpu:,.1f} GiB"
    except ImportError:
        pass
    return text


def measure(
    model: vlmi.Model,
    samples: list[tuple[str, list[str]]],
    batch_sizes: list[int],
    loop_samples: int,
    new_tokens: int,
) -> dict[str, float]:
    rates: dict[str, float] = {}
    model.eval(*samples[0], max_new_tokens=new_tokens)  # warm-up
    reset_peak_memory()
    started = time.perf_counter()
    for query, imgs in samples[:loop_samples]:
        model.eval(query, imgs, max_new_tokens=new_tokens)
    rate = loop_samples / (time.perf_counter() - started)
    rates["loop of eval"] = rate
    print(f"  loop of eval     {rate:8.2f} samples/s  ({loop_samples} samples)  {peak_memory()}")
    for batch_size in batch_sizes:
        with_batch_size(model, batch_size)
        chunk = samples[: max(batch_size * 2, 32)]
        model.eval_batch(chunk[:batch_size], max_new_tokens=new_tokens)  # warm-up (compiles)
        reset_peak_memory()
        started = time.perf_counter()
        results = model.eval_batch(chunk, max_new_tokens=new_tokens)
        rate = len(chunk) / (time.perf_counter() - started)
        failed = sum(not isinstance(r, str) for r in results)
        rates[f"eval_batch {batch_size}"] = rate
        print(
            f"  eval_batch {batch_size:<5} {rate:8.2f} samples/s  ({len(chunk)} samples, "
            f"{failed} failed)  {peak_memory()}"
        )
    return rates


def hand_written_batch(
    model: Any, samples: list[tuple[str, list[Any]]], batch_size: int, new_tokens: int
) -> list[str]:
    """What a user writes with Transformers alone, on the weights and processor vlmi loaded."""
    import torch
    from PIL import Image

    processor, hf_model = model.engine.processor, model.engine.model
    answers: list[str] = []
    for start in range(0, len(samples), batch_size):
        conversations = [
            [
                {
                    "role": "user",
                    "content": [
                        *(
                            {
                                "type": "image",
                                "image": img
                                if isinstance(img, Image.Image)
                                else Image.open(img).convert("RGB"),
                            }
                            for img in imgs
                        ),
                        {"type": "text", "text": question},
                    ],
                }
            ]
            for question, imgs in samples[start : start + batch_size]
        ]
        inputs = processor.apply_chat_template(
            conversations,
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            processor_kwargs={"padding": True},
        )
        with torch.inference_mode():
            output = hf_model.generate(**inputs, max_new_tokens=new_tokens, do_sample=False)
        prompt_length = inputs["input_ids"].shape[1]
        answers += processor.batch_decode(output[:, prompt_length:], skip_special_tokens=True)
    return answers


def taking_turns(ways: dict[str, Any], reps: int) -> dict[str, dict[str, list[float]]]:
    """Wall and process-CPU seconds of each way per repetition, the order swapped each time."""
    times: dict[str, dict[str, list[float]]] = {n: {"wall": [], "cpu": []} for n in ways}
    for rep in range(reps):
        order = list(ways) if rep % 2 == 0 else list(reversed(ways))
        for name in order:
            wall, cpu = time.perf_counter(), time.process_time()
            ways[name]()
            times[name]["cpu"].append(time.process_time() - cpu)
            times[name]["wall"].append(time.perf_counter() - wall)
    return times


def ratio_line(times: dict[str, dict[str, list[float]]], clock: str) -> str:
    hand, ours = times["hand-written"][clock], times["vlmi"][clock]
    ratios = [h / v for h, v in zip(hand, ours)]  # vlmi's rate / the hand-written rate
    return (
        f"{clock:>4}: hand-written {statistics.median(hand):.3f} s, vlmi "
        f"{statistics.median(ours):.3f} s; vlmi / hand-written {statistics.median(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f})"
    )


def compare_once(
    model: Any, samples: list[tuple[str, list[Any]]], kind: str, args: argparse.Namespace
) -> None:
    batch, tokens = model.engine_options.batch_size, args.overhead_tokens
    ways = {
        "hand-written": lambda: hand_written_batch(model, samples, batch, tokens),
        "vlmi": lambda: model.eval_batch(samples, max_new_tokens=tokens),
    }
    same = ways["hand-written"]() == ways["vlmi"]()  # also the warm-up
    times = taking_turns(ways, args.reps)
    print(f"  {kind}: identical answers: {same}")
    print(f"    {ratio_line(times, 'wall')}")
    print(f"    {ratio_line(times, 'cpu')}")


def bench_overhead(folder: Path, args: argparse.Namespace) -> None:
    """vlmi eval_batch against a hand-written batch over the same samples (see the docstring)."""
    import torch
    from PIL import Image

    from vlmi_testkit import make_tiny_checkpoint

    if args.threads:
        torch.set_num_threads(args.threads)
    paths = pictures(folder, 16, (448, 448))
    ready = [Image.open(path).convert("RGB") for path in paths]
    for arch in args.overhead_archs:
        checkpoint = make_tiny_checkpoint(arch, folder / f"overhead-{arch}")
        model = vlmi.load(str(checkpoint), plugin="vlmi-transformers", device="cpu")
        ignore_eos(model)
        batch = model.engine_options.batch_size
        print(
            f"vlmi's own cost, tiny {arch} on CPU ({torch.get_num_threads()} torch threads), "
            f"{args.overhead_samples} samples x {args.overhead_tokens} new tokens, batches of "
            f"{batch}, {args.reps} repetitions taking turns:"
        )
        for kind, images in (("file paths", paths), ("PIL images", ready)):
            samples = [(QUESTION, [images[i % 16]]) for i in range(args.overhead_samples)]
            compare_once(model, samples, kind, args)
        model.close()


CPU_MODES = {
    "eager": {"cache_implementation": "dynamic"},
    "compiled": {"cache_implementation": "static", "compile": True},
}


def bench_tiny_cpu(folder: Path, args: argparse.Namespace) -> None:
    from vlmi_testkit import make_tiny_checkpoint

    checkpoint = make_tiny_checkpoint("internvl", folder / "tiny-internvl")
    imgs = pictures(folder, 16, (448, 448))
    count = max(max(args.cpu_batches) * 2, 32)
    samples = [(QUESTION, [imgs[i % len(imgs)]]) for i in range(count)]
    for mode in args.cpu_modes:
        model = vlmi.load(str(checkpoint), device="cpu", **CPU_MODES[mode])
        ignore_eos(model)
        placement = model.engine.placement
        print(
            f"tiny InternVL on CPU, float32, {args.cpu_tokens} new tokens, {placement.cache} "
            f"cache, {'compiled' if placement.compiled else 'eager'} decoding:"
        )
        measure(model, samples, args.cpu_batches, 16, args.cpu_tokens)
        model.close()


#: InternViT-300M and Qwen2.5-7B (the text model of InternVL3-8B)
VISION_300M = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
}
TEXT_7B = {
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "vocab_size": 152064,
}


def build_internvl(
    folder: Path,
    device: str = "cuda",
    vision: dict[str, int] = VISION_300M,
    text: dict[str, int] = TEXT_7B,
) -> Path:
    """An InternVL checkpoint of the given shapes, random bf16 weights, 448x448 tiles of 256 tokens.

    The tokenizer, chat template and processor come from the tiny InternVL
    recipe; only the sizes differ. Weights are initialised on ``device``.
    """
    import torch
    from transformers import (
        AutoModelForImageTextToText,
        GotOcr2ImageProcessor,
        InternVLConfig,
        InternVLProcessor,
    )
    from transformers.models.internvl.video_processing_internvl import InternVLVideoProcessor

    from vlmi_testkit.tiny_transformers import INTERNVL_TEMPLATE, make_tiny_checkpoint

    tiny = make_tiny_checkpoint("internvl", folder / "tokenizer-source")
    tokenizer = InternVLProcessor.from_pretrained(tiny).tokenizer
    config = InternVLConfig(
        vision_config={**vision, "image_size": [448, 448], "patch_size": [14, 14]},
        text_config={
            "model_type": "qwen2",
            **text,
            "max_position_embeddings": 32768,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        image_token_id=tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>"),
        image_seq_length=256,
        tie_word_embeddings=False,
    )
    target = folder / "internvl-random"
    size = {"height": 448, "width": 448}
    InternVLProcessor(
        image_processor=GotOcr2ImageProcessor(size=size, crop_to_patches=False),
        video_processor=InternVLVideoProcessor(size=size),
        tokenizer=tokenizer,
        image_seq_length=256,
        chat_template=INTERNVL_TEMPLATE,
    ).save_pretrained(target)
    with torch.device(device):
        model = AutoModelForImageTextToText.from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(target)
    del model
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return target


def bench_8b_cuda(folder: Path, args: argparse.Namespace) -> None:
    import torch

    if not torch.cuda.is_available():
        print("8B-shaped model: skipped (no CUDA device)")
        return
    print(f"8B-shaped InternVL on {torch.cuda.get_device_name(0)}, bf16, 128 new tokens:")
    target = build_internvl(folder)
    compile = {"auto": None, "on": True, "off": False}[args.compile]
    model = vlmi.load(str(target), cache_implementation=args.cache, compile=compile)
    placement = model.engine.placement
    print(f"  {placement.cache} cache, compiled decoding: {placement.compiled}")
    ignore_eos(model)
    imgs = pictures(folder, 32, (448, 448))
    count = max(max(args.gpu_batches) * 2, 32)
    samples = [(QUESTION, [imgs[i % len(imgs)]]) for i in range(count)]
    rates = measure(model, samples, args.gpu_batches, 8, 128)
    best = max(rates.values())
    print(
        f"  best {best:.1f} samples/s = {best / COMPUTE_FLOOR:.0%} of the ~{COMPUTE_FLOOR:.0f} "
        "samples/s compute floor"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-batches", type=int, nargs="+", default=[1, 4, 16, 32])
    parser.add_argument("--cpu-tokens", type=int, default=32)
    parser.add_argument("--gpu-batches", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--cache", default="auto", help="cache_implementation on CUDA")
    parser.add_argument("--compile", choices=["auto", "on", "off"], default="auto")
    parser.add_argument("--cpu-modes", nargs="+", choices=sorted(CPU_MODES), default=["eager"])
    parser.add_argument("--skip-cpu", action="store_true")
    parser.add_argument("--overhead", action="store_true", help="also vlmi against hand-written")
    parser.add_argument("--only-overhead", action="store_true", help="only that comparison")
    parser.add_argument("--overhead-archs", nargs="+", default=["qwen2_vl", "internvl"])
    parser.add_argument("--overhead-samples", type=int, default=32)
    parser.add_argument("--overhead-tokens", type=int, default=16)
    parser.add_argument("--reps", type=int, default=15, help="repetitions of each way")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.overhead or args.only_overhead:
            bench_overhead(folder, args)
        if args.only_overhead:
            return
        if not args.skip_cpu:
            bench_tiny_cpu(folder, args)
        bench_8b_cuda(folder, args)


if __name__ == "__main__":
    main()
