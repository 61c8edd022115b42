"""Scoring with a judge, in-process: the prompts against VLMEvalKit's, the refusal without a
judge, and a local vlmi model (the echo test plugin) as the judge.

The expected prompts in data/judge/expected_prompts.json were written by
scripts/judge_prompts_from_vlmevalkit.py, which runs VLMEvalKit's own prompt
builders (at the commit the file records) on the fixtures beside it. The
scored figures against a scripted OpenAI-compatible judge are pinned in
vlmi-openai/tests/test_judge.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import vlmi
from vlmi._cli import main
from vlmi._vlmevalkit.predictions import matched_rows
from vlmi._vlmevalkit.prompts import cell_text
from vlmi._vlmevalkit.score.judged import mathvista_prompt, mcq_prompt, mmvet_prompt, yorn_prompt
from vlmi._vlmevalkit.score.mcq import choices_and_truth
from vlmi.errors import InvalidOptionError

DATA = Path(__file__).parent / "data" / "judge"
EXPECTED = json.loads((DATA / "expected_prompts.json").read_text(encoding="utf-8"))


def vlmi_prompt(name: str, cells, text: str) -> str:
    """The first prompt vlmi sends the judge for a row."""
    question = cell_text(cells.get("question"))
    if "MathVista" in name:
        return mathvista_prompt(question, text)
    if "MMVet" in name:
        return mmvet_prompt(question, cell_text(cells.get("answer")), text)
    if "yorn" in name:
        return yorn_prompt(question, text)
    return mcq_prompt(question, choices_and_truth(cells, name)[0], text)


@pytest.mark.parametrize("tsv", sorted(EXPECTED["prompts"]))
def test_judge_prompts_are_vlmevalkits_byte_for_byte(tsv):
    assert EXPECTED["vlmevalkit_commit"] == "e8e78f05f3080fe28154f2130321f17951c3be94"
    name = Path(tsv).stem
    _, rows, _ = matched_rows(DATA / (name + ".jsonl"), DATA / tsv, name)
    ours = {row.index: vlmi_prompt(name, row.cells, text) for row, text in rows}
    assert ours == EXPECTED["prompts"][tsv]


def test_the_chinese_matching_prompt_for_a_chinese_question():
    prompt = mcq_prompt("图中是什么?", {"A": "猫", "B": "狗"}, "JUDGE=A")
    assert prompt.startswith("你是一个帮助我匹配答案") and "A. 猫\nB. 狗\n" in prompt


@pytest.mark.parametrize("name", ["MathVista_MINI", "MMVet"])
def test_a_judge_only_benchmark_without_a_judge_is_refused(tmp_path, name, capsys):
    with pytest.raises(InvalidOptionError, match="--judge"):
        vlmi.score(DATA / f"{name}.jsonl", DATA / f"{name}.tsv", output=tmp_path / "s.json")
    code = main(
        [
            "score",
            str(DATA / f"{name}.jsonl"),
            "--dataset-file",
            str(DATA / f"{name}.tsv"),
            "-o",
            str(tmp_path / "s.json"),
        ]
    )
    assert code != 0 and "--judge" in capsys.readouterr().err
    assert not (tmp_path / "s.json").exists()


def test_a_local_model_judges_in_process_and_its_answers_are_cached(tmp_path):
    # the echo model answers with the prompt itself: never a grade, so every MM-Vet row fails
    # its 5 attempts (temperatures 0, 0.5, 1, 1.5, 2), scores 0.0 and is marked
    for suffix in (".tsv", ".jsonl"):
        shutil.copy(DATA / ("MMVet" + suffix), tmp_path / ("MMVet" + suffix))
    preds, tsv = tmp_path / "MMVet.jsonl", tmp_path / "MMVet.tsv"
    result = vlmi.score(preds, tsv, judge="echo", progress=False)
    judge = result["judge"]
    assert result["scores"]["Overall"] == 0.0
    assert (judge["name"], judge["plugin"], judge["engine"]) == ("echo", "vlmi-echo", "python")
    assert (judge["judged"], judge["failures"], judge["cached"]) == (6, 6, 0)
    assert judge["identity"] == {"name": "echo", "plugin": None, "options": {}}
    saved = json.loads((tmp_path / "MMVet_score.json").read_text())
    assert saved["judge"] == judge
    cache = (tmp_path / "MMVet_score_judge_cache.jsonl").read_text().splitlines()
    assert len(cache) == 30  # 6 prompts x 5 sampling settings
    audit = (tmp_path / "MMVet_score_judge.tsv").read_text()
    assert audit.startswith("index\tsettled_by\t") and audit.count("judge failed") == 6
    again = vlmi.score(preds, tsv, judge="echo", progress=False)
    assert again["judge"]["cached"] == 30 and again["scores"] == result["scores"]
    fresh = vlmi.score(preds, tsv, judge="echo", rejudge=True, progress=False)
    assert fresh["judge"]["cached"] == 0
