"""Helpers for tests of ``vlmi run``: the command in a fresh interpreter, and a mixed input file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from vlmi.testing import make_picture


def run_vlmi(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    python: str = sys.executable,
    timeout: float = 300,
) -> subprocess.CompletedProcess[Any]:
    """Run the ``vlmi`` command in a fresh interpreter (fresh plugin discovery)."""
    return subprocess.run(
        [python, "-m", "vlmi", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
    )


#: one input line of each kind the runners meet: text, images, a missing image, a line cut in
#: half, per-sample options
MIXED_LINES = [
    json.dumps({"id": "text", "query": "hello there"}),
    json.dumps({"id": "one", "query": "q", "imgs": ["a.png"]}),
    json.dumps({"id": "two", "query": "q", "imgs": ["a.png", "b.png"]}),
    json.dumps({"id": "broken", "query": "q", "imgs": ["missing.png"]}),
    '{"id": "half',
    json.dumps({"id": "short", "query": "one two three", "generation": {"max_new_tokens": 2}}),
]


def write_mixed(folder: Path, extra: list[str] | tuple[str, ...] = ()) -> Path:
    """``folder/in.jsonl`` with :data:`MIXED_LINES` (then ``extra``) and the pictures they name."""
    make_picture(seed=0).save(folder / "a.png")
    make_picture(seed=1).save(folder / "b.png")
    path = folder / "in.jsonl"
    path.write_text("\n".join([*MIXED_LINES, *extra]) + "\n")
    return path


__all__ = ["MIXED_LINES", "run_vlmi", "write_mixed"]
