"""How long `import vlmi` and `import vlmi.plugin` take in a fresh interpreter.

Every plugin imports vlmi at discovery, so this is paid once per process by
every user. Prints the best and median of N runs of each, next to a bare
interpreter start (`python -c pass`) measured the same way.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(code: str, runs: int) -> list[float]:
    took = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        took.append(time.perf_counter() - began)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    rows = [
        ("python -c pass", "pass"),
        ("import vlmi", "import vlmi"),
        ("import vlmi.plugin", "import vlmi.plugin"),
        ("vlmi.list_models()", "import vlmi; vlmi.list_models()"),
    ]
    base = min(timed("pass", args.runs))
    print(f"{'what':24} {'best ms':>9} {'median ms':>10} {'over bare start':>16}")
    for label, code in rows:
        took = timed(code, args.runs)
        best, median = min(took), statistics.median(took)
        print(f"{label:24} {best * 1000:9.1f} {median * 1000:10.1f} {(best - base) * 1000:15.1f}")


if __name__ == "__main__":
    main()
