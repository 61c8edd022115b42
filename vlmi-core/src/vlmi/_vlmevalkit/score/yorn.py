"""Yes-or-no scoring as VLMEvalKit's evaluator rates it, by dataset name.

Every row: ``Yes``/``No`` extracted (:func:`vlmi._score_rules.extract_yes_no`)
and compared with ``answer`` case-sensitively (AMBER: ignoring case). Then:

- MME: per category acc + acc+ (an image counts if all its questions are
  right, images told apart by ``image_path``), and the perception and
  reasoning sums;
- HallusionBench: aAcc (questions), fAcc (figures: all questions of an
  ``l2-category``/set/figure right), qAcc (all figures of a question right),
  with set, figure and question ids read from ``index``
  (``..._..._..._<set>_<figure>_<question>``); overall, per category and
  l2-category;
- POPE: F1 of "Yes" as ``Overall``, with acc, precision and recall; per
  category (a cell ``a,b`` counts in both);
- otherwise: accuracy overall, per category and l2-category, plus acc+ where
  the file has ``image_path`` (a vlmi addition).

With a judge, a row whose answer reads as ``Unknown`` is asked of it with
VLMEvalKit's prompt (``YOrN_auxeval``): attempt ``i`` at temperature
``0.5 * i``, up to 5, until the reply reads Yes or No; else it stays
``Unknown`` (a miss) and is marked as a judge failure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from vlmi.errors import InvalidSampleError

from ..._judge.runner import Procedure, Request
from ..prompts import cell_text, type_from_name
from .judged import FAIL_MSG, Judging, yorn_prompt
from .rules import extract_yes_no
from .tables import Cells, by, percent, report

_MME_GROUPS = {
    "perception": "OCR artwork celebrity color count existence landmark position posters scene",
    "reasoning": "code_reasoning commonsense_reasoning numerical_calculation text_translation",
}
Hits = list[tuple[Cells, float]]


def _ask(cells: Cells, text: str) -> Procedure[str]:
    prompt = yorn_prompt(cell_text(cells.get("question")), text)
    for attempt in range(5):
        reply = yield Request(prompt, temperature=0.5 * attempt, max_new_tokens=2048)
        found = extract_yes_no(FAIL_MSG if reply is None else reply)
        if found != "Unknown":
            return found
    return "Unknown"


def _extracted(rows: list[tuple[Cells, str]], judging: Judging | None) -> list[str]:
    found = [extract_yes_no(text) for _, text in rows]
    if judging is None:
        return found
    unknown = {str(i): _ask(rows[i][0], rows[i][1]) for i, f in enumerate(found) if f == "Unknown"}
    results, exchanges = judging.run(unknown)
    for i, (cells, text) in enumerate(rows):
        asked = results.get(str(i))
        if asked is not None:
            found[i] = asked
        judging.note(cells, text, found[i], exchanges.get(str(i)), failed=asked == "Unknown")
    return found


def score_yorn(
    rows: list[tuple[Cells, str]], name: str, judging: Judging | None = None
) -> dict[str, Any]:
    same: Callable[[str | None, str], bool] = lambda a, b: a == b  # noqa: E731
    if "AMBER" in name:
        same = lambda a, b: a is not None and a.lower() == b.lower()  # noqa: E731
    extracted = _extracted(rows, judging)
    hits = [
        (cells, float(same(cells.get("answer"), found)))
        for (cells, _), found in zip(rows, extracted)
    ]
    method = "exact_matching (VLMEvalKit YOrN_Extraction), answers compared case-sensitively"
    if judging is not None:
        method = "VLMEvalKit YOrN_Extraction, judge (YOrN_auxeval) where it reads Unknown"
    if "MME" in name:
        return {"method": method + "; MME rating (acc + acc+ per category)", "scores": _mme(hits)}
    if "Hallusion" in name:
        return {"method": method + "; HallusionBench rating", "scores": _hallusion(hits)}
    if "POPE" in name:
        return {"method": method + "; POPE rating (F1 of Yes)", "scores": _pope(hits, extracted)}
    if type_from_name(name) != "yorn":
        method += " (VLMEvalKit cannot score a custom yes-or-no file)"
    scores = report(hits, ("category", "l2-category"))
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
    result = {"Overall": percent(v for values in per_category.values() for v in values)}
    return result | {c: percent(per_category[c]) for c in sorted(per_category)}


def _mme(hits: list[tuple[Cells, float]]) -> dict[str, Any]:
    acc, plus = by(hits, "category"), _acc_plus(hits)
    categories = {c: round(acc[c] + plus[c], 4) for c in acc}
    sums = {
        group: round(sum(categories.get(c, 0.0) for c in members.split()), 4)
        for group, members in _MME_GROUPS.items()
    }
    return sums | {"category": categories, "acc": acc, "acc_plus": plus}


def _hallusion(hits: Hits) -> dict[str, Any]:
    ids = []
    for cells, _ in hits:
        parts = str(cells.get("index")).split("_")
        if len(parts) < 6:
            raise InvalidSampleError(
                f"HallusionBench rating reads set, figure and question ids from 'index' "
                f"(like VS_chart_0_0_0_1); got {cells.get('index')!r}. Pass another "
                "--dataset-name for plain accuracy"
            )
        ids.append((str(cells.get("l2-category")), parts[3], parts[4], parts[5]))

    def rate(chosen: list[int]) -> dict[str, float]:
        figures: dict[tuple[str, ...], list[float]] = defaultdict(list)
        questions: dict[tuple[str, ...], list[float]] = defaultdict(list)
        for i in chosen:
            l2, set_id, figure, question = ids[i]
            figures[(l2, set_id, figure)].append(hits[i][1])
            questions[(l2, set_id, question)].append(hits[i][1])
        return {
            "aAcc": percent(hits[i][1] for i in chosen),
            "fAcc": percent(float(all(v)) for v in figures.values()),
            "qAcc": percent(float(all(v)) for v in questions.values()),
        }

    table: dict[str, Any] = {"Overall": rate(list(range(len(hits))))}
    for column in ("category", "l2-category"):
        if column in hits[0][0]:
            values = sorted({str(c.get(column)) for c, _ in hits})
            table[column] = {
                v: rate([i for i, (c, _) in enumerate(hits) if str(c.get(column)) == v])
                for v in values
            }
    return table


def _pope(hits: Hits, extracted: list[str]) -> dict[str, Any]:
    def rate(chosen: list[tuple[int, str]]) -> dict[str, float]:
        truth = [hits[i][0].get("answer") == "Yes" for i, _ in chosen]
        said = [extracted[i] == "Yes" for i, _ in chosen]
        tp = sum(t and s for t, s in zip(truth, said))
        fp = sum(s and not t for t, s in zip(truth, said))
        fn = sum(t and not s for t, s in zip(truth, said))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "F1": round(100 * f1, 4),
            "acc": percent(hits[i][1] for i, _ in chosen),
            "precision": round(100 * precision, 4),
            "recall": round(100 * recall, 4),
        }

    exploded = [
        (i, category)
        for i, (cells, _) in enumerate(hits)
        for category in (cells.get("category") or "").split(",")
    ]
    table: dict[str, Any] = {"Overall": rate(exploded)}
    if "category" in hits[0][0]:
        names = sorted({c for _, c in exploded if c})
        table["category"] = {n: rate([(i, c) for i, c in exploded if c == n]) for n in names}
    return table


__all__ = ["score_yorn"]
