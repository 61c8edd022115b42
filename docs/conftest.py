"""Every example in these pages runs, in page order, with Sybil (``nox -s docs``).

Each page gets a folder of its own (a copy of the repository's ``examples/`` in it), which is
the working directory of its examples; its Python blocks share one namespace, so a page is
tested from top to bottom as a reader follows it. By a fenced block's info string:

- ``python``: executed.
- ``bash``: run with ``bash -e``, the environment's ``bin`` first on ``PATH``. Install commands
  (``pip install ...``, ``uv pip install ...``, also when they open an ``&&`` chain) are not
  run: the session's environment holds what the examples need (vlmi-core with its extras, the
  echo test plugin); a block of installs alone is reported as skipped.
- ``LANG file=PATH`` (any language): written to PATH in the page's folder, not executed.
- A block whose first line is ``# needs: ...`` is skipped with that reason, shown on the page:
  it needs real weights, a GPU, an API key, a cluster or a server left running.
- ``toml``, ``json``, ``text`` and other blocks without ``file=`` are text to read.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

ROOT = Path(__file__).resolve().parents[1]
INFO = re.compile(r"(?P<language>[\w-]*)(?P<arguments>[^\n]*)\n")
NEEDS = re.compile(r"^\s*#\s*needs:\s*(.+)$")
INSTALL = re.compile(r"^\s*(?:python3? -m )?(?:uv )?pip3? (?:install|uninstall)\b[^&]*(?:&&\s*|$)")
FILE = re.compile(r"\bfile=(\S+)")


def _skip_if_marked(source: str) -> None:
    first = source.lstrip("\n").split("\n", 1)[0]
    needs = NEEDS.match(first)
    if needs:
        pytest.skip(f"needs {needs.group(1).strip()}")


def run_python(example: Example) -> None:
    source = str(example.parsed)
    _skip_if_marked(source)
    code = compile("\n" * example.line + source, example.path, "exec")
    exec(code, example.namespace)


def without_installs(script: str) -> str:
    """The script less its install commands (also the ones opening an ``&&`` chain)."""
    kept = []
    for line in script.splitlines():
        rest = INSTALL.sub("", line, count=1)
        if rest.strip():
            kept.append(rest)
    return "\n".join(kept)


def run_bash(example: Example) -> None:
    source = str(example.parsed)
    _skip_if_marked(source)
    script = without_installs(source)
    if not any(line.strip() and not line.lstrip().startswith("#") for line in script.splitlines()):
        pytest.skip("installs only: the session's environment holds what the examples need")
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(example.namespace.get("_env", {}))
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=example.namespace["_folder"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (
        f"{example.path}:{example.line}: exit status {done.returncode}\n"
        f"{script}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )


def write_file(example: Example) -> None:
    path, body = example.parsed
    target = Path(example.namespace["_folder"]) / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")


def fenced_blocks(document: Document) -> Any:
    lexer = RawFencedCodeBlockLexer(info_pattern=INFO)
    for region in lexer(document):
        language = region.lexemes["language"]
        source = region.lexemes["source"]
        named = FILE.search(region.lexemes["arguments"])
        if named:
            yield Region(region.start, region.end, (named.group(1), str(source)), write_file)
        elif language == "python":
            yield Region(region.start, region.end, source, run_python)
        elif language in ("bash", "sh", "shell"):
            yield Region(region.start, region.end, source, run_bash)


def page_folder(namespace: dict[str, Any]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="vlmi-docs-"))
    shutil.copytree(ROOT / "examples", folder / "examples")
    namespace["_folder"] = str(folder)
    namespace["_cwd"] = os.getcwd()
    os.chdir(folder)


def leave_folder(namespace: dict[str, Any]) -> None:
    os.chdir(namespace["_cwd"])
    shutil.rmtree(namespace["_folder"], ignore_errors=True)


pytest_collect_file = Sybil(
    parsers=[fenced_blocks],
    patterns=["*.md"],
    excludes=["_build/*"],
    setup=page_folder,
    teardown=leave_folder,
).pytest()
