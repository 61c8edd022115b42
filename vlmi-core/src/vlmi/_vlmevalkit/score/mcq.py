"""Multiple-choice scoring as VLMEvalKit's ``exact_matching`` judge does it, circular included."""

from __future__ import annotations

import string
from collections import defaultdict
from typing import Any

from vlmi.errors import InvalidSampleError

from .rules import extract_option
from .tables import Cells, by_split


def score_mcq(rows: list[tuple[Cells, str]], name: str) -> dict[str, Any]:
    mmmu = "MMMU" in name
    hits: list[tuple[Cells, float]] = []
    for cells, text in rows:
        choices = {c: str(cells[c]) for c in string.ascii_uppercase if cells.get(c) is not None}
        truth = cells.get("answer")
        if mmmu:
            if "A" in cells and cells.get("A") is None:
                choices |= {"A": str(truth), "B": "Other Answers"}
            truth = truth if truth in list(string.ascii_uppercase) else "A"
        hits.append((cells, float(extract_option(text, choices) == truth)))
    circular = any(k in name.lower() for k in ("mmbench", "ccbench", "circular", "mmcr"))
    method = "exact_matching (VLMEvalKit can_infer)"
    result: dict[str, Any] = {}
    if circular:
        hits, method = _circular(hits), method + ", circular: all rotations of a question right"
        result["questions"] = len(hits)
    return result | {"method": method, "scores": by_split(hits, ("l2-category", "category"))}


def _circular(hits: list[tuple[Cells, float]]) -> list[tuple[Cells, float]]:
    groups: dict[int, list[float]] = defaultdict(list)
    mains: list[tuple[int, Cells]] = []
    for cells, hit in hits:
        try:
            index = int(str(cells.get("index")))
            group = int(float(str(cells["g_index"]))) if "g_index" in cells else index % 1_000_000
        except ValueError:
            raise InvalidSampleError(
                "circular scoring (an MMBench-style name) needs integer 'index' values; "
                "pass --dataset-name without MMBench/CCBench/circular for plain scoring"
            ) from None
        groups[group].append(hit)
        if index == group:
            mains.append((index, cells))
    return [(cells, float(all(groups[index]))) for index, cells in mains]


__all__ = ["score_mcq"]
