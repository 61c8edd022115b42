"""lmms-eval (from the registry) evaluates a vlmi model through `vlmi serve`, exactly as
docs/lmms-eval.md shows: the page's task files and its command, against `vlmi serve echo`.

Runs in ``nox -s lmms_eval``, whose environment has lmms-eval; skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vlmi_testkit.serving import served_model

pytest.importorskip("lmms_eval", reason="lmms-eval is installed by `nox -s lmms_eval`")

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "lmms-eval.md"
BLOCK = re.compile(r"^```(\w+)( file=(\S+))?\n(.*?)^```", re.MULTILINE | re.DOTALL)


def page_blocks() -> list[tuple[str, str | None, str]]:
    text = PAGE.read_text(encoding="utf-8")
    return [(lang, path or None, body) for lang, _, path, body in BLOCK.findall(text)]


def lmms_eval_command(base_url: str) -> str:
    """The page's lmms-eval command, pointed at ``base_url``; its install line left out."""
    (block,) = (b for lang, _, b in page_blocks() if lang == "bash" and "lmms-eval eval" in b)
    lines = [ln for ln in block.splitlines() if not ln.startswith(("#", "pip install"))]
    return "\n".join(lines).replace("http://127.0.0.1:8000/v1", base_url)


@pytest.mark.slow
def test_lmms_eval_asks_vlmi_serve_as_the_page_shows(tmp_path: Path) -> None:
    for _, path, body in page_blocks():
        if path:
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(body, encoding="utf-8")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    with served_model("echo") as base_url:
        done = subprocess.run(
            ["bash", "-e", "-c", lmms_eval_command(base_url)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (samples,) = (tmp_path / "lmms-out" / "echo").glob("*_samples_vlmi_demo.jsonl")
    answers = {}
    for line in samples.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        answer = record["filtered_resps"]
        answers[record["doc_id"]] = answer[0] if isinstance(answer, list) else answer
    # text only, one image, two images in the task's order: what the page says reached the model
    assert answers == {
        0: "What is 2 + 2?",
        1: "<image:96x72:c29f542f> Describe the picture.",
        2: "<image:96x72:c29f542f> <image:80x80:b107a063> What differs?",
    }
    for shown in answers.values():
        assert shown in PAGE.read_text(encoding="utf-8")
