"""Video-MME and MVBench scoring as VLMEvalKit's ``VideoMME.evaluate`` and ``MVBench.evaluate``.

Video-MME (``utils/videomme.py``): the answer letter is the first of A-D in the
prediction once VLMEvalKit's answer prefixes ("The best answer is",
"Answer:", ...) are removed; none when there is none, or when more than ten
words remain without one. Then the options written as lines ``A. ...`` after
the question's first line (none in Video-MME's own file, whose options are in
``candidates``) are matched by VLMEvalKit's ``can_infer``; failing that, the
answer is ``Z`` (a miss). Scores: overall, per duration, domain, sub-category
and task type, and each of those within each duration.

MVBench (``utils/mvbench.py``): the answer is ``(X) text`` with X the letter of
``answer`` among ``candidates``. A row is right when the prediction's first
word (lower case, dots removed) is part of ``(x)``, or ``(x)`` is part of that
word, else when ``can_infer`` reads the letter with the candidates as options
A, B, ... Scores: overall and per ``task_type``. A row without an answer
(``nan``) or whose answer holds VLMEvalKit's API-failure text is counted as
right, as VLMEvalKit's rating counts it (its score stays NaN or -1, which the
rating reads as true); the count is reported.

With a judge, a row the rules cannot read is asked (VLMEvalKit's
``extract_answer_from_item``: its option-matching prompt, up to 3 times); a
Video-MME row without options is ``Z`` whatever the judge says, so it is not
asked. A row the judge cannot settle is a miss, marked in the audit table
(VLMEvalKit draws a random option for it).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from typing import Any

from ..prompts import cell_text
from ..read import parse_list_cell
from .judged import FAIL_MSG, Judging
from .mcq_judged import ask_option
from .rules import extract_option
from .tables import Cells, report

#: VLMEvalKit's prefixes, as its list spells them (two pairs lack a comma, so run together)
_PREFIXES = (
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option isThe correct option is",
    "Best answer:Best option:",
    "Answer:",
    "Option:",
)
_LETTER = re.compile("[ABCD]")
DURATIONS = ("short", "medium", "long")
_VIDEOMME_COLUMNS = ("domain", "sub_category", "task_type")
#: a row's reading by the rules: (the option found, or None; the options to ask a judge about)
Reading = tuple[str | None, dict[str, str]]


def videomme_letter(prediction: str) -> str:
    """VLMEvalKit's ``extract_characters_regex``: the answer letter, or ``""``."""
    text = prediction.strip()
    for prefix in _PREFIXES:
        text = text.replace(prefix, "")
    match = _LETTER.search(text)  # (its "more than ten words and no letter" test adds nothing)
    return "" if match is None else match[0]


def question_options(cells: Cells) -> dict[str, str]:
    """The options VLMEvalKit's Video-MME ``extract_option`` finds: the row's option columns,
    and line k after the question's first line when it holds ``X.`` (X the k-th letter)."""
    choices = {c: str(cells[c]) for c in string.ascii_uppercase if cells.get(c) is not None}
    for k, line in enumerate(cell_text(cells.get("question")).split("\n")[1:]):
        letter = chr(ord("A") + k)
        at = line.find(letter + ".")
        if at >= 0:
            choices[letter] = line[at + 2 :].strip(". \n")
    return {c: choices[c] for c in string.ascii_uppercase if c in choices}


def _read_videomme(cells: Cells, text: str) -> Reading:
    found = videomme_letter(text)
    if found:
        return found, {}
    choices = question_options(cells)
    return extract_option(text, choices), choices


def score_videomme(rows: list[tuple[Cells, str]], judging: Judging | None) -> dict[str, Any]:
    """Video-MME's rating (see the module docstring), as percentages."""
    found = _settle(rows, _read_videomme, judging)
    hits = [(cells, float((f or "Z") == cells.get("answer"))) for (cells, _), f in zip(rows, found)]
    scores = report(hits, ("duration", *_VIDEOMME_COLUMNS))
    durations = {d: [(c, h) for c, h in hits if c.get("duration") == d] for d in DURATIONS}
    scores["by_duration"] = {d: report(h, _VIDEOMME_COLUMNS) for d, h in durations.items() if h}
    method = "VLMEvalKit Video-MME rule (first A-D after its answer prefixes), else can_infer"
    return {"method": method + _judged(judging), "scores": scores}


def mvbench_options(cells: Cells) -> tuple[dict[str, str], str]:
    """The candidates as options A, B, ..., and the answer as VLMEvalKit writes it: ``(X) text``
    (X the letter of the last candidate equal to ``answer``; ``@`` when none is)."""
    candidates = parse_list_cell(cell_text(cells.get("candidates")))
    answer = cell_text(cells.get("answer"))
    choices = {chr(ord("A") + i): c for i, c in enumerate(candidates)}
    letter = next((k for k, c in reversed(choices.items()) if c == answer), "@")
    return choices, f"({letter}) {answer}"


def mvbench_first_word(prediction: str, truth: str) -> bool:
    """VLMEvalKit's ``check_ans``: the prediction's first word against ``(x)``."""
    word = prediction.lower().strip().split(" ")[0]
    option = truth.lower().strip().split(" ")[0]
    return word.replace(".", "") in option or option in word


def _read_mvbench(cells: Cells, text: str) -> Reading:
    choices, truth = mvbench_options(cells)
    if mvbench_first_word(text, truth):
        return truth[1], {}
    return extract_option(text, choices), choices


def score_mvbench(rows: list[tuple[Cells, str]], judging: Judging | None) -> dict[str, Any]:
    """MVBench's rating (see the module docstring), as percentages."""
    unanswered = [text == "nan" or FAIL_MSG in text for _, text in rows]
    kept = [row for row, skip in zip(rows, unanswered) if not skip]
    found = iter(_settle(kept, _read_mvbench, judging))
    hits = [
        (cells, 1.0 if skip else float(next(found) == mvbench_options(cells)[1][1]))
        for (cells, _), skip in zip(rows, unanswered)
    ]
    method = "VLMEvalKit MVBench rule (first word against the answer's option), else can_infer"
    result: dict[str, Any] = {"method": method + _judged(judging)}
    if any(unanswered):
        result["counted_right_without_answer"] = sum(unanswered)
    return result | {"scores": report(hits, ("task_type",))}


def _settle(
    rows: list[tuple[Cells, str]],
    read: Callable[[Cells, str], Reading],
    judging: Judging | None,
) -> list[str | None]:
    """Each row's option by the rules, and by the judge where they find none but there are
    options to ask about."""
    readings = [read(cells, text) for cells, text in rows]
    found = [f for f, _ in readings]
    if judging is None:
        return found
    asked = {
        str(i): ask_option(rows[i][0], rows[i][1], choices)
        for i, (f, choices) in enumerate(readings)
        if f is None and choices
    }
    results, exchanges = judging.run(asked)
    for i, (cells, text) in enumerate(rows):
        failed = str(i) in results and results[str(i)] is None
        found[i] = results.get(str(i), found[i])
        judging.note(cells, text, found[i], exchanges.get(str(i)), failed=failed)
    return found


def _judged(judging: Judging | None) -> str:
    return ", judge where the rules cannot read the answer" if judging else " (exact matching)"


__all__ = [
    "DURATIONS",
    "mvbench_first_word",
    "mvbench_options",
    "question_options",
    "score_mvbench",
    "score_videomme",
    "videomme_letter",
]
