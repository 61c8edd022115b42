"""Benchmark the runner: its overhead per sample, and parallel image decoding.

Needs vlmi-core and the echo test plugin (`nox -s bench` installs both). Prints:

1. seconds per sample of `vlmi.run` (file in, JSONL out, resume bookkeeping)
   against calling `eval_batch` directly on the same samples, with the echo
   model, so the model itself costs nearly nothing;
2. decoding a few hundred real JPEG/PNG files made here, one thread against
   the runner's thread pool.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from PIL import Image

import vlmi
from vlmi.plugin import Sample, prepare_samples


def make_images(folder: Path, count: int, size: tuple[int, int]) -> list[str]:
    rng = random.Random(0)
    paths = []
    for i in range(count):
        img = Image.effect_noise(size, 60 + i % 40).convert("RGB")
        img = Image.merge(
            "RGB", [c.point(lambda v, k=k: (v + 40 * k) % 256) for k, c in enumerate(img.split())]
        )
        suffix = ".jpg" if i % 2 == 0 else ".png"
        path = folder / f"img{i}{suffix}"
        img.save(path, quality=90) if suffix == ".jpg" else img.save(path)
        paths.append(str(path))
    rng.shuffle(paths)
    return paths


def bench_overhead(folder: Path, samples: int, batch_size: int, with_images: list[str]) -> None:
    model = vlmi.load("echo")
    records = []
    for i in range(samples):
        imgs = [with_images[i % len(with_images)]] if with_images else []
        records.append({"id": f"s{i}", "query": f"question {i} about the picture", "imgs": imgs})
    path = folder / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    items = [(r["query"], r["imgs"]) for r in records]
    began = time.perf_counter()
    for start in range(0, samples, batch_size):
        model.eval_batch(items[start : start + batch_size], max_new_tokens=8)
    direct = time.perf_counter() - began
    out = folder / "out.jsonl"
    began = time.perf_counter()
    summary = vlmi.run(
        model, path, out, batch_size=batch_size, progress=False, overwrite=True, max_new_tokens=8
    )
    through_run = time.perf_counter() - began
    assert summary.done == samples
    kind = "one image each" if with_images else "text only"
    print(f"runner overhead ({samples} samples, {kind}, batch {batch_size}):")
    print(f"  eval_batch directly: {direct / samples * 1e6:8.1f} us/sample")
    print(f"  vlmi.run           : {through_run / samples * 1e6:8.1f} us/sample")
    print(
        f"  overhead           : {(through_run - direct) / samples * 1e6:8.1f} us/sample "
        f"({through_run / direct:.2f}x; with images, the prefetch thread overlaps decoding)"
    )


def bench_decoding(paths: list[str]) -> None:
    model = vlmi.load("echo")
    samples = [Sample.from_query("q", p) for p in paths]
    prepare_samples(model, samples, workers=1)  # warm the file cache so each run reads alike
    timings = {}
    for workers in (1, 2, 4, 8):
        began = time.perf_counter()
        prepared = prepare_samples(model, samples, workers=workers)
        timings[workers] = time.perf_counter() - began
        assert all(isinstance(s, Sample) for s in prepared)
    print(f"image decoding ({len(paths)} files, JPEG and PNG, {os.cpu_count()} cores):")
    for workers, took in timings.items():
        print(
            f"  {workers} thread(s): {took:6.2f} s  {len(paths) / took:7.1f} images/s  "
            f"speed-up {timings[1] / took:4.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--size", type=int, nargs=2, default=(1024, 768))
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_images(folder, args.images, tuple(args.size))
        bench_overhead(folder, args.samples, args.batch_size, [])
        bench_overhead(folder, min(args.samples, 2000), args.batch_size, paths)
        bench_decoding(paths)


if __name__ == "__main__":
    main()
