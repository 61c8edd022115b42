"""Multiple choice with a judge, as VLMEvalKit's ``extract_answer_from_item`` and circular
evaluation (``eval_circular_group``) ask it.

A row whose answer ``can_infer`` reads is settled by the rules. Otherwise the
judge gets VLMEvalKit's matching prompt, up to 3 times (temperature 0), until
its reply names an option (or ``Z``). A row the judge cannot settle counts as
a miss and is marked (VLMEvalKit draws a random option for it instead).

Circular (MMBench-style names): a question whose rotations the rules read is
settled by them (one wrong rotation: wrong); else the unread rotations go to
the judge in index order, stopping at the first wrong one.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..._judge.runner import Procedure, Request
from ..prompts import cell_text
from .judged import FAIL_MSG, Judging, mcq_prompt
from .mcq import MCQ_COLUMNS, choices_and_truth, group_of, is_circular
from .rules import extract_option
from .tables import Cells, by_split

_ATTEMPTS = 3


def ask_option(cells: Cells, text: str, choices: dict[str, str]) -> Procedure[str | None]:
    """The option the judge reads in ``text`` (None: not settled after 3 attempts)."""
    prompt = mcq_prompt(cell_text(cells.get("question")), choices, text)
    for _ in range(_ATTEMPTS):
        reply = yield Request(prompt, temperature=0.0, max_new_tokens=2048)
        if reply is not None and FAIL_MSG not in reply:
            found = extract_option(reply, choices)
            if found:
                return found
    return None


def _row(cells: Cells, text: str, name: str) -> Procedure[tuple[str | None, bool, str]]:
    choices, _ = choices_and_truth(cells, name)
    found = extract_option(text, choices)
    if found:
        return found, False, "rules"
    asked = yield from ask_option(cells, text, choices)
    return asked, asked is None, "judge"


def _group(rows: list[tuple[Cells, str]], name: str) -> Procedure[tuple[float, list[Any], bool]]:
    truths, found = [], []
    for cells, text in rows:
        choices, truth = choices_and_truth(cells, name)
        truths.append(truth)
        found.append(extract_option(text, choices))
    if any(f and f != t for f, t in zip(found, truths)):
        return 0.0, found, False
    for k, (cells, text) in enumerate(rows):
        if found[k]:
            continue
        choices, _ = choices_and_truth(cells, name)
        found[k] = yield from ask_option(cells, text, choices)
        if found[k] != truths[k]:
            return 0.0, found, found[k] is None
    return 1.0, found, False


def score_mcq_judged(rows: list[tuple[Cells, str]], name: str, judging: Judging) -> dict[str, Any]:
    """Exact matching, and the judge where it cannot read the answer."""
    method = "VLMEvalKit can_infer, judge where it cannot read the answer"
    if is_circular(name):
        return _circular(rows, name, judging, method)
    procedures = {str(i): _row(cells, text, name) for i, (cells, text) in enumerate(rows)}
    results, exchanges = judging.run(procedures)
    hits: list[tuple[Cells, float]] = []
    for i, (cells, text) in enumerate(rows):
        found, failed, _ = results[str(i)]
        hits.append((cells, float(found == choices_and_truth(cells, name)[1])))
        judging.note(cells, text, found, exchanges[str(i)], failed=failed)
    return {"method": method, "scores": by_split(hits, MCQ_COLUMNS)}


def _circular(
    rows: list[tuple[Cells, str]], name: str, judging: Judging, method: str
) -> dict[str, Any]:
    members: dict[int, list[tuple[int, Cells, str]]] = defaultdict(list)
    mains: dict[int, Cells] = {}
    for cells, text in rows:
        index, group = group_of(cells)
        members[group].append((index, cells, text))
        if index == group:
            mains[group] = cells
    ordered = {g: sorted(members[g], key=lambda m: m[0]) for g in mains}
    procedures = {str(g): _group([(c, t) for _, c, t in ordered[g]], name) for g in mains}
    results, exchanges = judging.run(procedures)
    hits: list[tuple[Cells, float]] = []
    for group in sorted(mains):
        hit, found, failed = results[str(group)]
        hits.append((mains[group], hit))
        texts = " | ".join(t for _, _, t in ordered[group])
        judging.note(
            mains[group],
            texts,
            hit,
            exchanges[str(group)],
            failed=failed,
            log="read per rotation: " + " ".join(str(f) for f in found),
        )
    method += ", circular: all rotations of a question right"
    return {"questions": len(hits), "method": method, "scores": by_split(hits, MCQ_COLUMNS)}


__all__ = ["ask_option", "score_mcq_judged"]
