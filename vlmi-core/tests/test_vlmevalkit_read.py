"""VLMEvalKit TSVs written by pandas, read row by row as VLMEvalKit's loader reads them."""

from __future__ import annotations

import base64
import csv

import pandas as pd
import pytest

from vlmi._run.inputs import open_records
from vlmi._vlmevalkit.read import iter_rows, parse_list_cell, scan
from vlmi.errors import DuplicateIndexError, InvalidSampleError
from vlmi.testing.inputs import make_picture, png_bytes


def b64(width: int = 40, height: int = 30) -> str:
    return base64.b64encode(png_bytes(make_picture(width, height))).decode()


RED, BLUE = b64(40, 30), b64(24, 16)


def mmbench_like(tmp_path, **to_csv):
    """An MMBench-style table: references, a list cell, NaN hints/options, an image-less row."""
    table = pd.DataFrame(
        {
            "index": [1, 2, 3, 4, 5, 6],
            "image": [RED, "1", [RED, BLUE], None, f"['{RED[:80]}', ]]", "1"],
            "question": ['Which "colour"?', "Tab\there", "Both?", "No image", "Broken", "Again"],
            "hint": [None, "Look\nclosely", None, None, None, None],
            "A": ["red", "one", "left", "x", "p", "red"],
            "B": ["blue", "two", "right", "y", "q", "blue"],
            "C": [None, "three", None, None, None, "green"],
            "answer": ["A", "B", "A", "A", "B", "A"],
            "category": ["colour", "count", "colour", "count", "count", "colour"],
        }
    )
    path = tmp_path / "MyBench.tsv"
    table.to_csv(path, sep="\t", index=False, **to_csv)
    return path


@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
def test_pandas_written_file_references_lists_and_dropped_rows(tmp_path, quoting):
    path = mmbench_like(tmp_path, quoting=quoting)
    table = scan(path)
    assert (table.rows, table.dropped, table.integer_index) == (5, 1, True)
    rows = {row.index: row for row in iter_rows(table)}
    assert list(rows) == ["1", "2", "3", "5", "6"]  # row 4 has no image: dropped
    assert rows["1"].images == (RED,)
    assert rows["2"].images == (RED,) and rows["6"].images == (RED,)  # references to row 1
    assert rows["3"].images == (RED, BLUE)  # a Python list repr
    assert rows["2"].cells["question"] == "Tab\there"
    assert rows["2"].cells["hint"] == "Look\nclosely"
    assert rows["1"].cells["question"] == 'Which "colour"?'
    assert rows["1"].cells["hint"] is None and rows["1"].cells["C"] is None
    assert "image" not in rows["1"].cells
    broken = rows["5"]
    assert broken.error is not None and broken.error.startswith("MyBench.tsv:")
    assert "column 'image'" in broken.error and "list literal" in broken.error
    assert all(rows[i].error is None for i in ("1", "2", "3", "6"))


def test_records_carry_line_numbers_and_only_the_bad_row_fails(tmp_path):
    path = mmbench_like(tmp_path)
    total, records = open_records(path)
    records = list(records)
    assert total == 5
    assert [r.id for r in records] == ["1", "2", "3", "5", "6"]
    failed = [r for r in records if r.error is not None]
    assert [r.id for r in failed] == ["5"]
    assert isinstance(failed[0].error, InvalidSampleError)
    # row 2's hint holds a newline, so the malformed row 5 starts on line 7 of the file
    assert "MyBench.tsv:7: column 'image'" in str(failed[0].error)


def test_non_numeric_index_and_a_forward_reference(tmp_path):
    table = pd.DataFrame(
        {
            "index": ["q-b", "q-a", "q-c"],
            "image": ["q-a", RED, "missing-row"],
            "question": ["b", "a", "c"],
            "answer": ["x", "y", "z"],
        }
    )
    path = tmp_path / "custom.tsv"
    table.to_csv(path, sep="\t", index=False)
    scanned = scan(path)
    assert not scanned.integer_index
    rows = list(iter_rows(scanned))
    assert [r.index for r in rows] == ["q-b", "q-a", "q-c"]
    assert rows[0].images == (RED,)  # refers to a row further down
    assert rows[1].images == (RED,)
    assert rows[2].error is not None and "'missing-row'" in rows[2].error


def test_image_wins_over_image_path_and_index_is_canonical(tmp_path):
    table = pd.DataFrame(
        {
            "index": ["007", "8"],
            "image": [RED, BLUE],
            "image_path": ["images/does_not_exist_1.jpg", "images/does_not_exist_2.jpg"],
            "question": ["Is it red? Please answer yes or no.", "Is it red?"],
            "answer": ["Yes", "No"],
            "category": ["color", "color"],
        }
    )
    path = tmp_path / "MME.tsv"
    table.to_csv(path, sep="\t", index=False)
    rows = list(iter_rows(scan(path)))
    assert [r.error for r in rows] == [None, None]
    assert [r.images for r in rows] == [(RED,), (BLUE,)]
    assert [r.index for r in rows] == ["7", "8"]  # pandas reads 007 as the integer 7
    assert rows[0].cells["image_path"] == "images/does_not_exist_1.jpg"


