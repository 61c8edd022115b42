"""The CPU install CI runs is the one the install page (docs/install.md) shows, command for command."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_the_install_page_shows_the_engine_install_ci_runs() -> None:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["vlmi"]
    assert tool["engine-installer"] == "uv"
    page = (ROOT.parent / "docs" / "install.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", page, flags=re.S)
    pins = " ".join(tool["engine-overrides"])
    commands = [f'echo "{pins}" > overrides.txt']
    commands += [f"uv pip {step} --override overrides.txt" for step in tool["engine-install"]]
    # a block's commands, less its comment lines (the page marks what a block needs)
    shown = [[ln for ln in b.strip().splitlines() if not ln.startswith("#")] for b in blocks]
    assert commands in shown, commands
