"""What `vlmi compare` adds over running the same pairs by hand.

Builds (with uv) a driver environment (vlmi-core[plot], no model plugin) and two model
environments (vlmi-echo; vlmi-constant), writes a multiple-choice and a yes-or-no TSV, then
times, on the same pairs, in one run:

- by hand: for each (model, dataset) pair, `<python> -m vlmi run ...` then `vlmi score ...`,
  one after the other, as a person would type them;
- `vlmi compare plan.toml` with `jobs = 1` (one pair at a time, as by hand) into a fresh
  output folder: environment check, the same runs, scoring, leaderboard and picture;
- `vlmi compare RESULTS/`: rebuilding the leaderboard and picture alone.

The models answer at once, so what is left is start-up and bookkeeping. Target: under 2 s per
pair beyond the model's own start-up (which both sides pay).

    python benchmarks/bench_compare.py [--rows 64] [--repeat 3] [--envs DIR]
"""

from __future__ import annotations

import argparse
import base64
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vlmi.testing.inputs import make_picture, png_bytes

ROOT = Path(__file__).resolve().parents[1]
ENVS = {
    "driver": ["./vlmi-core[plot]"],
    "echo": ["./vlmi-core", "./tests/plugins/vlmi-echo"],
    "constant": ["./vlmi-core", "./tests/plugins/vlmi-constant"],
}


def make_envs(folder: Path) -> dict[str, str]:
    uv = shutil.which("uv") or sys.exit("needs uv (pip install uv)")
    pythons = {}
    for name, packages in ENVS.items():
        python = folder / name / "bin" / "python"
        if not python.exists():
            subprocess.run(
                [uv, "venv", "-q", "--python", sys.executable, str(folder / name)], check=True
            )
            subprocess.run(
                [
                    uv,
                    "pip",
                    "install",
                    "-q",
                    "--compile-bytecode",
                    "--python",
                    str(python),
                    *packages,
                ],
                check=True,
                cwd=ROOT,
            )
        pythons[name] = str(python)
    return pythons


def make_datasets(folder: Path, rows: int) -> list[Path]:
    image = base64.b64encode(png_bytes(make_picture(32, 24))).decode()
    mcq, yorn = folder / "shapes.tsv", folder / "yesno.tsv"
    with mcq.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["index", "image", "question", "A", "B", "C", "D", "answer", "category"])
        for i in range(rows):
            category = "shape" if i % 2 else "color"
            writer.writerow(
                [i, image, f"question {i}?", "a", "b", "c", "d", "ABCD"[i % 4], category]
            )
    with yorn.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["index", "image", "question", "answer"])
        for i in range(rows):
            writer.writerow([i, image, f"is it {i}?", "Yes" if i % 3 else "No"])
    return [mcq, yorn]


def by_hand(envs: dict[str, str], datasets: list[Path], out: Path) -> float:
    began = time.perf_counter()
    for model in ("echo", "constant"):
        for dataset in datasets:
            predictions = out / f"{model}-{dataset.stem}.jsonl"
            run = [envs[model], "-m", "vlmi", "run", model, str(dataset), "-o", str(predictions)]
            subprocess.run([*run, "-q", "--max-new-tokens", "16"], check=True, capture_output=True)
            score = [envs["driver"], "-m", "vlmi", "score", str(predictions), "--dataset"]
            subprocess.run([*score, str(dataset)], check=True, capture_output=True)
    return time.perf_counter() - began


def plan(envs: dict[str, str], folder: Path, output: Path) -> Path:
    path = folder / f"plan-{output.name}.toml"
    path.write_text(
        f'output = "{output}"\njobs = 1\ngeneration = {{ max_new_tokens = 16 }}\n'
        '[[datasets]]\npath = "shapes.tsv"\n[[datasets]]\npath = "yesno.tsv"\n'
        f'[[models]]\nname = "echo"\npython = "{envs["echo"]}"\n'
        f'[[models]]\nname = "constant"\npython = "{envs["constant"]}"\n'
    )
    return path


def timed(command: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - began


def cpu_of_children() -> float:
    """CPU seconds (user + system) of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=64, help="rows of each dataset")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--envs", type=Path, help="keep the environments here (reused)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        envs = make_envs(args.envs or folder / "envs")
        datasets = make_datasets(folder, args.rows)
        hand, compare, rebuild = [], [], []
        cpu: dict[str, list[float]] = {"hand": [], "compare": [], "rebuild": []}
        for i in range(args.repeat):
            out = folder / f"hand{i}"
            out.mkdir()
            before = cpu_of_children()
            hand.append(by_hand(envs, datasets, out))
            cpu["hand"].append(cpu_of_children() - before)
            results = folder / f"results{i}"
            driver = [envs["driver"], "-m", "vlmi", "compare"]
            before = cpu_of_children()
            compare.append(timed([*driver, str(plan(envs, folder, results))]))
            cpu["compare"].append(cpu_of_children() - before)
            before = cpu_of_children()
            rebuild.append(timed([*driver, str(results)]))
            cpu["rebuild"].append(cpu_of_children() - before)
    pairs = 4
    a, b, c = (statistics.median(x) for x in (hand, compare, rebuild))
    x, y, z = (statistics.median(cpu[k]) for k in ("hand", "compare", "rebuild"))
    print(f"{pairs} pairs (2 models x 2 datasets, {args.rows} rows each), median of {args.repeat}")
    print(f"{'':<48} {'wall':>8} {'CPU':>8}")
    print(f"{'by hand: vlmi run + vlmi score per pair':<48} {a:7.2f}s {x:7.2f}s")
    print(f"{'vlmi compare (jobs = 1)':<48} {b:7.2f}s {y:7.2f}s")
    print(f"{'  of which leaderboard + picture (rebuild alone)':<48} {c:7.2f}s {z:7.2f}s")
    per = ((b - a) / pairs, (y - x) / pairs)
    print(f"{'added by vlmi compare, per pair':<48} {per[0]:7.2f}s {per[1]:7.2f}s")
    added = ((b - a - c) / pairs, (y - x - z) / pairs)
    print(f"{'added per pair, leaving out the picture':<48} {added[0]:7.2f}s {added[1]:7.2f}s")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
