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
- ``yorn``: ``Yes``/``No`` extracted, compared case-sensitively. MME names:
  per category acc + acc+ (an image counts if all its questions are right,
  images told apart by ``image_path``), and the perception/reasoning sums.
  Other files with ``image_path`` get acc+ as well (a vlmi addition).
- ``vqa``: the method VLMEvalKit uses for the name (:mod:`vlmi._score_vqa`).

All figures are percentages (VLMEvalKit's MCQ tables show fractions).
"""

from __future__ import annotations

import json
import string
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from vlmi._score_rules import extract_option, extract_yes_no
from vlmi._score_vqa import VQA_METHODS, method_for, row_score
from vlmi._vlmevalkit_prompts import plan_prompts, type_from_name
from vlmi._vlmevalkit_read import NA_VALUES, iter_rows, scan
from vlmi.errors import InvalidOptionError, InvalidSampleError

FAILED_PREFIX = "Failed to obtain answer"
_MME_GROUPS = {
    "perception": "OCR artwork celebrity color count existence landmark position posters scene",
    "reasoning": "code_reasoning commonsense_reasoning numerical_calculation text_translation",
}
Cells = Mapping[str, str | None]


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
        result |= _score_yorn(rows, name)
    else:
        result |= _score_vqa(rows, name, vqa_method)
    result |= {"rows": len(rows), "failed": failed, "without_prediction": missing}
    return result


def _percent(values: Iterable[float]) -> float:
    items = list(values)
    return round(100 * sum(items) / len(items), 4) if items else 0.0


def _by(rows: list[tuple[Cells, float]], column: str) -> dict[str, float]:
    groups: dict[str, list[float]] = defaultdict(list)
    for cells, hit in rows:
        if cells.get(column) is not None:
            groups[str(cells[column])].append(hit)
    return {key: _percent(groups[key]) for key in sorted(groups)}


def _report(rows: list[tuple[Cells, float]], columns: tuple[str, ...]) -> dict[str, Any]:
    table: dict[str, Any] = {"Overall": _percent(hit for _, hit in rows)}
    for column in columns:
        if any(column in cells for cells, _ in rows[:1]):
            table[column] = _by(rows, column)
    return table


def _by_split(rows: list[tuple[Cells, float]], columns: tuple[str, ...]) -> dict[str, Any]:
    if not rows or "split" not in rows[0][0]:
        return _report(rows, columns)
    splits: dict[str, list[tuple[Cells, float]]] = defaultdict(list)
    for cells, hit in rows:
        splits[str(cells.get("split"))].append((cells, hit))
    report = {"Overall": _percent(hit for _, hit in rows)}
    return report | {"split": {s: _report(splits[s], columns) for s in sorted(splits)}}


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
    return result | {"method": method, "scores": _by_split(hits, ("l2-category", "category"))}


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


def _score_yorn(rows: list[tuple[Cells, str]], name: str) -> dict[str, Any]:
    same: Callable[[str | None, str], bool] = lambda a, b: a == b  # noqa: E731
    if "AMBER" in name:
        same = lambda a, b: a is not None and a.lower() == b.lower()  # noqa: E731
    hits = [(cells, float(same(cells.get("answer"), extract_yes_no(text)))) for cells, text in rows]
    method = "exact_matching (VLMEvalKit YOrN_Extraction), answers compared case-sensitively"
    if "MME" in name:
        return {"method": method + "; MME rating (acc + acc+ per category)", "scores": _mme(hits)}
    if type_from_name(name) != "yorn":
        method += " (VLMEvalKit cannot score a custom yes-or-no file)"
    scores = _report(hits, ("category", "l2-category"))
    if "image_path" in rows[0][0]:
        scores["acc_plus"] = _acc_plus(hits)
    return {"method": method, "scores": scores}


def _acc_plus(hits: list[tuple[Cells, float]]) -> dict[str, float]:
    images: dict[tuple[str, str], list[float]] = defaultdict(list)
    for cells, hit in hits:
        images[(str(cells.get("category")), str(cells.get("image_path")))].append(hit)
    per_category: dict[str, list[float]] = defaultdict(list)
    for (category, _), values in images.items():
        per_category[category].append(float(all(values)))
    result = {"Overall": _percent(v for values in per_category.values() for v in values)}
    return result | {c: _percent(per_category[c]) for c in sorted(per_category)}


def _mme(hits: list[tuple[Cells, float]]) -> dict[str, Any]:
    acc, plus = _by(hits, "category"), _acc_plus(hits)
    categories = {c: round(acc[c] + plus[c], 4) for c in acc}
    sums = {
        group: round(sum(categories.get(c, 0.0) for c in members.split()), 4)
        for group, members in _MME_GROUPS.items()
    }
    return sums | {"category": categories, "acc": acc, "acc_plus": plus}


def _score_vqa(rows: list[tuple[Cells, str]], name: str, method: str | None) -> dict[str, Any]:
    official = type_from_name(name) == "vqa"
    if method is not None and method not in VQA_METHODS:
        raise InvalidOptionError(f"unknown VQA method {method!r}; use one of {VQA_METHODS}")
    chosen = method or method_for(name, official)
    hits = [
        (cells, row_score(_text(cells.get("answer")), text, chosen, name)) for cells, text in rows
    ]
    note = "" if official or method else " (VLMEvalKit cannot score a custom VQA file)"
    return {"method": chosen + note, "scores": _by_split(hits, ("category",))}


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
