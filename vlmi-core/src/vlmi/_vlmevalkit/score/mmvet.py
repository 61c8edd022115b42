"""MM-Vet scored as VLMEvalKit's ``MMVet_auxeval`` and ``MMVet_acc``.

One judgement per row with MM-Vet's grading prompt (an empty prediction is
the text ``nan``, as VLMEvalKit reads it); attempt ``i`` at temperature
``0.5 * i``, retried only when the reply is not a number in [0, 1]; after 5
failed attempts the row scores 0.0 (and is counted as a judge failure).
Scores: the mean grade (percent) overall, per capability (``rec``, ``ocr``,
``know``, ``gen``, ``spat``, ``math``: a row counts for each one its category
names) and per category combination. A capability with no row is left out
(VLMEvalKit would divide by zero).
"""

from __future__ import annotations

from typing import Any

from ..._judge.runner import Procedure, Request
from ..prompts import cell_text
from .judged import FAIL_MSG, Judging, mmvet_prompt
from .tables import Cells

CAPABILITIES = ("rec", "ocr", "know", "gen", "spat", "math")
_ATTEMPTS = 5


def _grade(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _procedure(cells: Cells, prediction: str) -> Procedure[tuple[str, float, bool]]:
    prompt = mmvet_prompt(
        cell_text(cells.get("question")), cell_text(cells.get("answer")), prediction
    )
    log = ""
    for attempt in range(_ATTEMPTS):
        reply = yield Request(prompt, temperature=attempt * 0.5, max_new_tokens=2048)
        output = FAIL_MSG if reply is None else reply
        grade = _grade(output)
        if grade is None:
            log += f"Try {attempt}: output is {output}, failed to parse.\n"
        elif grade < 0 or grade > 1:
            log += f"Try {attempt}: output is {output}, invalid score: {grade}.\n"
        else:
            return log + "Succeed", grade, False
    return log + "All 5 retries failed.\n", 0.0, True


def score_mmvet(rows: list[tuple[Cells, str]], judging: Judging) -> dict[str, Any]:
    """Judge every row, then VLMEvalKit's per-capability table."""
    procedures = {str(i): _procedure(cells, text) for i, (cells, text) in enumerate(rows)}
    results, exchanges = judging.run(procedures)
    tot: dict[str, int] = {}
    total: dict[str, float] = {}
    combinations: list[str] = []
    for i, (cells, text) in enumerate(rows):
        log, grade, failed = results[str(i)]
        judging.note(cells, text, grade, exchanges[str(i)], failed=failed, log=log)
        category = cell_text(cells.get("category"))
        combination = category.replace(",", "_")
        combinations += [combination] if combination not in combinations else []
        keys = [c for c in CAPABILITIES if c in category]
        for key in (*keys, "Overall", "combination:" + combination):
            tot[key] = tot.get(key, 0) + 1
            total[key] = total.get(key, 0.0) + grade

    def acc(key: str) -> float:
        return round(total[key] / tot[key] * 100, 4)

    scores = {
        "Overall": acc("Overall"),
        "capability": {c: acc(c) for c in CAPABILITIES if c in tot},
        "capability_combination": {c: acc("combination:" + c) for c in combinations},
    }
    return {"method": "VLMEvalKit MMVet_auxeval (judge grade 0-1) and MMVet_acc", "scores": scores}


__all__ = ["CAPABILITIES", "score_mmvet"]
