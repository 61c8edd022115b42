from __future__ import annotations

from pathlib import Path

import pytest

from vlmi_testkit.runs import MIXED_LINES, run_vlmi, write_mixed

#: the `gpu` marker and CUDA skips (vlmi-core's opt-in pytest plugin)
pytest_plugins = ["vlmi.testing.pytest_plugin"]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def vlmi_cli():
    return run_vlmi


__all__ = ["MIXED_LINES", "ROOT", "run_vlmi", "write_mixed"]
