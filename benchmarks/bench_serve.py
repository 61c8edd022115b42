"""Throughput of `vlmi serve` against `eval_batch` in-process, on the same samples.

Two models (`--model`):

- `echo` (default): the echo test model with a fixed sleep per batch call
  (`--latency`, standing in for an engine whose batch costs the same at any
  size), which isolates what the server adds;
- `tiny-transformers`: a tiny random-weight vlmi-transformers checkpoint
  (`--arch`, made locally by vlmi-testkit), a real engine that batches with
  padding and whose cost grows with the batch, generating `--max-new-tokens`
  tokens greedily (needs vlmi-transformers and vlmi-testkit installed).

For each client concurrency (1, 8, 64) the same samples are answered

- in-process: `model.eval_batch` on chunks of `concurrency` samples (the
  batches a perfectly batching server would form), and
- through `vlmi serve` (a child process on 127.0.0.1), by the official
  `openai` async client keeping `concurrency` requests in flight,

(`--repeat` times each, alternating, the fastest run of each side counting:
on a shared machine the slower runs measure the neighbours), after an untimed
first call on each side. The script prints both throughputs, their ratio,
and two costs per request: the wall-clock difference, (server time -
in-process time) / requests, which on a small machine is mostly the client's
own CPU (the `openai` client costs several ms per request, printed too), and
the server's overhead: the CPU time the `vlmi serve` process spent per request
(HTTP, JSON, checks, batching, image decoding; read from /proc) minus the CPU
time `eval_batch` spent per sample in-process. Each sample holds a text and
one small PNG as a data: URI, so image decoding is part of both. The served
answers must equal the in-process answers (the script stops otherwise).

`--load-test` instead sends 200 requests at once (one client, no limit) and
prints how many were answered, lost or wrong, and the p50/p99 latency.

    python benchmarks/bench_serve.py    # needs vlmi-serve, openai, vlmi-echo, vlmi-testkit
    python benchmarks/bench_serve.py --model tiny-transformers    # + vlmi-transformers, -testkit
    python benchmarks/bench_serve.py --load-test
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import openai

import vlmi
from vlmi.testing import make_picture
from vlmi_testkit.serving import ServerProcess, start_server


def samples(count: int) -> list[list[dict]]:
    out = []
    for i in range(count):
        buffer = io.BytesIO()
        make_picture(48 + i % 16, 32, seed=i % 5).save(buffer, format="PNG")
        uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
        out.append(
            [
                {"type": "image_url", "image_url": {"url": uri}},
                {"type": "text", "text": f"Describe picture number {i}."},
            ]
        )
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads (Linux /proc)."""
    import os

    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Workload:
    """One model, loaded in-process and served the same way, and how to ask it."""

    title: str
    served_name: str
    model: Any  # the in-process vlmi model
    serve_args: list[str]  # `vlmi serve` arguments: the model and its options
    generation: dict[str, Any] = field(default_factory=dict)  # eval_batch keyword arguments
    params: dict[str, Any] = field(default_factory=dict)  # chat.completions.create arguments
    rounds: int = 4  # at least this many batches per concurrency level


def echo_workload(args: argparse.Namespace) -> Workload:
    return Workload(
        f"echo model, {args.latency * 1000:g} ms per batch call",
        "echo",
        vlmi.load("echo", latency=args.latency),
        ["echo", "-O", f"latency={args.latency}"],
    )


def tiny_transformers_workload(args: argparse.Namespace) -> Workload:
    try:
        from vlmi_testkit import tiny_checkpoint

        folder = str(tiny_checkpoint(args.arch))
    except ImportError as exc:
        raise SystemExit(
            f"--model tiny-transformers needs vlmi-transformers and vlmi-testkit ({exc}): "
            "pip install -e ./vlmi-transformers -e ./testing/vlmi-testkit"
        ) from None
    tokens = args.max_new_tokens
    return Workload(
        f"tiny vlmi-transformers checkpoint ({args.arch}, random weights, CPU), "
        f"{tokens} new tokens, greedy",
        f"tiny-{args.arch}",
        vlmi.load(folder),
        [folder, "--served-name", f"tiny-{args.arch}"],
        generation={"max_new_tokens": tokens},
        params={"max_completion_tokens": tokens, "temperature": 0},
        rounds=1,
    )


def in_process(workload: Workload, items, concurrency: int) -> tuple[float, float, list]:
    """(wall seconds, CPU seconds, answers) of eval_batch over chunks of `concurrency`."""
    started, cpu = time.perf_counter(), time.process_time()
    answers: list = []
    for start in range(0, len(items), concurrency):
        chunk = items[start : start + concurrency]
        answers += workload.model.eval_batch(chunk, **workload.generation)
    return time.perf_counter() - started, time.process_time() - cpu, answers


