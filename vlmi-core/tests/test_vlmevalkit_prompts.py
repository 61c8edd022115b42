"""VLMEvalKit's default prompts, exactly, by dataset type; the type from name, columns or flag."""

from __future__ import annotations

import base64

import pandas as pd
import pytest

from vlmi._run.inputs import open_records
from vlmi._sample import ImagePart, TextPart
from vlmi._vlmevalkit.prompts import plan_prompts, prompt_text
from vlmi._vlmevalkit.read import scan
from vlmi.errors import InvalidOptionError
from vlmi.testing.inputs import make_picture, png_bytes

IMG1 = base64.b64encode(png_bytes(make_picture(20, 10))).decode()
IMG2 = base64.b64encode(png_bytes(make_picture(10, 20))).decode()


def write(tmp_path, name, columns):
    path = tmp_path / name
    pd.DataFrame(columns).to_csv(path, sep="\t", index=False)
    return path


def parts_of(path, **options):
    _, records = open_records(path, **options)
    return [(r.prompt_style, r.fields["sample"].parts) for r in records]


def test_mcq_prompt_text_with_and_without_hint(tmp_path):
    path = write(
        tmp_path,
        "quiz.tsv",
        {
            "index": [1, 2],
            "image": [IMG1, IMG1],
            "question": ["What colour?", "How many?"],
            "hint": ["Look closely", None],
            "A": ["red", "one"],
            "B": ["blue", "two"],
            "C": [None, "three"],
            "answer": ["A", "C"],
        },
    )
    (style, first), (_, second) = parts_of(path)
    assert style == "vlmevalkit-mcq"
    assert first == (
        ImagePart(IMG1),
        TextPart(
            "Hint: Look closely\nQuestion: What colour?\nOptions:\nA. red\nB. blue\n"
            "Please select the correct answer from the options above. \n"
        ),
    )
    assert second[1] == TextPart(
        "Question: How many?\nOptions:\nA. one\nB. two\nC. three\n"
        "Please select the correct answer from the options above. \n"
    )


def test_yes_no_and_vqa_prompts(tmp_path):
    yorn = write(
        tmp_path,
        "custom_yn.tsv",
        {
            "index": [1, 2],
            "image": [IMG1, IMG2],
            "question": ["Is it red? Please answer yes or no.", "Is it blue?"],
            "answer": ["Yes", "No"],
        },
    )
    styles_parts = parts_of(yorn)
    assert [s for s, _ in styles_parts] == ["vlmevalkit-yorn"] * 2
    assert styles_parts[0][1] == (ImagePart(IMG1), TextPart("Is it red? Please answer yes or no."))
    vqa = write(
        tmp_path,
        "custom_vqa.tsv",
        {"index": [1], "image": [IMG1], "question": ["What is written?"], "answer": ["['a', 'b']"]},
    )
    ((style, parts),) = parts_of(vqa)
    assert style == "vlmevalkit-vqa"
    assert parts[1] == TextPart(
        "What is written?\nAnswer the question using a single word or phrase."
    )
    # --dataset-type wins over the columns
    ((style, parts),) = parts_of(yorn, dataset_type="vqa")[:1]
    assert style == "vlmevalkit-vqa" and parts[1].text.endswith("single word or phrase.")


def test_mmmu_markers_place_images_in_the_text(tmp_path):
    path = write(
        tmp_path,
        "MMMU_DEV_VAL.tsv",
        {
            "index": [1, 2],
            "image": [[IMG1, IMG2], [IMG1]],
            "image_path": ["['1_1.png', '1_2.png']", "2.png"],
            "question": ["Compare <image 2> with <image 1>.", "Look at <image 3>"],
            "A": ["same", "x"],
            "B": ["different", "y"],
            "answer": ["B", "A"],
        },
    )
    _, records = open_records(path)
    first, second = list(records)
    assert first.prompt_style == "vlmevalkit-mcq-interleaved"
    assert first.fields["sample"].parts == (
        TextPart("Question: Compare "),
        ImagePart(IMG2),
        TextPart(" with "),
        ImagePart(IMG1),
        TextPart(
            ".\nOptions:\nA. same\nB. different\n"
            "Please select the correct answer from the options above. \n"
        ),
    )
    assert "MMMU_DEV_VAL:3: column 'question'" in str(second.error)
    assert "<image 3>" in str(second.error)


def test_type_from_name_columns_and_flag(tmp_path):
    path = write(
        tmp_path,
        "anything.tsv",
        {"index": [1], "image": [IMG1], "question": ["q"], "answer": ["Yes"]},
    )
    table = scan(path)
    assert plan_prompts(table).dataset_type == "yorn"
    assert plan_prompts(table, "MME").dataset_type == "yorn"
    assert plan_prompts(table, "TextVQA_VAL").dataset_type == "vqa"
    assert plan_prompts(table, "MMBench_DEV_EN").dataset_type == "mcq"
    assert plan_prompts(table, "MME-RealWorld").dataset_type == "mcq"
    assert plan_prompts(table, "custom", "mcq").dataset_type == "mcq"
    with pytest.raises(InvalidOptionError, match="mcq, yorn, vqa"):
        plan_prompts(table, None, "open")
    assert prompt_text({"question": None}, "yorn") == "nan"  # pandas' NaN question
