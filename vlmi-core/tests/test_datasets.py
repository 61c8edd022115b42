from __future__ import annotations

import json

import pytest

from vlmi._run.inputs import count_records, open_records
from vlmi.errors import InvalidSampleError
from vlmi.testing.inputs import make_picture


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
    records = list(open_records(path)[1])
    assert [r.id for r in records] == ["x", "3", "4", "5"]
    assert records[0].fields["imgs"] == [str(tmp_path / "a.png"), "https://e.org/b.png"]
    assert "in.jsonl:3" in str(records[1].error)
    assert "JSON object" in str(records[2].error)
    assert records[3].error is None
    assert count_records(path) == 5


def test_unknown_format_and_missing_file(tmp_path):
    (tmp_path / "x.csv").write_text("a")
    with pytest.raises(InvalidSampleError, match=".jsonl"):
        list(open_records(tmp_path / "x.csv")[1])
    with pytest.raises(InvalidSampleError, match="does not exist"):
        list(open_records(tmp_path / "none.jsonl")[1])
    (tmp_path / "noq.tsv").write_text("index\tprompt\n1\tx\n")
    with pytest.raises(InvalidSampleError, match="question"):
        list(open_records(tmp_path / "noq.tsv")[1])
