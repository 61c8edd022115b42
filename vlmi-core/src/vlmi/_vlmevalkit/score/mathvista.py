"""MathVista (mini) scored as VLMEvalKit's ``MathVista_auxeval`` and ``MathVista_acc``.

Each row: when the prediction already gives the answer (``post_check`` with
prefetch: an option letter for multiple choice, ``int``/``float`` equal to the
answer for numbers), "Prefetch succeed"; else the judge extracts the answer
with MathVista's prompt (``max_tokens=128``), attempt ``i`` at temperature
``0.5 * i``, retried only when the call fails, 5 attempts, then ``''``.
The extracted answer is then checked with ``post_check``. As in VLMEvalKit,
free-form answers whose type is neither integer nor float (lists, text) never
count as right. Accuracy per task and skill, with VLMEvalKit's table.
"""

from __future__ import annotations

import ast
import string
from typing import Any

from ..._judge.runner import Procedure, Request
from ..prompts import cell_text
from .judged import FAIL_MSG, Judging, mathvista_prompt
from .rules import extract_option
from .tables import Cells

_ATTEMPTS = 5


def post_check(cells: Cells, response: Any, prefetch: bool) -> Any:
    """VLMEvalKit's ``post_check``: the prefetched answer (or False), or whether it is right."""
    res: Any = None
    ans: Any = cell_text(cells.get("answer"))
    try:
        if cells.get("question_type") == "multi_choice":
            ans = cell_text(cells.get("answer_option"))
            options = ast.literal_eval(cell_text(cells.get("choices")))
            choices = {string.ascii_uppercase[i]: str(v) for i, v in enumerate(options)}
            res = extract_option(str(response), choices) or False
            if prefetch:
                return res
        elif cells.get("answer_type") == "integer":
            res = int(response)
            ans = int(cell_text(cells.get("answer")))
        elif cells.get("answer_type") == "float":
            res = float(response)
            ans = float(cell_text(cells.get("answer")))
        else:
            res, ans = str(res), str(ans)
    except (ValueError, SyntaxError, TypeError):
        pass
    if res == ans:
        return res if prefetch else True
    return False


def _procedure(cells: Cells, prediction: str) -> Procedure[tuple[str, Any, bool]]:
    prefetched = post_check(cells, prediction, prefetch=True)
    if prefetched:
        return "Prefetch succeed", prefetched, False
    prompt = mathvista_prompt(cell_text(cells.get("question")), prediction)
    log = ""
    for attempt in range(_ATTEMPTS):
        reply = yield Request(prompt, temperature=attempt * 0.5, max_new_tokens=128)
        if reply is None or FAIL_MSG in reply:
            log += f"Try {attempt}: output is {prediction}, failed to parse.\n"
        else:
            return log + "Succeed", reply, False
    return log + "All 5 retries failed.\n", "", True


def score_mathvista(rows: list[tuple[Cells, str]], judging: Judging) -> dict[str, Any]:
    """Judge what the rules cannot settle, then VLMEvalKit's accuracy table."""
    procedures = {str(i): _procedure(cells, text) for i, (cells, text) in enumerate(rows)}
    results, exchanges = judging.run(procedures)
    tot: dict[str, int] = {"Overall": 0}
    fetch: dict[str, int] = {}
    hit: dict[str, int] = {}
    tasks: list[str] = []
    skills_seen: list[str] = []
    for i, (cells, text) in enumerate(rows):
        log, res, failed = results[str(i)]
        judging.note(cells, text, res, exchanges[str(i)], failed=failed, log=log)
        task = cell_text(cells.get("task"))
        try:
            skills = ast.literal_eval(cell_text(cells.get("skills")))
        except (SyntaxError, ValueError):
            skills = [cell_text(cells.get("skills"))]
        keys = ["Overall", *skills, task]
        for key in keys[1:]:
            tot[key] = tot.get(key, 0)
        tasks += [task] if task not in tasks else []
        skills_seen += [s for s in skills if s not in skills_seen]
        right = bool(post_check(cells, res, prefetch=False))
        for key in ("Overall", task, *skills):
            tot[key] += 1
            fetch[key] = fetch.get(key, 0) + (log == "Prefetch succeed")
            hit[key] = hit.get(key, 0) + right
    table = [
        {
            "Task&Skill": key,
            "tot": tot[key],
            "prefetch": fetch.get(key, 0),
            "hit": hit.get(key, 0),
            "prefetch_rate": round(fetch.get(key, 0) / tot[key] * 100, 4),
            "acc": round(hit.get(key, 0) / tot[key] * 100, 4),
        }
        for key in tot
    ]
    acc = {row["Task&Skill"]: row["acc"] for row in table}
    scores = {
        "Overall": acc["Overall"],
        "task": {t: acc[t] for t in tasks},
        "skill": {s: acc[s] for s in skills_seen},
    }
    method = "VLMEvalKit MathVista_auxeval (judge answer extraction) and MathVista_acc"
    return {"method": method, "scores": scores, "table": table}


__all__ = ["post_check", "score_mathvista"]
