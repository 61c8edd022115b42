"""The command line on a tiny checkpoint folder, in a subprocess (as a user runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from vlmi_testkit import tiny_checkpoint


def vlmi_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vlmi", *args], capture_output=True, text=True, timeout=300
    )


def test_eval_prints_a_completion(pictures: list[Path]) -> None:
    folder = tiny_checkpoint("qwen2_vl")
    done = vlmi_cli(
        "eval", str(folder), "-i", str(pictures[0]), "What is shown?", "--max-new-tokens", "6"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    import vlmi

    expected = vlmi.load(str(folder)).eval("What is shown?", [str(pictures[0])], max_new_tokens=6)
    assert done.stdout.rstrip("\n") == expected


def test_run_writes_every_sample(tmp_path: Path, pictures: list[Path]) -> None:
    data = tmp_path / "in.jsonl"
    rows = [
        {"id": "a", "query": "Hi"},
        {"id": "b", "query": "Describe.", "imgs": [str(pictures[1])]},
        {"id": "c", "query": "Compare.", "imgs": [str(pictures[2]), str(pictures[3])]},
        {"id": "d", "query": "Broken.", "imgs": [str(tmp_path / "missing.png")]},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    done = vlmi_cli(
        "run",
        str(tiny_checkpoint("internvl")),
        str(data),
        "-o",
        str(out),
        "--max-new-tokens",
        "5",
        "-O",
        "batch_size=2",
    )
    assert done.returncode == 3, done.stderr  # 3: some samples failed
    records = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert sorted(records) == ["a", "b", "c", "d"]
    assert records["d"]["error"]["type"] == "ImageNotFoundError"
    assert all(isinstance(records[k]["prediction"], str) for k in "abc")
    import transformers

    # every record says who answered: this plugin, on the installed Transformers
    for record in records.values():
        assert (record["plugin"], record["engine"]) == ("vlmi-transformers", "transformers")
        assert record["engine_version"] == transformers.__version__
        assert record["plugin_version"] == version("vlmi-transformers")
