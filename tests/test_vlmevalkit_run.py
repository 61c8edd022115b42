"""`vlmi run` on VLMEvalKit TSVs with the echo model, and the worked example of
docs/vlmevalkit.md."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

import vlmi
from vlmi._cli import main
from vlmi.testing.inputs import make_picture, png_bytes

ROOT = Path(__file__).resolve().parents[1]
WIDE = base64.b64encode(png_bytes(make_picture(32, 16))).decode()
TALL = base64.b64encode(png_bytes(make_picture(16, 32))).decode()


def read(path):
    return {r["id"]: r for r in map(json.loads, path.read_text().splitlines())}


def blink_like(tmp_path):
    """A multi-image file as pandas writes it: list reprs, references, a malformed cell."""
    table = pd.DataFrame(
        {
            "index": [10, 11, 12, 13, 14],
            "image": [[WIDE, TALL], "10", WIDE, f"['{TALL}', ", None],
            "question": ["Which is wider?", "Again?", "One image", "Broken", "No image"],
            "A": ["first", "first", "x", "x", "x"],
            "B": ["second", "second", "y", "y", "y"],
            "answer": ["A", "A", "B", "A", "A"],
        }
    )
    path = tmp_path / "BLINK_like.tsv"
    table.to_csv(path, sep="\t", index=False)
    return path


def test_list_cells_references_and_a_bad_row(tmp_path):
    out = tmp_path / "p.jsonl"
    summary = vlmi.run("echo", blink_like(tmp_path), out, progress=False)
    assert (summary.done, summary.failed) == (4, 1)  # the image-less row 14 is not a sample
    records = read(out)
    assert list(records) == ["10", "11", "12", "13"]
    assert records["10"]["prediction"].startswith("<image:32x16:")
    assert records["10"]["prediction"].split()[1].startswith("<image:16x32:")
    assert records["11"]["prediction"].count("<image:") == 2  # the images of row 10
    assert records["12"]["prediction"].count("<image:") == 1
    assert "BLINK_like.tsv:5: column 'image'" in records["13"]["error"]["message"]
    assert {r["prompt_style"] for r in records.values() if r["error"] is None} == {"vlmevalkit-mcq"}
    again = vlmi.run("echo", blink_like(tmp_path), out, progress=False)
    assert (again.done, again.skipped) == (0, 4)  # resume works on TSV ids


def test_interleaved_markers_reach_the_model_in_place(tmp_path):
    path = tmp_path / "MMMU_like.tsv"
    pd.DataFrame(
        {
            "index": [1],
            "image": [[WIDE, TALL]],
            "question": ["Is <image 2> taller than <image 1>?"],
            "A": ["yes"],
            "B": ["no"],
            "answer": ["A"],
        }
    ).to_csv(path, sep="\t", index=False)
    vlmi.run("echo", path, tmp_path / "p.jsonl", progress=False)
    record = read(tmp_path / "p.jsonl")["1"]
    words = record["prediction"].split()
    assert words[:4] == ["Question:", "Is", words[2], "taller"]
    assert words[2].startswith("<image:16x32:") and words[5].startswith("<image:32x16:")
    assert record["prompt_style"] == "vlmevalkit-mcq-interleaved"


def test_plugin_prompt_hook_and_dataset_flags(tmp_path, vlmi_cli):
    path = blink_like(tmp_path)
    vlmi.run("echo-own-prompt", path, tmp_path / "own.jsonl", progress=False)
    record = read(tmp_path / "own.jsonl")["12"]
    assert record["prompt_style"] == "echo-own-prompt:mcq"
    assert "Please select" not in record["prediction"]
    assert record["prediction"].endswith("given choices directly.")
    result = vlmi_cli("run", "echo-own-prompt", str(path), "-o", str(tmp_path / "y.jsonl"), "-q")
    assert result.returncode == 3, result.stderr  # the malformed row
    flagged = tmp_path / "f.jsonl"
    args = ("run", "echo", str(path), "-o", str(flagged), "-q", "--dataset-name", "MME")
    assert vlmi_cli(*args).returncode == 3
    assert read(flagged)["12"]["prompt_style"] == "vlmevalkit-yorn"
    assert read(flagged)["12"]["prediction"].endswith("One image")
    # vlmi-core 0.2's `--dataset NAME` still works, with a warning naming --dataset-name
    old = tmp_path / "old.jsonl"
    done = vlmi_cli("run", "echo", str(path), "-o", str(old), "-q", "--dataset", "MME")
    assert done.returncode == 3 and "use --dataset-name" in done.stderr
    assert read(old)["12"]["prompt_style"] == "vlmevalkit-yorn"


def worked_example() -> str:
    """The first bash block of docs/vlmevalkit.md, less its install line."""
    page = (ROOT / "docs" / "vlmevalkit.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", page, flags=re.S).group(1)
    return "\n".join(line for line in block.splitlines() if not line.startswith("pip install"))


def test_the_docs_worked_example(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-e", "-c", worked_example()],
        cwd=tmp_path,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "8 rows scored" in done.stdout and "circular" in done.stdout
    assert json.loads((tmp_path / "p_score.json").read_text())["dataset_type"] == "mcq"
    frame = pd.read_excel(tmp_path / "echo_mmbench_like.xlsx")
    assert len(frame) == 8 and "image" not in frame and frame["prediction"].notna().all()


def test_resume_refuses_another_prompt_style(tmp_path, vlmi_cli):
    path = blink_like(tmp_path)
    out = str(tmp_path / "p.jsonl")
    assert vlmi_cli("run", "echo", str(path), "-o", out, "-q").returncode == 3
    again = vlmi_cli("run", "echo", str(path), "-o", out, "-q", "--dataset-type", "vqa")
    assert again.returncode == 1
    assert "prompt style 'vlmevalkit-mcq'" in again.stderr and "'vlmevalkit-vqa'" in again.stderr
    forced = vlmi_cli("run", "echo", str(path), "-o", out, "-q", "--dataset-type", "vqa", "--force")
    assert forced.returncode == 3  # skips the answered ids, as asked
    same = vlmi_cli("run", "echo", str(path), "-o", out, "-q")
    assert same.returncode == 3 and "skipped 4" in same.stderr


def test_a_repeated_index_is_refused_before_anything_is_written(tmp_path, capsys):
    path = blink_like(tmp_path)
    out = tmp_path / "p.jsonl"
    assert main(["run", "echo", str(path), "-o", str(out), "-q"]) == 3  # row 13 is broken
    before = out.read_bytes()
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:3], lines[3].replace("12", "11", 1), *lines[4:]]))
    for again in ([], ["--overwrite"]):
        assert main(["run", "echo", str(path), "-o", str(out), "-q", *again]) == 1
        assert "BLINK_like.tsv: index '11' is on lines 3 and 4" in capsys.readouterr().err
    assert out.read_bytes() == before