def test_image_path_only_looks_beside_the_file_then_in_lmudata(tmp_path, monkeypatch):
    (tmp_path / "pics").mkdir()
    make_picture(10, 10).save(tmp_path / "pics" / "a.png")
    lmu = tmp_path / "lmu"
    (lmu / "images" / "paths").mkdir(parents=True)
    make_picture(12, 12).save(lmu / "images" / "paths" / "b.png")
    monkeypatch.setenv("LMUData", str(lmu))
    table = pd.DataFrame(
        {
            "index": [1, 2, 3, 4],
            "image_path": ["pics/a.png", "b.png", str(["pics/a.png", "b.png"]), "nowhere.png"],
            "question": ["q1", "q2", "q3", "q4"],
        }
    )
    path = tmp_path / "paths.tsv"
    table.to_csv(path, sep="\t", index=False)
    rows = list(iter_rows(scan(path)))
    a, b = str(tmp_path / "pics" / "a.png"), str(lmu / "images" / "paths" / "b.png")
    assert [r.images for r in rows[:3]] == [(a,), (b,), (a, b)]
    assert rows[3].error is not None and "column 'image_path'" in rows[3].error
    assert "nowhere.png" in rows[3].error and "LMUData" in rows[3].error


def test_numbers_read_as_pandas_reads_them(tmp_path):
    table = pd.DataFrame(
        {"index": [1, 2], "image": [RED, RED], "question": ["q", "r"], "A": ["3", None]}
        | {"B": ["4", "5"], "answer": ["A", "B"]}
    )
    path = tmp_path / "nums.tsv"
    table.to_csv(path, sep="\t", index=False)
    rows = list(iter_rows(scan(path)))
    assert rows[0].cells["A"] == "3.0"  # a number column with a NaN is float in pandas
    assert rows[0].cells["B"] == "4"


def test_list_cells_and_bad_files(tmp_path):
    assert parse_list_cell("['a', 'b']") == ["a", "b"]
    assert parse_list_cell("[1, 2]") == ["1", "2"]
    assert parse_list_cell("plain") == ["plain"]
    with pytest.raises(ValueError):
        parse_list_cell("[__import__('os')]")
    (tmp_path / "noq.tsv").write_text("index\tprompt\n1\tx\n")
    with pytest.raises(InvalidSampleError, match="'question'"):
        scan(tmp_path / "noq.tsv")
    (tmp_path / "empty.tsv").write_text("")
    with pytest.raises(InvalidSampleError, match="empty"):
        scan(tmp_path / "empty.tsv")


def test_a_repeated_index_refuses_the_file_naming_its_lines(tmp_path):
    rows = ["1", "2", "2", "007", "7", "8"]  # "007" is "7" in an integer index
    path = tmp_path / "twice.tsv"
    path.write_text(
        "index\timage\tquestion\n"
        + "".join(f"{index}\t{RED}\tq\n" for index in rows)
        + "8\t\tno image: dropped, so not a repeat\n"
    )
    with pytest.raises(DuplicateIndexError, match="twice.tsv: index '2' is on lines 3 and 4"):
        scan(path)
    try:
        scan(path)
    except DuplicateIndexError as exc:
        assert exc.repeated == {"2": (3, 4), "7": (5, 6)}
    with pytest.raises(DuplicateIndexError, match="index '2'"):
        open_records(path)  # what `vlmi run` reads, before any row
    text = tmp_path / "text.tsv"  # string indices: "007" and "7" differ
    text.write_text("index\tquestion\nA\tq\n007\tq\n7\tq\n")
    assert scan(text).rows == 3


def test_stray_tab_and_bad_utf8_fail_only_their_row(tmp_path):
    path = tmp_path / "raw.tsv"
    path.write_bytes(
        b"index\timage\tquestion\n"
        + f"1\t{RED}\tfine\n".encode()
        + f"2\t{RED}\tone\textra\n".encode()
        + f"3\t{RED}\t\xff\xfe bad\n".encode("latin-1")
        + f"4\t{RED}\talso fine\n".encode()
    )
    rows = list(iter_rows(scan(path)))
    assert [r.index for r in rows] == ["1", "2", "3", "4"]
    assert [r.error is None for r in rows] == [True, False, False, True]
    assert "raw.tsv:3" in str(rows[1].error) and "stray tab" in str(rows[1].error)
    assert "raw.tsv:4" in str(rows[2].error) and "UTF-8" in str(rows[2].error)
