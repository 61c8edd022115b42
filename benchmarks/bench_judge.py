"""Scoring with a judge: judged rows per second, and vlmi's overhead per judged row.

Scores an MM-Vet-layout file of N rows (each prediction a distinct prompt with a
``JUDGE=0.5`` marker) against the scripted judge server of vlmi-testkit
(``openai:NAME`` through vlmi-openai), at concurrency 1, 8 and 32, each run with
``rejudge=True`` so that every row is sent. At concurrency 1 it reports vlmi's
overhead per judged row: the wall time less the server's own measured handling
time, divided by the rows (target: under 2 ms); and beside it the same for the
bare ``openai`` client sending the same prompts one by one, the floor any
OpenAI-compatible judge pays.

    python benchmarks/bench_judge.py [--rows 400]

Needs vlmi-core, vlmi-openai and vlmi-testkit installed (vlmi-openai's test
environment has them).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def write_files(folder: Path, rows: int) -> tuple[Path, Path]:
    folder.mkdir(exist_ok=True)
    tsv, preds = folder / "MMVet.tsv", folder / "MMVet.jsonl"
    lines = ["index\tquestion\tanswer\tcategory"]
    lines += [f"{i}\tWhat is shown in picture {i}?\ta cat\trec" for i in range(1, rows + 1)]
    tsv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = [
        {"id": str(i), "prediction": f"a cat, row {i} JUDGE=0.5"} for i in range(1, rows + 1)
    ]
    preds.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return preds, tsv


def main() -> None:
    import openai

    import vlmi
    from vlmi_testkit.judge_server import JudgeServer

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, JudgeServer() as server:
        preds, tsv = write_files(Path(tmp), args.rows)
        print(f"{args.rows} MM-Vet rows, each judged once, against the scripted judge on loopback")
        header = ("concurrency", "rows/s", "wall s", "server s", "overhead ms/row")
        print("{:>11} {:>9} {:>8} {:>9} {:>16}".format(*header))
        # once before timing: imports the openai client and reads the plugin registry
        small_preds, small_tsv = write_files(Path(tmp) / "warm", 2)
        vlmi.score(
            small_preds,
            small_tsv,
            judge="openai:bench",
            progress=False,
            judge_options={"base_url": server.base_url},
        )
        for concurrency in (1, 8, 32):
            server.requests.clear()
            server.handling_seconds = 0.0
            began = time.perf_counter()
            result = vlmi.score(
                preds,
                tsv,
                judge="openai:bench",
                rejudge=True,
                progress=False,
                judge_options={"base_url": server.base_url, "concurrency": concurrency},
            )
            wall = time.perf_counter() - began
            assert result["scores"]["Overall"] == 50.0 and result["judge"]["failures"] == 0
            overhead = (wall - server.handling_seconds) / args.rows * 1000
            shown = f"{overhead:16.3f}" if concurrency == 1 else f"{'':>16}"
            print(
                f"{concurrency:>11} {args.rows / wall:9.1f} {wall:8.3f} "
                f"{server.handling_seconds:9.3f} {shown}"
            )
        # the floor: the bare openai client, one request after another
        from vlmi._vlmevalkit.score.judged import mmvet_prompt

        client = openai.OpenAI(api_key="none", base_url=server.base_url)
        prompts = [
            mmvet_prompt(f"What is shown in picture {i}?", "a cat", f"a cat, row {i} JUDGE=0.5")
            for i in range(1, args.rows + 1)
        ]
        server.handling_seconds = 0.0
        began = time.perf_counter()
        for prompt in prompts:
            client.chat.completions.create(
                model="bench",
                messages=[{"role": "user", "content": prompt}],
                temperature=0.0,
                max_completion_tokens=2048,
            )
        wall = time.perf_counter() - began
        floor = (wall - server.handling_seconds) / args.rows * 1000
        print(f"bare openai client, concurrency 1: {floor:.3f} ms/row beyond the server's time")


if __name__ == "__main__":
    main()
