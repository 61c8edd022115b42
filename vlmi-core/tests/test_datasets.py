from __future__ import annotations

import base64
import json

import pytest

from vlmi._datasets import MCQ_INSTRUCTION, count_records, read_records
from vlmi.errors import InvalidSampleError
from vlmi.testing.inputs import make_picture, png_bytes


def test_jsonl_ids_relative_paths_and_bad_lines(tmp_path):
    make_picture().save(tmp_path / "a.png")
    lines = [
        json.dumps({"id": "x", "query": "q", "imgs": ["a.png", "https://e.org/b.png"]}),
        "",
        "{broken",
        json.dumps(["not", "an", "object"]),
        json.dumps({"question": "no id"}),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    records = list(read_records(path))
    assert [r.id for r in records] == ["x", "3", "4", "5"]
    assert records[0].fields["imgs"] == [str(tmp_path / "a.png"), "https://e.org/b.png"]
    assert "in.jsonl:3" in str(records[1].error)
    assert "JSON object" in str(records[2].error)
    assert records[3].error is None
    assert count_records(path) == 5


def test_tsv_vlmevalkit_layout(tmp_path):
    encoded = base64.b64encode(png_bytes(make_picture())).decode()
    rows = [
        "index\tquestion\thint\tA\tB\tC\timage",
        f"1\tWhat colour?\tnan\tred\tblue\t\t{encoded}",
        f"2\tHow many?\tLook closely\tone\ttwo\tthree\t{json.dumps([encoded, encoded])}",
        "3\tText only\tnan\t\t\t\t",
        "4\tRef\tnan\t\t\t\t1",
    ]
    path = tmp_path / "bench.tsv"
    path.write_text("\n".join(rows) + "\n")
    records = list(read_records(path))
    assert [r.id for r in records] == ["1", "2", "3", "4"]
    first = records[0].fields["query"]
    assert first.splitlines() == [
        "Question: What colour?",
        "Options:",
        "A. red",
        "B. blue",
        MCQ_INSTRUCTION,
    ]
    assert records[0].fields["imgs"] == [encoded]
    assert records[1].fields["query"].startswith("Hint: Look closely\n")
    assert len(records[1].fields["imgs"]) == 2
    assert records[2].fields == {"query": "Text only", "imgs": []}
    assert "VLMEvalKit" in str(records[3].error)
    assert count_records(path) == 4


def test_unknown_format_and_missing_file(tmp_path):
    (tmp_path / "x.csv").write_text("a")
    with pytest.raises(InvalidSampleError, match=".jsonl"):
        list(read_records(tmp_path / "x.csv"))
    with pytest.raises(InvalidSampleError, match="does not exist"):
        list(read_records(tmp_path / "none.jsonl"))
    (tmp_path / "noq.tsv").write_text("index\tprompt\n1\tx\n")
    with pytest.raises(InvalidSampleError, match="question"):
        list(read_records(tmp_path / "noq.tsv"))