async def through_server(
    base_url: str, items, concurrency: int, name: str = "echo", params: dict | None = None
) -> tuple[float, list, list]:
    limit = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    async with openai.AsyncOpenAI(base_url=base_url, api_key="none", max_retries=0) as client:

        async def one(content):
            async with limit:
                sent = time.perf_counter()
                response = await client.chat.completions.create(
                    model=name, messages=[{"role": "user", "content": content}], **(params or {})
                )
                latencies.append(time.perf_counter() - sent)
                return response.choices[0].message.content

        await one(items[0])  # connection and first-request costs out of the timing
        latencies.clear()
        started = time.perf_counter()
        answers = await asyncio.gather(*(one(c) for c in items))
        return time.perf_counter() - started, list(answers), latencies


def served(
    workload: Workload, server: ServerProcess, items: list, concurrency: int
) -> tuple[float, float, float, list]:
    """(wall seconds, server CPU seconds, client CPU seconds, answers) through the server."""
    server_cpu, client_cpu = cpu_seconds(server.process.pid), time.process_time()
    wall, answers, _ = asyncio.run(
        through_server(server.base_url, items, concurrency, workload.served_name, workload.params)
    )
    return (
        wall,
        cpu_seconds(server.process.pid) - server_cpu,
        time.process_time() - client_cpu,
        answers,
    )


def throughput(args: argparse.Namespace) -> None:
    workload = WORKLOADS[args.model](args)
    server = start_server(
        *workload.serve_args,
        "--max-batch-size",
        "64",
        "--max-wait-ms",
        str(args.max_wait_ms),
        "--log-level",
        "warning",
    )
    print(f"{workload.title}; vlmi serve at {server.base_url}")
    header = (
        f"{'concurrency':>11} {'requests':>8} {'in-process/s':>13} {'serve/s':>9} "
        f"{'serve/in-process':>16} {'wall diff ms/req':>17} {'client cpu ms/req':>18} "
        f"{'server overhead ms/req':>23}"
    )
    print(header)
    try:
        workload.model.eval_batch(samples(1), **workload.generation)  # first-call costs out
        for concurrency in args.concurrency:
            count = max(args.requests, concurrency * workload.rounds)
            items = samples(count)
            local_runs, served_runs = [], []
            for _ in range(args.repeat):  # alternated, so both sides see the same machine load
                local_runs.append(in_process(workload, items, concurrency))
                served_runs.append(served(workload, server, items, concurrency))
            local_s, local_cpu, local_answers = min(local_runs, key=lambda run: run[0])
            served_s, server_cpu, client_cpu, served_answers = min(
                served_runs, key=lambda run: run[0]
            )
            assert served_answers == local_answers, "the server's answers differ"
            client_ms = client_cpu / (count + 1) * 1000
            wall_ms = (served_s - local_s) / count * 1000
            overhead_ms = (server_cpu / (count + 1) - local_cpu / count) * 1000
            print(
                f"{concurrency:>11} {count:>8} {count / local_s:>13.1f} {count / served_s:>9.1f} "
                f"{local_s / served_s:>16.2f} {wall_ms:>17.2f} {client_ms:>18.2f} "
                f"{overhead_ms:>23.2f}"
            )
    finally:
        server.stop()
        workload.model.close()
    summary = [line for line in server.log if "batch(es)" in line]
    print("server:", summary[-1].strip() if summary else "(no summary)")


WORKLOADS = {"echo": echo_workload, "tiny-transformers": tiny_transformers_workload}


def load_test(args: argparse.Namespace) -> None:
    server = start_server(
        "echo", "-O", f"latency={args.latency}", "--max-batch-size", "64", "--log-level", "warning"
    )
    count = args.load_requests
    items = [f"load test request {i}" for i in range(count)]
    try:
        wall, answers, latencies = asyncio.run(
            through_server(server.base_url, [i for i in items], concurrency=count)
        )
    finally:
        server.stop()
    wrong = sum(a != q for a, q in zip(answers, items))
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{count} concurrent requests: {len(answers)} answered, {count - len(answers)} lost, "
        f"{wrong} wrong; wall {wall:.2f} s"
    )
    print(
        f"latency p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms"
    )
    summary = [line for line in server.log if "batch(es)" in line]
    print("server:", summary[-1].strip() if summary else "(no summary)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", choices=sorted(WORKLOADS), default="echo")
    parser.add_argument("--latency", type=float, default=0.02, help="echo: seconds per batch")
    parser.add_argument("--arch", default="qwen2_vl", help="tiny-transformers: the architecture")
    parser.add_argument("--max-new-tokens", type=int, default=16, help="tiny-transformers")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument(
        "--requests", type=int, help="requests per concurrency (128 echo, 32 tiny-transformers)"
    )
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per side and concurrency; the fastest counts"
    )
    parser.add_argument("--load-test", action="store_true", help="200 requests at once")
    parser.add_argument("--load-requests", type=int, default=200)
    args = parser.parse_args()
    if args.requests is None:
        args.requests = 32 if args.model == "tiny-transformers" else 128
    if args.load_test:
        load_test(args)
    else:
        throughput(args)


if __name__ == "__main__":
    main()
