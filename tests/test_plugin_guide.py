"""The authors' guide (docs/writing-plugins.md) is complete: a plugin built from its snippets
alone passes.

Every fenced block there tagged ``file=PATH`` is written to PATH in a fresh
folder, which is installed next to vlmi-core in a fresh environment; the
conformance kit then runs on it, as the guide tells an author to.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow

BLOCK = re.compile(r"^( *)```\w+ file=(\S+)\n(.*?)^\1```", re.MULTILINE | re.DOTALL)


def guide_files() -> dict[str, str]:
    """PATH -> text of each ``file=PATH`` block of the authors' guide."""
    text = (ROOT / "docs" / "writing-plugins.md").read_text(encoding="utf-8")
    files = {}
    for indent, path, body in BLOCK.findall(text):
        files[path] = "".join(line[len(indent) :] + "\n" for line in body.splitlines())
    return files


def test_the_guide_names_every_file_a_plugin_needs():
    assert set(guide_files()) == {
        "pyproject.toml",
        "src/vlmi_myfamily/__init__.py",
        "src/vlmi_myfamily/model.py",
        "tests/conftest.py",
        "tests/test_conformance.py",
    }


def test_a_plugin_written_from_the_guide_passes_the_conformance_kit(tmp_path: Path):
    plugin = tmp_path / "vlmi-myfamily"
    for path, body in guide_files().items():
        target = plugin / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    uv = shutil.which("uv") or pytest.fail("uv is needed to build the environment")
    env = tmp_path / "env"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(env)], check=True)
    python = str(env / "bin" / "python")
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", python, "./vlmi-core[testing]", str(plugin)],
        check=True,
        cwd=ROOT,
    )
    suite = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        capture_output=True,
        text=True,
        cwd=plugin,
    )
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    assert re.search(r"\d+ passed", suite.stdout)
