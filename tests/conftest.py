from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vlmi.testing.inputs import make_picture

#: the `gpu` marker and CUDA skips (vlmi-core's opt-in pytest plugin)
pytest_plugins = ["vlmi.testing.pytest_plugin"]

ROOT = Path(__file__).resolve().parents[1]


def run_vlmi(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    python: str = sys.executable,
):
    """Run the `vlmi` command in a fresh interpreter (fresh plugin discovery)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [python, "-m", "vlmi", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture
def vlmi_cli():
    return run_vlmi


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
