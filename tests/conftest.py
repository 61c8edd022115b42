from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
