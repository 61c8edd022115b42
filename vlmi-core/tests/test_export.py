"""`vlmi export --to vlmevalkit`: the file VLMEvalKit's evaluator reads, read back with pandas."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest

from vlmi._cli import main
from vlmi._vlmevalkit.export import export_vlmevalkit
from vlmi.errors import (
    DuplicateIndexError,
    InvalidOptionError,
    MissingDependencyError,
    OutputFileError,
)

IMG = "iVBORw0KGgo" + "A" * 80


@pytest.fixture
def bench(tmp_path):
    table = pd.DataFrame(
        {
            "index": [1, 2, 3, 4],
            "image": [IMG, "1", IMG, None],
            "question": ["q1", "q2", "q3", "no image"],
            "hint": [None, "h", None, None],
            "A": ["cat", "cat", "cat", "cat"],
            "B": ["dog", "dog", "dog", "dog"],
            "answer": ["A", "B", "A", "B"],
            "category": ["c", "c", "d", "d"],
            "l2-category": ["p", "p", "p", "p"],
        }
    )
    tsv = tmp_path / "bench.tsv"
    table.to_csv(tsv, sep="\t", index=False)
    records = [
        {"id": "1", "prediction": "A", "error": None},
        {"id": "2", "prediction": None, "error": {"type": "ImageDecodeError", "message": "x"}},
        {"id": "3", "prediction": "", "error": None},
    ]
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("".join(json.dumps(r) + "\n" for r in records))
    return predictions, tsv


COLUMNS = ["index", "question", "hint", "A", "B", "answer", "category", "l2-category", "prediction"]


@pytest.mark.parametrize("suffix", [".xlsx", ".tsv"])
def test_export_reads_back_with_the_expected_columns_and_rows(tmp_path, bench, suffix):
    predictions, tsv = bench
    target = tmp_path / f"echo_bench{suffix}"
    assert export_vlmevalkit(predictions, tsv, target) == 0  # row 4 has no image: not a row
    frame = pd.read_excel(target) if suffix == ".xlsx" else pd.read_csv(target, sep="\t")
    assert list(frame.columns) == COLUMNS
    assert frame["index"].tolist() == [1, 2, 3]
    assert frame["question"].tolist() == ["q1", "q2", "q3"]
    assert frame["prediction"].iloc[0] == "A"
    assert frame["prediction"].iloc[1] == "Failed to obtain answer: ImageDecodeError"
    assert pd.isna(frame["prediction"].iloc[2])  # empty: VLMEvalKit reads it as "nan"
    assert pd.isna(frame["hint"].iloc[0]) and frame["hint"].iloc[1] == "h"


def test_cli_export_counts_missing_rows_and_checks_the_name(tmp_path, bench, capsys):
    predictions, tsv = bench
    predictions.write_text(json.dumps({"id": "1", "prediction": "B", "error": None}) + "\n")
    target = tmp_path / "m_bench.tsv"
    assert main(["export", str(predictions), "--dataset-file", str(tsv), "-o", str(target)]) == 0
    assert "2 dataset rows have no prediction" in capsys.readouterr().err
    assert pd.read_csv(target, sep="\t")["index"].tolist() == [1]
    with pytest.raises(InvalidOptionError, match="xlsx or .tsv"):
        export_vlmevalkit(predictions, tsv, tmp_path / "m_bench.csv")


def test_export_never_replaces_an_input_or_another_file(tmp_path, bench):
    predictions, tsv = bench
    copy = tmp_path / "copy_bench.tsv"  # a dataset, but not the one given
    copy.write_bytes(tsv.read_bytes())
    sheet = tmp_path / "budget.xlsx"
    pd.DataFrame({"item": ["gpu"], "cost": [1]}).to_excel(sheet, index=False)
    not_xlsx = tmp_path / "notes.xlsx"
    not_xlsx.write_text("notes")
    before = {path: path.read_bytes() for path in (predictions, tsv, copy, sheet, not_xlsx)}
    with pytest.raises(OutputFileError, match="one of the input files"):
        export_vlmevalkit(predictions, tsv, tsv)
    for target in (copy, sheet, not_xlsx):
        with pytest.raises(OutputFileError, match="no `prediction` column"):
            export_vlmevalkit(predictions, tsv, target)
    assert {path: path.read_bytes() for path in before} == before
    for suffix in (".tsv", ".xlsx"):  # an earlier export is replaced
        target = tmp_path / f"echo_bench{suffix}"
        export_vlmevalkit(predictions, tsv, target)
        assert export_vlmevalkit(predictions, tsv, target) == 0


def test_a_repeated_index_is_refused(tmp_path, bench):
    predictions, tsv = bench
    lines = tsv.read_text().splitlines(keepends=True)
    tsv.write_text("".join([*lines[:3], lines[3].replace("3", "2", 1), *lines[4:]]))
    with pytest.raises(DuplicateIndexError, match="index '2' is on lines 3 and 4"):
        export_vlmevalkit(predictions, tsv, tmp_path / "m_bench.tsv")
    assert not (tmp_path / "m_bench.tsv").exists()


def test_missing_pandas_names_the_extra(tmp_path, bench, monkeypatch):
    predictions, tsv = bench
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(MissingDependencyError, match=r"vlmi-core\[datasets\]"):
        export_vlmevalkit(predictions, tsv, tmp_path / "m_bench.xlsx")
