"""Multiple-choice scoring as VLMEvalKit's ``exact_matching`` judge does it, circular included.

With a judge (:mod:`.mcq_judged`), rows the rules cannot read are asked of it.
"""

from __future__ import annotations

import string
from collections import defaultdict
from typing import Any

from vlmi.errors import InvalidSampleError

from .rules import extract_option
from .tables import Cells, by_split

#: the columns VLMEvalKit's MCQ table reports
MCQ_COLUMNS = ("l2-category", "category")


def choices_and_truth(cells: Cells, name: str) -> tuple[dict[str, str], str | None]:
    """The options and the right letter; MMMU's open questions as "A = the answer, B = Other
    Answers" (VLMEvalKit's ``MMMU_preproc``)."""
    choices = {c: str(cells[c]) for c in string.ascii_uppercase if cells.get(c) is not None}
    truth = cells.get("answer")
    if "MMMU" in name:
        if "A" in cells and cells.get("A") is None:
            choices |= {"A": str(truth), "B": "Other Answers"}
        truth = truth if truth in list(string.ascii_uppercase) else "A"
    return choices, truth


def is_circular(name: str) -> bool:
    """Whether VLMEvalKit scores the name circularly (MMBench, CCBench, circular, MMCR)."""
    return any(k in name.lower() for k in ("mmbench", "ccbench", "circular", "mmcr"))


def score_mcq(rows: list[tuple[Cells, str]], name: str) -> dict[str, Any]:
    hits: list[tuple[Cells, float]] = []
    for cells, text in rows:
        choices, truth = choices_and_truth(cells, name)
        hits.append((cells, float(extract_option(text, choices) == truth)))
    method = "exact_matching (VLMEvalKit can_infer)"
    result: dict[str, Any] = {}
    if is_circular(name):
        hits, method = _circular(hits), method + ", circular: all rotations of a question right"
        result["questions"] = len(hits)
    return result | {"method": method, "scores": by_split(hits, MCQ_COLUMNS)}


def group_of(cells: Cells) -> tuple[int, int]:
    """``(index, group)``: a circular question's rotations share ``g_index`` (else
    ``index % 1e6``); the group's main row has ``index == group``."""
    try:
        index = int(str(cells.get("index")))
        group = int(float(str(cells["g_index"]))) if "g_index" in cells else index % 1_000_000
    except ValueError:
        raise InvalidSampleError(
            "circular scoring (an MMBench-style name) needs integer 'index' values; "
            "pass --dataset-name without MMBench/CCBench/circular for plain scoring"
        ) from None
    return index, group


def _circular(hits: list[tuple[Cells, float]]) -> list[tuple[Cells, float]]:
    groups: dict[int, list[float]] = defaultdict(list)
    mains: list[tuple[int, Cells]] = []
    for cells, hit in hits:
        index, group = group_of(cells)
        groups[group].append(hit)
        if index == group:
            mains.append((index, cells))
    return [(cells, float(all(groups[index]))) for index, cells in mains]


__all__ = ["MCQ_COLUMNS", "choices_and_truth", "group_of", "is_circular", "score_mcq"]
