"""Peak memory of reading a VLMEvalKit TSV: vlmi's streaming reader against pandas' read_csv.

For each row count, writes an MMBench-style TSV to a temporary folder (base64
PNG images, every other row a rotated copy whose ``image`` cell refers to its
original row's index), then in a fresh process each:

- vlmi: every row read, references resolved and prompted
  (``vlmi._run.inputs.open_records``, what ``vlmi run`` consumes);
- pandas: ``pd.read_csv(path, sep="\\t")``, how VLMEvalKit loads a dataset
  (the baseline; it holds the whole table).

Prints the file size, peak resident memory (ru_maxrss) and wall time of both,
side by side. vlmi's peak should stay flat as the rows grow; pandas' grows
with the file. Needs vlmi-core and pandas (`pip install 'vlmi-core[datasets]'`).

    python benchmarks/bench_tsv_stream.py --rows 1000 20000
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

CHILD = """
import json, resource, sys, time
path, how = sys.argv[1], sys.argv[2]
began = time.perf_counter()
if how == "vlmi":
    from vlmi._run.inputs import open_records
    total, records = open_records(path)
    count = sum(1 for record in records if record.error is None)
else:
    import pandas as pd
    count = len(pd.read_csv(path, sep="\\t"))
took = time.perf_counter() - began
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": count, "peak_mib": peak_kib / 1024, "seconds": took}))
"""


def noise_png(seed: int, side: int) -> str:
    """A base64 PNG of noise (incompressible, so the cell keeps its size)."""
    image = Image.effect_noise((side, side), 40 + seed).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def write_tsv(path: Path, rows: int, side: int) -> None:
    """An MMBench-like file; rows 2k+1 are copies referring to rows 2k (the csv layout pandas
    writes: these cells need no quoting)."""
    images = [noise_png(i, side) for i in range(16)]
    header = "index\timage\tquestion\thint\tA\tB\tC\tD\tanswer\tcategory\tsplit\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(header)
        for i in range(rows // 2):
            main, copy = i + 1, i + 1 + 1_000_000
            options = "red\tgreen\tblue\t"
            handle.write(
                f"{main}\t{images[i % 16]}\tWhat colour is shown in picture {main}?\t\t"
                f"{options}\tA\tcolour\tdev\n"
            )
            handle.write(
                f"{copy}\t{main}\tWhat colour is shown in picture {main}?\tLook.\t"
                f"green\tblue\tred\t\tC\tcolour\tdev\n"
            )


def measure(path: Path, how: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), how], capture_output=True, text=True, check=True
    )
    data: dict[str, float] = json.loads(result.stdout)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--side", type=int, default=48, help="image side in pixels")
    args = parser.parse_args()
    print(
        f"{'rows':>7} {'file MiB':>9} | {'vlmi peak MiB':>13} {'s':>6} | "
        f"{'pandas peak MiB':>15} {'s':>6}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            path = Path(folder) / f"MMBench_like_{rows}.tsv"
            write_tsv(path, rows, args.side)
            size = path.stat().st_size / 2**20
            ours = measure(path, "vlmi")
            theirs = measure(path, "pandas")
            assert ours["rows"] == theirs["rows"] == rows, (ours, theirs)
            print(
                f"{rows:>7} {size:>9.1f} | {ours['peak_mib']:>13.1f} {ours['seconds']:>6.2f} | "
                f"{theirs['peak_mib']:>15.1f} {theirs['seconds']:>6.2f}"
            )
            path.unlink()


if __name__ == "__main__":
    main()
