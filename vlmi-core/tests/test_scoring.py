"""`vlmi score`: hand-made predictions with known accuracy under VLMEvalKit's exact matching."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from vlmi._cli import main
from vlmi._vlmevalkit.score import score
from vlmi._vlmevalkit.score.rules import extract_option, extract_yes_no
from vlmi.errors import DuplicateIndexError, InvalidSampleError

IMG = "iVBORw0KGgo" + "A" * 80  # long enough not to be a row reference; never decoded here


def write(tmp_path, name, columns, predictions):
    """The dataset TSV (as pandas writes it) and `vlmi run`-style records for it."""
    tsv = tmp_path / f"{name}.tsv"
    pd.DataFrame(columns).to_csv(tsv, sep="\t", index=False)
    out = tmp_path / f"{name}.jsonl"
    lines = []
    for index, answer in predictions.items():
        failed = answer is None
        record = {
            "id": str(index),
            "prediction": None if failed else answer,
            "error": {"type": "GenerationError", "message": "boom"} if failed else None,
            "prompt_style": "vlmevalkit",
        }
        lines.append(json.dumps(record))
    out.write_text("\n".join(lines) + "\n")
    return out, tsv


def test_multiple_choice_extraction_rules():
    choices = {"A": "cat", "B": "dog", "C": "light blue", "D": "blue"}
    assert extract_option("B", choices) == "B"
    assert extract_option("(B)", choices) == "B"
    assert extract_option("**A**", choices) == "A"
    assert extract_option("The answer is c", choices) == "C"
    assert extract_option("b", choices) is None  # lower case does not count
    assert extract_option("A or B", choices) is None
    assert extract_option("dog", choices) == "B"
    assert extract_option("light blue", choices) is None  # two option texts match
    assert extract_option("I think A is wrong because it is so", choices) is None  # not last 4
    assert extract_option("Z", choices) == "Z"
    assert extract_yes_no("Yes, it is not") == "Yes"
    assert extract_yes_no("No, yes") == "Unknown"
    assert extract_yes_no("**Yes**") == "Unknown"
    assert extract_yes_no("There is no cat") == "No"


def test_mcq_accuracy_per_category(tmp_path):
    columns = {
        "index": list(range(1, 10)),
        "image": [IMG] * 9,
        "question": ["q"] * 9,
        "A": ["cat"] * 9,
        "B": ["dog"] * 9,
        "C": ["bird"] * 9,
        "answer": ["B", "B", "C", "B", "A", "A", "A", "A", "A"],
        "category": ["x"] * 4 + ["y"] * 5,
    }
    predictions = {
        1: "B",
        2: "(B)",
        3: "The answer is c",
        4: "It is a dog.",
        5: "I have no idea what this is at all",
        6: "a",
        7: "A or B",
        8: None,  # failed: a miss that stays in the denominator
        9: "A",
    }
    out, tsv = write(tmp_path, "quiz", columns, predictions)
    result = score(out, tsv)
    assert result["dataset_type"] == "mcq"
    assert (result["rows"], result["failed"], result["without_prediction"]) == (9, 1, 0)
    scores = result["scores"]
    assert scores["Overall"] == pytest.approx(100 * 5 / 9, abs=1e-3)
    assert scores["category"] == {"x": 100.0, "y": 20.0}


def test_mmbench_names_score_circular_groups(tmp_path):
    columns = {
        "index": [1, 2, 1000001, 1000002],
        "image": [IMG, IMG, "1", "2"],
        "question": ["q1", "q2", "q1", "q2"],
        "A": ["cat", "cat", "dog", "dog"],
        "B": ["dog", "dog", "cat", "cat"],
        "answer": ["A", "A", "B", "B"],
        "category": ["c", "d", "c", "d"],
    }
    predictions = {1: "A", 1000001: "B", 2: "A", 1000002: "A"}
    out, tsv = write(tmp_path, "MMBench_DEV_EN", columns, predictions)
    result = score(out, tsv)
    assert "circular" in result["method"]
    assert result["scores"]["Overall"] == 50.0
    assert result["scores"]["category"] == {"c": 100.0, "d": 0.0}
    plain = score(out, tsv, dataset_name="my_quiz")  # another name: each row alone
    assert plain["scores"]["Overall"] == 75.0


def test_yes_no_mme_acc_plus_and_case_sensitive_answers(tmp_path):
    columns = {
        "index": [1, 2, 3, 4, 5, 6],
        "image": [IMG] * 6,
        "image_path": ["a.jpg", "a.jpg", "b.jpg", "b.jpg", "c.jpg", "c.jpg"],
        "question": ["q"] * 6,
        "answer": ["Yes", "No", "Yes", "No", "Yes", "No"],
        "category": ["color"] * 4 + ["OCR"] * 2,
    }
    predictions = {1: "Yes", 2: "No.", 3: "yes", 4: "**No**", 5: "No, yes", 6: "NO"}
    out, tsv = write(tmp_path, "MME", columns, predictions)
    scores = score(out, tsv)["scores"]
    assert scores["acc"] == {"OCR": 50.0, "color": 75.0}
    assert scores["acc_plus"]["color"] == 50.0 and scores["acc_plus"]["OCR"] == 0.0
    assert scores["category"] == {"OCR": 50.0, "color": 125.0}
    assert scores["perception"] == 175.0
    custom = {
        "index": [1, 2, 3],
        "image": [IMG] * 3,
        "image_path": ["a.jpg", "a.jpg", "b.jpg"],
        "question": ["q"] * 3,
        "answer": ["Yes", "No", "yes"],
        "category": ["k", "k", "m"],
        "l2-category": ["p", "p", "p"],
    }
    out, tsv = write(tmp_path, "custom_yn", custom, {1: "Yes!", 2: "There is no cat", 3: "yes"})
    result = score(out, tsv)
    scores = result["scores"]
    assert result["dataset_type"] == "yorn"
    assert scores["Overall"] == pytest.approx(66.6667, abs=1e-3)
    assert scores["category"] == {"k": 100.0, "m": 0.0}  # "yes" != "Yes": case-sensitive
    assert scores["l2-category"] == {"p": pytest.approx(66.6667, abs=1e-3)}
    assert scores["acc_plus"] == {"Overall": 50.0, "k": 100.0, "m": 0.0}


def test_vqa_methods_by_name_and_list_answers(tmp_path):
    columns = {
        "index": [1, 2, 3, 4],
        "image": [IMG] * 4,
        "question": ["q"] * 4,
        "answer": ["['two', '2', 'two', 'two']", "['cat', 'cat', 'a cat']", "cat", "['x', 'y']"],
    }
    predictions = {1: "Two.", 2: "the cat", 3: "dog", 4: "y"}
    out, tsv = write(tmp_path, "TextVQA_VAL", columns, predictions)
    result = score(out, tsv)
    assert result["method"] == "vqa_score"
    # row 1: every other reference matches (3/3); row 2: 2 of 3 refs see 2 matches -> 2/3 each,
    # the third sees 2 -> 2/3: mean 2/3; row 3: 0; row 4: each ref sees 0 or 1 match -> 1/6
    expected = 100 * (1 + 2 / 3 + 0 + (0 + 1 / 3) / 2) / 4
    assert result["scores"]["Overall"] == pytest.approx(expected, abs=1e-3)
    custom = score(out, tsv, dataset_name="my_vqa")
    assert custom["method"].startswith("exact_match")
    assert custom["scores"]["Overall"] == 75.0
    anls = score(out, tsv, dataset_name="DocVQA_VAL")
    assert anls["method"] == "anls"


def test_cli_prints_and_writes_json(tmp_path, capsys):
    columns = {"index": [1, 2], "image": [IMG] * 2, "question": ["q"] * 2}
    columns |= {"A": ["x", "x"], "B": ["y", "y"], "answer": ["A", "B"]}
    out, tsv = write(tmp_path, "small", columns, {1: "A"})
    assert main(["score", str(out), "--dataset-file", str(tsv)]) == 0
    captured = capsys.readouterr()
    assert "1 rows scored" in captured.out and "1 without a prediction" in captured.out
    assert "deprecated" not in captured.err
    # vlmi-core 0.2's spelling still works, with a warning naming the new one
    assert main(["score", str(out), "--dataset", str(tsv)]) == 0
    captured = capsys.readouterr()
    assert "1 rows scored" in captured.out
    assert "--dataset is deprecated" in captured.err and "--dataset-file" in captured.err
    saved = json.loads((tmp_path / "small_score.json").read_text())
    assert saved["scores"]["Overall"] == 100.0
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "99", "prediction": "A", "error": None}) + "\n")
    with pytest.raises(InvalidSampleError, match="matches a row index"):
        score(other, tsv)


def test_hallusionbench_and_pope_ratings(tmp_path):
    index = [
        f"VS_chart_{n}_0_{figure}_{question}"
        for n, (figure, question) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)])
    ]
    columns = {"index": index, "image": [IMG] * 4, "question": ["q"] * 4}
    columns |= {"answer": ["Yes"] * 4, "category": ["chart"] * 4, "l2-category": ["VS"] * 4}
    predictions = dict(zip(index, ["Yes", "Yes", "No", "Yes"]))
    out, tsv = write(tmp_path, "HallusionBench", columns, predictions)
    scores = score(out, tsv)["scores"]
    assert scores["Overall"] == {"aAcc": 75.0, "fAcc": 50.0, "qAcc": 50.0}
    assert scores["l2-category"]["VS"] == scores["Overall"]
    pope = {"index": [1, 2, 3, 4], "image": [IMG] * 4, "question": ["q"] * 4}
    pope |= {"answer": ["Yes", "Yes", "No", "No"], "category": ["a", "a", "b", "a,b"]}
    out, tsv = write(tmp_path, "POPE", pope, {1: "Yes", 2: "No", 3: "Yes", 4: "No"})
    scores = score(out, tsv)["scores"]
    assert scores["Overall"] == {"F1": 50.0, "acc": 60.0, "precision": 50.0, "recall": 50.0}
    assert scores["category"]["a"]["F1"] == pytest.approx(66.6667, abs=1e-3)
    assert scores["category"]["b"] == {"F1": 0.0, "acc": 50.0, "precision": 0.0, "recall": 0.0}


def test_a_repeated_index_is_refused_not_scored_with_another_rows_answer(tmp_path, capsys):
    columns = {"index": [1, 2, 2], "image": [IMG] * 3, "question": ["q"] * 3}
    columns |= {"A": ["x"] * 3, "B": ["y"] * 3, "answer": ["A", "A", "B"]}
    out, tsv = write(tmp_path, "twice", columns, {1: "A", 2: "A", "2@line4": None})
    assert main(["score", str(out), "--dataset-file", str(tsv)]) == 1
    assert "twice.tsv: index '2' is on lines 3 and 4" in capsys.readouterr().err
    assert not (tmp_path / "twice_score.json").exists()
    with pytest.raises(DuplicateIndexError):
        score(out, tsv)


def test_the_score_file_never_replaces_an_input_or_another_file(tmp_path, capsys):
    columns = {"index": [1, 2], "image": [IMG] * 2, "question": ["q"] * 2}
    columns |= {"A": ["x", "x"], "B": ["y", "y"], "answer": ["A", "B"]}
    out, tsv = write(tmp_path, "small", columns, {1: "A"})
    notes = tmp_path / "NOTES.md"
    notes.write_text("# notes\n")
    before = {path: path.read_bytes() for path in (out, tsv, notes)}
    expected = {tsv: "one of the input files", out: "one of the input files"}
    expected[notes] = "is not a `vlmi score` file; it is left as it is"
    for target, message in expected.items():
        assert main(["score", str(out), "--dataset-file", str(tsv), "-o", str(target)]) == 1
        assert message in capsys.readouterr().err
    assert {path: path.read_bytes() for path in before} == before
    scores = str(tmp_path / "scores.json")
    for _ in range(2):  # its own file is replaced
        assert main(["score", str(out), "--dataset-file", str(tsv), "-o", scores]) == 0
