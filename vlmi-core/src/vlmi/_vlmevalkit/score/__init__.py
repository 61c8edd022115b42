"""``vlmi score``: accuracy of a predictions file against a VLMEvalKit TSV, as VLMEvalKit scores.

The figures follow VLMEvalKit's evaluator with judge ``exact_matching``, row
for row, on the file ``vlmi export`` writes from the same predictions
(:mod:`vlmi._vlmevalkit.export`): a failed sample is the text ``Failed to obtain answer:
<error type>`` and an empty answer ``nan``, both scored as answers (so they
count as misses). Per type:

- ``mcq``: :func:`vlmi._vlmevalkit.score.rules.extract_option` must give the ``answer``
  letter. Names containing MMBench, CCBench, "circular" or MMCR switch to
  circular scoring: a question counts only if it and all its rotated copies
  (``g_index``, else ``index % 1e6``) are right. MMMU names turn open
  questions (no option A) into "A = the answer, B = Other Answers".
- ``yorn``: :mod:`vlmi._vlmevalkit.score.yorn` (MME, HallusionBench and POPE have
  ratings of their own).
- ``vqa``: the method VLMEvalKit uses for the name (:mod:`vlmi._vlmevalkit.score.vqa`).

All figures are percentages (VLMEvalKit's MCQ tables show fractions).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidOptionError

from ..predictions import FAILED_PREFIX, matched_rows
from ..prompts import cell_text, plan_prompts, type_from_name
from .mcq import score_mcq
from .tables import Cells, by_split
from .vqa import VQA_METHODS, method_for, row_score
from .yorn import score_yorn


def score(
    predictions: str | Path,
    dataset: str | Path,
    *,
    dataset_name: str | None = None,
    dataset_type: str | None = None,
    vqa_method: str | None = None,
) -> dict[str, Any]:
    """Score ``predictions`` against ``dataset``; returns what ``vlmi score`` prints and saves."""
    name = dataset_name or Path(dataset).stem
    table, matched, missing = matched_rows(predictions, dataset, name)
    plan = plan_prompts(table, name, dataset_type)
    rows: list[tuple[Cells, str]] = [(row.cells, text) for row, text in matched]
    failed = sum(text.startswith(FAILED_PREFIX + ":") for _, text in rows)
    result: dict[str, Any] = {"dataset": name, "dataset_type": plan.dataset_type}
    if plan.dataset_type == "mcq":
        result |= score_mcq(rows, name)
    elif plan.dataset_type == "yorn":
        result |= score_yorn(rows, name)
    else:
        result |= _score_vqa(rows, name, vqa_method)
    result |= {"rows": len(rows), "failed": failed, "without_prediction": missing}
    return result


def _score_vqa(rows: list[tuple[Cells, str]], name: str, method: str | None) -> dict[str, Any]:
    from .ocrbench import is_ocrbench, score_ocrbench  # OCRBench: counts by its own rule

    if method is None and is_ocrbench(name):
        return score_ocrbench(rows)
    official = type_from_name(name) == "vqa"
    if method is not None and method not in VQA_METHODS:
        raise InvalidOptionError(f"unknown VQA method {method!r}; use one of {VQA_METHODS}")
    chosen = method or method_for(name, official)
    hits = [
        (cells, row_score(cell_text(cells.get("answer")), text, chosen, name))
        for cells, text in rows
    ]
    note = "" if official or method else " (VLMEvalKit cannot score a custom VQA file)"
    return {"method": chosen + note, "scores": by_split(hits, ("category",))}


def format_scores(result: Mapping[str, Any]) -> str:
    """The scores as indented lines for people."""
    questions = f" ({result['questions']} questions)" if "questions" in result else ""
    lines = [
        f"{result['dataset']} ({result['dataset_type']}): {result['rows']} rows scored{questions}, "
        f"{result['failed']} failed, {result['without_prediction']} without a prediction",
        f"method: {result['method']}",
    ]

    def walk(table: Mapping[str, Any], depth: int) -> None:
        for key, value in table.items():
            if isinstance(value, Mapping):
                lines.append("  " * depth + f"{key}:")
                walk(value, depth + 1)
            else:
                lines.append("  " * depth + f"{key:<28} {value:8.2f}")

    walk(result["scores"], 0)
    return "\n".join(lines)


__all__ = ["format_scores", "score"]
