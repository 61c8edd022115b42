"""Throughput of `vlmi serve` against `eval_batch` in-process, on the same samples.

The model is the echo test model with a fixed sleep per batch call
(`--latency`, standing in for an engine whose batch costs the same at any
size). For each client concurrency (1, 8, 64) the same samples are answered

- in-process: `model.eval_batch` on chunks of `concurrency` samples (the
  batches a perfectly batching server would form), and
- through `vlmi serve` (a child process on 127.0.0.1), by the official
  `openai` async client keeping `concurrency` requests in flight,

and the script prints both throughputs, their ratio, and two costs per
request: the wall-clock difference, (server time - in-process time) /
requests, which on a small machine is mostly the client's own CPU (the
`openai` client costs several ms per request, printed too), and the server's overhead:
the CPU time the `vlmi serve` process spent per request (HTTP, JSON, checks,
batching, image decoding; read from /proc) minus the CPU time `eval_batch`
spent per sample in-process. Each sample holds a text and one small PNG as a
data: URI, so image decoding is part of both.

`--load-test` instead sends 200 requests at once (one client, no limit) and
prints how many were answered, lost or wrong, and the p50/p99 latency.

    python benchmarks/bench_serve.py                 # needs vlmi-core[serve], openai, vlmi-echo
    python benchmarks/bench_serve.py --load-test
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import statistics
import time

import openai

import vlmi
from vlmi.testing import make_picture, start_server


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


def in_process(model, items, concurrency: int) -> tuple[float, float, list]:
    """(wall seconds, CPU seconds, answers) of eval_batch over chunks of `concurrency`."""
    started, cpu = time.perf_counter(), time.process_time()
    answers: list = []
    for start in range(0, len(items), concurrency):
        answers += model.eval_batch(items[start : start + concurrency])
    return time.perf_counter() - started, time.process_time() - cpu, answers


async def through_server(base_url: str, items, concurrency: int) -> tuple[float, list, list]:
    limit = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    async with openai.AsyncOpenAI(base_url=base_url, api_key="none", max_retries=0) as client:

        async def one(content):
            async with limit:
                sent = time.perf_counter()
                response = await client.chat.completions.create(
                    model="echo", messages=[{"role": "user", "content": content}]
                )
                latencies.append(time.perf_counter() - sent)
                return response.choices[0].message.content

        await one(items[0])  # connection and first-request costs out of the timing
        latencies.clear()
        started = time.perf_counter()
        answers = await asyncio.gather(*(one(c) for c in items))
        return time.perf_counter() - started, list(answers), latencies


def throughput(args: argparse.Namespace) -> None:
    model = vlmi.load("echo", latency=args.latency)
    server = start_server(
        "echo",
        "-O",
        f"latency={args.latency}",
        "--max-batch-size",
        "64",
        "--max-wait-ms",
        str(args.max_wait_ms),
        "--log-level",
        "warning",
    )
    print(f"echo model, {args.latency * 1000:g} ms per batch call; vlmi serve at {server.base_url}")
    header = (
        f"{'concurrency':>11} {'requests':>8} {'in-process/s':>13} {'serve/s':>9} "
        f"{'serve/in-process':>16} {'wall diff ms/req':>17} {'client cpu ms/req':>18} "
        f"{'server overhead ms/req':>23}"
    )
    print(header)
    pid = server.process.pid
    try:
        for concurrency in args.concurrency:
            count = max(args.requests, concurrency * 4)
            items = samples(count)
            local_s, local_cpu, local_answers = in_process(model, items, concurrency)
            server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
            served_s, served_answers, _ = asyncio.run(
                through_server(server.base_url, items, concurrency)
            )
            server_cpu = cpu_seconds(pid) - server_cpu
            client_ms = (time.process_time() - client_cpu) / (count + 1) * 1000
            assert served_answers == local_answers, "the server's answers differ"
            wall_ms = (served_s - local_s) / count * 1000
            overhead_ms = (server_cpu / (count + 1) - local_cpu / count) * 1000
            print(
                f"{concurrency:>11} {count:>8} {count / local_s:>13.1f} {count / served_s:>9.1f} "
                f"{local_s / served_s:>16.2f} {wall_ms:>17.2f} {client_ms:>18.2f} "
                f"{overhead_ms:>23.2f}"
            )
    finally:
        server.stop()
    summary = [line for line in server.log if "batch(es)" in line]
    print("server:", summary[-1].strip() if summary else "(no summary)")


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
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per batch call")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--requests", type=int, default=128, help="requests per concurrency")
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--load-test", action="store_true", help="200 requests at once")
    parser.add_argument("--load-requests", type=int, default=200)
    args = parser.parse_args()
    if args.load_test:
        load_test(args)
    else:
        throughput(args)


if __name__ == "__main__":
    main()
