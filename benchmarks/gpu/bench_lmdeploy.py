"""InternVL2-8B-shaped throughput on LMDeploy's PyTorch engine: seed's loop, raw pipeline, vlmi.

    python benchmarks/gpu/bench_lmdeploy.py --out DIR [--samples 256] [--shrink]

Workload (the same samples and tokens for all three): an InternVL2-8B-shaped
checkpoint with random bf16 weights (internvl2_checkpoint.py, made here on the
GPU), one 448x448 picture per sample as one tile (``max_dynamic_patch=1``:
256 image tokens) and a question of about 70 tokens, 128 new tokens with EOS
ignored (random weights would stop anywhere), greedy.

1. the seed's way: a Python loop of one ``pipeline`` call per sample (a few
   samples; samples/s = samples / time);
2. raw LMDeploy: one ``lmdeploy.pipeline(...)`` call over the whole list,
   written here without vlmi, with the same engine config and conversations;
3. vlmi: ``vlmi.load("internvl2-8b", model_path=..., backend="pytorch")`` and
   ``eval_batch`` over the same list.

Each result is appended to DIR/lmdeploy_results.json as soon as it exists.
``--shrink`` runs the same code on a CPU: tiny shapes, float16, LMDeploy's GPU
engine scripted (vlmi_testkit.scripted_engine), so only the plumbing is checked.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from internvl2_checkpoint import SHAPES_8B, SHAPES_TINY, make_internvl2_checkpoint

QUESTION = (
    "Look at the picture carefully and describe every object you can see in it, where each "
    "one is, which colours appear, how large each object is compared with the others, and "
    "what the whole scene could be used for."
)


class Results:
    """Results so far, rewritten to ``path`` after each one."""

    def __init__(self, path: Path, **meta: Any) -> None:
        self.path = path
        self.data: dict[str, Any] = {"meta": meta, "rates": {}}
        if path.exists():  # an earlier part of the same run
            self.data["rates"] = json.loads(path.read_text()).get("rates", {})
        self.save()

    def add(self, key: str, value: Any) -> None:
        self.data["rates"][key] = value
        print(f"  {key:28} {json.dumps(value)}", flush=True)
        self.save()

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=2))


def gpu_memory() -> dict[str, float]:
    import torch

    if not torch.cuda.is_available():
        return {}
    free, total = torch.cuda.mem_get_info()
    return {
        "peak_allocated_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
        "used_gib": round((total - free) / 2**30, 2),
    }


def conversations(count: int, folder: Path) -> list[list[dict[str, Any]]]:
    """vlmi-internvl2's own prompt layout, written out: system turn, image token, question."""
    from PIL import Image

    from vlmi.testing.inputs import make_picture
    from vlmi_internvl2.prompts import IMAGE_TOKEN, SYSTEM_PROMPT

    pictures = []
    for seed in range(min(count, 32)):
        path = folder / f"p{seed}.png"
        make_picture(448, 448, seed=seed).save(path)
        pictures.append(Image.open(path).convert("RGB"))
    return [
        [
            {"role": "system", "content": SYSTEM_PROMPT},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"{IMAGE_TOKEN}\n{QUESTION}"},
                    {
                        "type": "image_url",
                        "image_url": {"url": pictures[i % len(pictures)], "max_dynamic_patch": 1},
                    },
                ],
            },
        ]
        for i in range(count)
    ]


def raw_generation_config(new_tokens: int) -> Any:
    from lmdeploy import GenerationConfig

    return GenerationConfig(max_new_tokens=new_tokens, do_sample=False, ignore_eos=True)


def measure_raw(args: argparse.Namespace, folder: Path, samples: list[Any], out: Results) -> None:
    """The seed's loop, then one raw pipeline call over the list (no vlmi)."""
    from lmdeploy import ChatTemplateConfig, PytorchEngineConfig, VisionConfig, pipeline

    config = PytorchEngineConfig(
        tp=1, session_len=args.session_len, cache_max_entry_count=0.8, dtype=args.dtype
    )
    started = time.perf_counter()
    pipe = pipeline(
        str(folder),
        backend_config=config,
        vision_config=VisionConfig(max_batch_size=16),
        chat_template_config=ChatTemplateConfig(model_name="hf", model_path=str(folder)),
        trust_remote_code=True,
        log_level="WARNING",
    )
    out.add("raw load s", round(time.perf_counter() - started, 1))
    gen = raw_generation_config(args.new_tokens)
    pipe([samples[0]], gen_config=gen, use_tqdm=False)  # warm-up
    started = time.perf_counter()
    lengths = []
    for conversation in samples[: args.loop_samples]:
        (response,) = pipe([conversation], gen_config=gen, use_tqdm=False)
        lengths.append(response.generate_token_len)
    seconds = time.perf_counter() - started
    out.add(
        "loop",
        {
            "samples": args.loop_samples,
            "seconds": round(seconds, 2),
            "samples_per_s": round(args.loop_samples / seconds, 3),
            "new_tokens": sorted(set(lengths)),
            "extrapolated_s_for_all": round(len(samples) * seconds / args.loop_samples, 1),
        },
    )
    pipe(samples[: min(len(samples), 32)], gen_config=gen, use_tqdm=False)  # warm-up, batched
    started = time.perf_counter()
    responses = pipe(samples, gen_config=gen, use_tqdm=False)
    seconds = time.perf_counter() - started
    out.add(
        "raw pipeline",
        {
            "samples": len(samples),
            "seconds": round(seconds, 2),
            "samples_per_s": round(len(samples) / seconds, 3),
            "new_tokens": sorted({r.generate_token_len for r in responses}),
            "prompt_tokens": sorted({r.input_token_len for r in responses}),
            **gpu_memory(),
        },
    )
    pipe.close()
    del pipe
    free_gpu()


