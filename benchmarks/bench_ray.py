"""Benchmark `vlmi run --ray`: 1, 2 and 4 replicas against the local runner, same samples.

The echo model sleeps a fixed time per batch (``latency``), standing for a GPU
that is the bottleneck, so a perfect pool of N replicas is N times faster than
one local model. Needs vlmi-ray, the echo test plugin and vlmi-testkit;
run it from the repository root (``python benchmarks/bench_ray.py``). Starts a
Ray cluster on this machine (loopback only, CPUs only; vlmi_testkit.ray_cluster)
and prints, per setting:

- samples/s over the whole run (start-up included) and in steady state
  (from the first record written to the last);
- scaling efficiency: steady samples/s over N times the local runner's;
- overhead per sample: steady seconds per sample beyond the model's own
  sleep (latency / batch_size / N), and that overhead beyond the local runner's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import vlmi
from vlmi_ray import RayPool


@dataclass
class Measured:
    name: str
    replicas: int
    wall_s: float
    first_s: float
    last_s: float
    first_count: int
    samples: int

    @property
    def rate(self) -> float:
        return self.samples / self.wall_s

    @property
    def steady_rate(self) -> float:
        span = self.last_s - self.first_s
        return (self.samples - self.first_count) / span if span > 0 else float("nan")


def watch(path: Path, stop: threading.Event, began: float, seen: list[tuple[float, int]]) -> None:
    """Record (seconds since start, records written) whenever the output grows."""
    last = -1
    while not stop.is_set():
        count = path.read_bytes().count(b"\n") if path.exists() else 0
        if count != last:
            seen.append((time.perf_counter() - began, count))
            last = count
        time.sleep(0.005)


def measure(name: str, pool: int, source: Path, folder: Path, **run_args) -> Measured:
    out = folder / f"{name}.jsonl"
    seen: list[tuple[float, int]] = []
    stop = threading.Event()
    began = time.perf_counter()
    watcher = threading.Thread(target=watch, args=(out, stop, began, seen), daemon=True)
    watcher.start()
    summary = vlmi.run("echo", source, out, overwrite=True, progress=False, **run_args)
    wall = time.perf_counter() - began
    stop.set()
    watcher.join()
    count = out.read_bytes().count(b"\n")
    seen.append((wall, count))
    assert summary.done == count, (summary, count)
    first = next((t, c) for t, c in seen if c > 0)
    last = next(t for t, c in seen if c == count)
    return Measured(name, pool, wall, first[0], last, first[1], count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=2400)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--latency", type=float, default=0.05, help="echo's seconds per batch")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--cpus", type=int, default=6, help="logical CPUs of the local cluster")
    args = parser.parse_args()
    from vlmi_testkit.ray_cluster import RAY_ENV, LocalCluster

    os.environ.update(RAY_ENV)  # a loopback-only cluster: no token file, no usage report
    folder = Path(tempfile.mkdtemp(prefix="vlmi-bench-ray-"))
    source = folder / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "query": f"question {i} about nothing"}) + "\n"
            for i in range(args.samples)
        )
    )
    load = {"latency": args.latency}
    common = {"batch_size": args.batch_size, "load_options": load}
    try:
        results = [measure("local", 1, source, folder, **common)]
        with LocalCluster(num_cpus=args.cpus) as cluster:
            for replicas in args.replicas:
                ray_args = {"executor": RayPool(cluster.address, replicas, gpus_per_replica=0)}
                name = f"ray x{replicas}"
                results.append(measure(name, replicas, source, folder, **ray_args, **common))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    local = results[0]
    model_s = args.latency / args.batch_size  # the model's own seconds per sample, one replica
    local_overhead = 1 / local.steady_rate - model_s
    print(
        f"{args.samples} samples, batch size {args.batch_size}, echo latency "
        f"{args.latency * 1000:.0f} ms per batch, {os.cpu_count()} cores"
    )
    header = (
        f"{'setting':<9} {'wall s':>7} {'samples/s':>10} {'steady/s':>9} {'scaling':>8} "
        f"{'overhead ms/sample':>19} {'beyond local':>13}"
    )
    print(header)
    for row in results:
        ideal = model_s / row.replicas
        overhead = 1 / row.steady_rate - ideal
        scaling = row.steady_rate / (row.replicas * local.steady_rate)
        beyond = "" if row is local else f"{(overhead - local_overhead) * 1000:+.3f}"
        print(
            f"{row.name:<9} {row.wall_s:7.1f} {row.rate:10.1f} {row.steady_rate:9.1f} "
            f"{scaling:8.0%} {overhead * 1000:19.3f} {beyond:>13}"
        )


if __name__ == "__main__":
    main()
