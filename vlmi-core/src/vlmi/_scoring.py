"""``vlmi score``: accuracy of a predictions file against a VLMEvalKit TSV, as VLMEvalKit scores.

The figures follow VLMEvalKit's evaluator with judge ``exact_matching``, row
for row, on the file ``vlmi export`` writes from the same predictions
(:mod:`vlmi._export`): a failed sample is the text ``Failed to obtain answer:
<error type>`` and an empty answer ``nan``, both scored as answers (so they
count as misses). Per type:

- ``mcq``: :func:`vlmi._score_rules.extract_option` must give the ``answer``
  letter. Names containing MMBench, CCBench, "circular" or MMCR switch to
  circular scoring: a question counts only if it and all its rotated copies
  (``g_index``, else ``index % 1e6``) are right. MMMU names turn open
  questions (no option A) into "A = the answer, B = Other Answers".
- ``yorn``: :mod:`vlmi._score_yorn` (MME, HallusionBench and POPE have
  ratings of their own).
- ``vqa``: the method VLMEvalKit uses for the name (:mod:`vlmi._score_vqa`).

All figures are percentages (VLMEvalKit's MCQ tables show fractions).
"""

from __future__ import annotations

import json
import string
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidOptionError, InvalidSampleError

from ._score_rules import extract_option
from ._score_tables import Cells, by_split
from ._score_vqa import VQA_METHODS, method_for, row_score
from ._score_yorn import score_yorn
from ._vlmevalkit_prompts import plan_prompts, type_from_name
from ._vlmevalkit_read import NA_VALUES, iter_rows, scan

FAILED_PREFIX = "Failed to obtain answer"


def prediction_text(record: Mapping[str, Any]) -> str:
    """The prediction as VLMEvalKit reads it back from an exported file."""
    error = record.get("error")
    if error is not None:
        kind = error.get("type", "Error") if isinstance(error, dict) else "Error"
        return f"{FAILED_PREFIX}: {kind}"
    prediction = record.get("prediction")
    if prediction is None or str(prediction) in NA_VALUES:
        return "nan"
    return str(prediction)


def load_predictions(path: str | Path) -> dict[str, dict[str, Any]]:
    """The records of a ``vlmi run`` output by id (the last one of an id wins)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidSampleError(f"predictions file {str(path)!r} does not exist")
    records: dict[str, dict[str, Any]] = {}
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if line.endswith("\n"):
                    raise InvalidSampleError(
                        f"{path.name}:{number} is not JSON; is it a `vlmi run` output?"
                    ) from None
                continue  # the last line cut off by a crash
            records[str(record.get("id"))] = record
    return records


def joined_rows(
    predictions: Mapping[str, Mapping[str, Any]], dataset: str | Path, dataset_name: str | None
) -> tuple[list[tuple[Cells, str]], int]:
    """(cells, prediction text) of every dataset row that has a prediction; rows without one."""
    table = scan(dataset)
    rows: list[tuple[Cells, str]] = []
    missing = 0
    for row in iter_rows(table, dataset_name=dataset_name, with_images=False):
        record = predictions.get(row.index)
        if record is None:
            missing += 1
        else:
            rows.append((row.cells, prediction_text(record)))
    return rows, missing


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
    plan = plan_prompts(scan(dataset), name, dataset_type)
    records = load_predictions(predictions)
    rows, missing = joined_rows(records, dataset, name)
    if not rows:
        raise InvalidSampleError(
            f"no prediction in {Path(predictions).name} matches a row index of "
            f"{Path(dataset).name}; were they made from this file?"
        )
    failed = sum(text.startswith(FAILED_PREFIX + ":") for _, text in rows)
    result: dict[str, Any] = {"dataset": name, "dataset_type": plan.dataset_type}
    if plan.dataset_type == "mcq":
        result |= _score_mcq(rows, name)
    elif plan.dataset_type == "yorn":
        result |= score_yorn(rows, name)
    else:
        result |= _score_vqa(rows, name, vqa_method)
    result |= {"rows": len(rows), "failed": failed, "without_prediction": missing}
    return result


def _score_mcq(rows: list[tuple[Cells, str]], name: str) -> dict[str, Any]:
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


def _score_vqa(rows: list[tuple[Cells, str]], name: str, method: str | None) -> dict[str, Any]:
    official = type_from_name(name) == "vqa"
    if method is not None and method not in VQA_METHODS:
        raise InvalidOptionError(f"unknown VQA method {method!r}; use one of {VQA_METHODS}")
    chosen = method or method_for(name, official)
    hits = [
        (cells, row_score(_text(cells.get("answer")), text, chosen, name)) for cells, text in rows
    ]
    note = "" if official or method else " (VLMEvalKit cannot score a custom VQA file)"
    return {"method": chosen + note, "scores": by_split(hits, ("category",))}


def _text(cell: str | None) -> str:
    return "nan" if cell is None else cell


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


__all__ = ["FAILED_PREFIX", "format_scores", "load_predictions", "prediction_text", "score"]