def measure_vlmi(args: argparse.Namespace, folder: Path, samples: list[Any], out: Results) -> None:
    """vlmi eval_batch over the same conversations (EOS ignored the same way)."""
    import vlmi
    import vlmi_internvl2.model as model_module

    made = model_module.generation_config

    def ignoring_eos(*given: Any, **kwargs: Any) -> Any:
        config = made(*given, **kwargs)
        config.ignore_eos = True  # as the raw run: exactly max_new_tokens per sample
        return config

    model_module.generation_config = ignoring_eos  # type: ignore[assignment]
    started = time.perf_counter()
    model = vlmi.load(
        "internvl2-8b",
        model_path=str(folder),
        backend="pytorch",
        dtype=args.dtype,
        max_dynamic_patch=1,
        session_len=args.session_len,
        vision_max_batch_size=16,
    )
    out.add("vlmi load s", round(time.perf_counter() - started, 1))
    lengths: list[int] = []
    prompts: set[int] = set()
    answer = model._answer

    def counted(response: Any, generation: Any) -> Any:
        lengths.append(response.generate_token_len)
        prompts.add(response.input_token_len)
        return answer(response, generation)

    model._answer = counted  # type: ignore[method-assign]
    items = [vlmi_sample(conversation) for conversation in samples]
    model.eval_batch(items[: min(len(items), 32)], max_new_tokens=args.new_tokens)  # warm-up
    lengths.clear()
    started = time.perf_counter()
    answers = model.eval_batch(items, max_new_tokens=args.new_tokens)
    seconds = time.perf_counter() - started
    out.add(
        "vlmi eval_batch",
        {
            "samples": len(items),
            "seconds": round(seconds, 2),
            "samples_per_s": round(len(items) / seconds, 3),
            "failed": sum(not isinstance(a, str) for a in answers),
            "new_tokens": sorted(set(lengths)),
            "prompt_tokens": sorted(prompts),
            **gpu_memory(),
        },
    )
    model.close()
    free_gpu()


def vlmi_sample(conversation: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """The same sample as vlmi input: the question and the picture."""
    content = conversation[-1]["content"]
    return QUESTION, [content[1]["image_url"]["url"]]


def free_gpu() -> None:
    gc.collect()
    with contextlib.suppress(Exception):
        import torch

        torch.cuda.empty_cache()


@contextlib.contextmanager
def engine_for(shrink: bool) -> Iterator[None]:
    """The real engine, or (``--shrink``, on a CPU) LMDeploy's pipeline with a scripted engine."""
    if not shrink:
        yield
        return
    import vlmi_internvl2.model as model_module
    from vlmi_testkit import scripted_engine

    model_module._require_cuda = lambda: None  # type: ignore[attr-defined]
    with scripted_engine():
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--part",
        choices=["raw", "vlmi", "all"],
        default="all",
        help="raw: loop + raw pipeline; vlmi: eval_batch (run.sh runs each in its own process, "
        "so the first engine's GPU memory is surely free for the second)",
    )
    parser.add_argument(
        "--checkpoint", type=Path, help="checkpoint folder, made if missing (default: temporary)"
    )
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--loop-samples", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--session-len", type=int, default=4096)
    parser.add_argument("--shrink", action="store_true", help="tiny shapes on a CPU (plumbing)")
    args = parser.parse_args()
    import torch

    args.dtype = "float16" if args.shrink else "bfloat16"
    if args.shrink:
        args.samples, args.loop_samples, args.new_tokens = 8, 2, 8
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = Results(
        args.out / "lmdeploy_results.json",
        device=torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        shapes="tiny" if args.shrink else "InternVL2-8B",
        dtype=args.dtype,
        new_tokens=args.new_tokens,
    )
    with tempfile.TemporaryDirectory() as tmp:  # not under --out: 16 GB of weights
        folder = args.checkpoint or Path(tmp) / "internvl2-8b"
        if not (folder / "config.json").exists():
            started = time.perf_counter()
            shapes = SHAPES_TINY if args.shrink else SHAPES_8B
            make_internvl2_checkpoint(folder, shapes, device, args.dtype)
            out.add("checkpoint s", round(time.perf_counter() - started, 1))
            free_gpu()
        samples = conversations(args.samples, Path(tmp))
        with engine_for(args.shrink):
            if args.part in ("raw", "all"):
                measure_raw(args, folder, samples, out)
            if args.part in ("vlmi", "all"):
                measure_vlmi(args, folder, samples, out)
    rates = out.data["rates"]
    if {"vlmi eval_batch", "raw pipeline", "loop"} <= set(rates):
        vlmi_rate = rates["vlmi eval_batch"]["samples_per_s"]
        summary = {
            "vlmi / raw": round(vlmi_rate / rates["raw pipeline"]["samples_per_s"], 3),
            "vlmi / loop": round(vlmi_rate / rates["loop"]["samples_per_s"], 1),
        }
        out.add("ratios", summary)


if __name__ == "__main__":
    main()
