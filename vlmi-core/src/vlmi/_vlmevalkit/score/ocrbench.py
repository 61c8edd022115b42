"""OCRBench scoring as VLMEvalKit's ``OCRBench.evaluate`` does it.

A row's ``answer`` cell is a Python list of accepted answers (a cell that is
not one is a single answer); the row counts 1 when one of them is a
substring of the prediction, both sides lower-cased, stripped and with
newlines as spaces. In the category "Handwritten Mathematical Expression
Recognition" (HMER) case is kept and all spaces and newlines are removed
instead. Every row's ``category`` must be one of OCRBench's ten.

The scores are counts, as VLMEvalKit reports them: per category, the five
groups (the six recognition categories summed as "Text Recognition"),
``Final Score`` (their sum: out of 1000 on the whole benchmark) and
``Final Score Norm`` (Final Score / 10, the figure the OpenCompass
leaderboard averages; a percentage on the whole benchmark only). ``Overall``
repeats Final Score Norm.
"""

from __future__ import annotations

from typing import Any

from vlmi.errors import InvalidSampleError

from ..prompts import cell_text
from .tables import Cells
from .vqa import references

HMER = "Handwritten Mathematical Expression Recognition"
#: OCRBench's categories, by the group its report sums them into
GROUPS: dict[str, tuple[str, ...]] = {
    "Text Recognition": (
        "Regular Text Recognition",
        "Irregular Text Recognition",
        "Artistic Text Recognition",
        "Handwriting Recognition",
        "Digit String Recognition",
        "Non-Semantic Text Recognition",
    ),
    "Scene Text-centric VQA": ("Scene Text-centric VQA",),
    "Doc-oriented VQA": ("Doc-oriented VQA",),
    "Key Information Extraction": ("Key Information Extraction",),
    HMER: (HMER,),
}
CATEGORIES = tuple(c for members in GROUPS.values() for c in members)
METHOD = (
    "VLMEvalKit OCRBench rule: an accepted answer found in the prediction (ignoring case; "
    "HMER: ignoring spaces and newlines); counts, Final Score Norm = Final Score / 10"
)


def is_ocrbench(name: str) -> bool:
    """Whether VLMEvalKit scores ``name`` by the OCRBench rule (OCRBench v2 has its own)."""
    return "OCRBench" in name and "OCRBench_v2" not in name


def _squeeze(text: str) -> str:
    return text.strip().replace("\n", " ").replace(" ", "")


def _fold(text: str) -> str:
    return text.lower().strip().replace("\n", " ")


def found(answers: list[str], prediction: str, category: str) -> bool:
    """Whether one of ``answers`` is in ``prediction``, as VLMEvalKit compares them."""
    same = _squeeze if category == HMER else _fold
    return any(same(a) in same(prediction) for a in answers)


def score_ocrbench(rows: list[tuple[Cells, str]]) -> dict[str, Any]:
    """The OCRBench report of ``rows`` (cells, prediction text)."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for cells, text in rows:
        category = cells.get("category")
        if category not in counts:
            raise InvalidSampleError(
                f"the OCRBench rule needs each row's 'category' to be one of OCRBench's ten "
                f"({', '.join(CATEGORIES)}); row {cells.get('index')!r} has {category!r}. "
                "Pass another --dataset-name for plain VQA scoring"
            )
        counts[category] += found(references(cell_text(cells.get("answer"))), text, category)
    groups = {group: sum(counts[c] for c in members) for group, members in GROUPS.items()}
    final = sum(groups.values())
    scores: dict[str, Any] = {"Overall": final / 10}
    scores |= groups | {"Final Score": final, "Final Score Norm": final / 10, "category": counts}
    return {"method": METHOD, "scores": scores}


__all__ = ["CATEGORIES", "GROUPS", "HMER", "found", "is_ocrbench", "score_ocrbench"]
