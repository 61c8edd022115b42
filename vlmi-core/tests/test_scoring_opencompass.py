"""OCRBench (VLMEvalKit's rule: substring match, the HMER variant, counts, Final Score / 10) and
MMMU's open questions and splits, as the OpenCompass average reads them.

The expected numbers are counted by hand from ``ROWS``; ``reference/ocrbench_vlmevalkit.json``
holds what VLMEvalKit's own ``OCRBench.evaluate`` gives on the same file (made by
``reference/ocrbench_vlmevalkit.py``, the commit named in it), and must agree.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd
import pytest

from vlmi._run.inputs import open_records
from vlmi._sample import TextPart
from vlmi._vlmevalkit.score import score
from vlmi.errors import InvalidSampleError
from vlmi.testing.inputs import make_picture, png_bytes

REFERENCE = Path(__file__).parent / "reference" / "ocrbench_vlmevalkit.json"
IMG = base64.b64encode(png_bytes(make_picture(8, 8))).decode()
HMER = "Handwritten Mathematical Expression Recognition"
#: (category, accepted answers, prediction: None for a failed sample); "#" marks a hit
ROWS: list[tuple[str, str, str | None]] = [
    ("Regular Text Recognition", "['HELLO']", "hello"),  # case ignored
    ("Regular Text Recognition", "['world']", "word"),
    ("Irregular Text Recognition", "['coffee', 'cafe']", "It says Cafe."),  # any answer
    ("Artistic Text Recognition", "['new york']", "NEW\nYORK"),  # a newline is a space
    ("Handwriting Recognition", "['  spaced ']", "spaced out"),  # the answer stripped
    ("Digit String Recognition", "['1234']", "12 34"),
    ("Digit String Recognition", "['7']", "1789"),  # a substring, not a word
    ("Non-Semantic Text Recognition", "['xq7z']", None),  # failed: a miss
    ("Scene Text-centric VQA", "['stop']", "The sign says STOP"),
    ("Scene Text-centric VQA", "['left']", "right"),
    ("Doc-oriented VQA", "['$12.50']", "Total: $12.50"),
    ("Key Information Extraction", "['ACME LTD']", "acme ltd."),
    ("Key Information Extraction", "['2020-01-01']", ""),  # empty: "nan"
    (HMER, "['x ^ { 2 }']", "x^{2}"),  # spaces removed on both sides
    (HMER, "['a ^ { 2 } + b']", "a^{2}\n+b"),  # newlines too
    (HMER, "['X']", "x"),  # HMER keeps case: a miss
]


def write_fixture(folder: Path, name: str = "OCRBench") -> tuple[Path, Path]:
    """The OCRBench-layout TSV and `vlmi run`-style predictions for ``ROWS``."""
    tsv = folder / f"{name}.tsv"
    columns = {
        "index": list(range(len(ROWS))),
        "image": [IMG] * len(ROWS),
        "question": [f"What is written in the image? ({i})" for i in range(len(ROWS))],
        "answer": [answer for _, answer, _ in ROWS],
        "category": [category for category, _, _ in ROWS],
    }
    pd.DataFrame(columns).to_csv(tsv, sep="\t", index=False)
    records = [
        {
            "id": str(i),
            "prediction": prediction,
            "error": None if prediction is not None else {"type": "GenerationError"},
        }
        for i, (_, _, prediction) in enumerate(ROWS)
    ]
    out = folder / f"{name}.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in records))
    return out, tsv


EXPECTED = {
    "Overall": 1.0,
    "Text Recognition": 5,
    "Scene Text-centric VQA": 1,
    "Doc-oriented VQA": 1,
    "Key Information Extraction": 1,
    HMER: 2,
    "Final Score": 10,
    "Final Score Norm": 1.0,
}


def test_ocrbench_counts_as_vlmevalkit(tmp_path):
    out, tsv = write_fixture(tmp_path)
    result = score(out, tsv)
    assert result["dataset_type"] == "vqa" and result["method"].startswith("VLMEvalKit OCRBench")
    scores = result["scores"]
    assert {k: v for k, v in scores.items() if k != "category"} == EXPECTED
    assert scores["category"] == {
        "Regular Text Recognition": 1,
        "Irregular Text Recognition": 1,
        "Artistic Text Recognition": 1,
        "Handwriting Recognition": 1,
        "Digit String Recognition": 1,
        "Non-Semantic Text Recognition": 0,
        "Scene Text-centric VQA": 1,
        "Doc-oriented VQA": 1,
        "Key Information Extraction": 1,
        HMER: 2,
    }
    assert (result["rows"], result["failed"]) == (16, 1)
    # VLMEvalKit's own OCRBench.evaluate on the same rows (exported as VLMEvalKit reads them)
    reference = json.loads(REFERENCE.read_text())
    assert reference["result"] == {k: v for k, v in EXPECTED.items() if k != "Overall"}


def test_ocrbench_names_only_and_its_prompt_is_the_question_alone(tmp_path):
    out, tsv = write_fixture(tmp_path, "OCRBench_MINI")
    assert score(out, tsv)["scores"]["Final Score"] == 10
    # a --vqa-method, or another name, scores as any VQA file
    assert "category" in score(out, tsv, vqa_method="exact_match")["scores"]
    assert score(out, tsv, dataset_name="OCRBench_v2")["method"] == "vqa_score"
    _, records = open_records(tsv, dataset="OCRBench_MINI")  # as `vlmi run --dataset-name`
    first = next(iter(records))
    assert first.prompt_style == "vlmevalkit-vqa"
    assert first.fields["sample"].parts[-1] == TextPart("What is written in the image? (0)")
    # MathVista and MM-Vet too (their VLMEvalKit classes keep the base build_prompt)
    for name in ("MathVista_MINI", "MMVet"):
        _, records = open_records(tsv, dataset=name)
        text = next(iter(records)).fields["sample"].parts[-1]
        assert text == TextPart("What is written in the image? (0)")


def test_an_unknown_category_is_refused_naming_the_row(tmp_path):
    out, tsv = write_fixture(tmp_path)
    table = pd.read_csv(tsv, sep="\t")
    table.loc[3, "category"] = "Poetry"
    table.to_csv(tsv, sep="\t", index=False)
    with pytest.raises(InvalidSampleError, match="row '3' has 'Poetry'"):
        score(out, tsv)


def test_mmmu_open_questions_are_answer_or_other_answers_per_split(tmp_path):
    tsv = tmp_path / "MMMU_DEV_VAL.tsv"
    columns = {
        "index": [1, 2, 3, 4],
        "image": [IMG] * 4,
        "question": ["How many?", "Which?", "How many?", "Which?"],
        "A": [None, "cat", None, "cat"],  # open questions: A = the answer, B = Other Answers
        "B": [None, "dog", None, "dog"],
        "answer": ["12", "B", "7", "A"],
        "split": ["dev", "dev", "validation", "validation"],
    }
    pd.DataFrame(columns).to_csv(tsv, sep="\t", index=False)
    predictions = {1: "12", 2: "B", 3: "It is 8", 4: "A"}
    out = tmp_path / "MMMU_DEV_VAL.jsonl"
    out.write_text(
        "".join(json.dumps({"id": str(i), "prediction": p}) + "\n" for i, p in predictions.items())
    )
    scores = score(out, tsv)["scores"]
    assert scores["Overall"] == 75.0
    assert scores["split"]["dev"]["Overall"] == 100.0
    assert scores["split"]["validation"]["Overall"] == 50.0  # what the average takes
