"""The CPU install CI runs is the one this plugin's README shows, command for command."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_readme_shows_the_engine_install_ci_runs() -> None:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["vlmi"]
    assert tool["engine-installer"] == "uv"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    pins = " ".join(tool["engine-overrides"])
    commands = [f'echo "{pins}" > overrides.txt']
    commands += [f"uv pip {step} --override overrides.txt" for step in tool["engine-install"]]
    assert any(block.strip().splitlines() == commands for block in blocks), commands
