"""The one place the comparison reaches the ``vlmi score`` code (its module path may move)."""

from __future__ import annotations

from typing import Any

from vlmi.errors import VlmiError

from .layout import Pair, write_json


def score_pair(pair: Pair) -> dict[str, Any]:
    """Score the pair's predictions as ``vlmi score`` does; saved beside them.

    When scoring fails, an earlier ``_score.json`` is removed: it would show
    scores of other predictions.
    """
    from .._vlmevalkit.score import score

    try:
        result = score(
            pair.predictions,
            pair.dataset.path,
            dataset_name=pair.dataset.name,
            dataset_type=pair.dataset.type,
        )
    except BaseException:
        pair.scores_file.unlink(missing_ok=True)
        raise
    write_json(pair.scores_file, result)
    return result


def count_records(pair: Pair) -> tuple[int, int]:
    """(records, failed records) of the pair's predictions, each id once."""
    from .._vlmevalkit.predictions import load_predictions

    if not pair.predictions.is_file():
        return 0, 0
    records = load_predictions(pair.predictions)
    return len(records), sum(r.get("error") is not None for r in records.values())


#: what each ``vlmi run`` record says of who answered it
ANSWERED_BY = ("plugin", "plugin_version", "engine", "engine_version")


def answered_by(pair: Pair) -> list[dict[str, Any]]:
    """Who answered the pair's predictions, from the records themselves: each distinct
    (plugin, plugin_version, engine, engine_version) once, in the order first seen."""
    from .._vlmevalkit.predictions import load_predictions

    if not pair.predictions.is_file():
        return []
    try:
        records = load_predictions(pair.predictions)
    except VlmiError:
        return []
    seen = dict.fromkeys(tuple(r.get(k) for k in ANSWERED_BY) for r in records.values())
    return [dict(zip(ANSWERED_BY, who)) for who in seen if any(who)]


def largest_batch(pair: Pair) -> int | None:
    """The most samples the model was handed at once (the records' ``time.batch_size``).

    The run's chunk (``batch_size``, else the model's preferred one), or fewer where the
    dataset is smaller; ``None`` without records that say.
    """
    from .._vlmevalkit.predictions import load_predictions

    if not pair.predictions.is_file():
        return None
    try:
        records = load_predictions(pair.predictions)
    except VlmiError:
        return None
    sizes = [
        size
        for record in records.values()
        if isinstance(time := record.get("time"), dict)
        and isinstance(size := time.get("batch_size"), int)
    ]
    return max(sizes, default=None)


def retryable_failures(pair: Pair) -> int:
    """How many of the pair's samples failed for the moment (``vlmi run --retry-failed``)."""
    from .._run.retry import is_retryable
    from .._vlmevalkit.predictions import load_predictions

    if not pair.predictions.is_file():
        return 0
    try:
        records = load_predictions(pair.predictions).values()
    except VlmiError:
        return 0
    return sum(isinstance(r.get("error"), dict) and is_retryable(r["error"]) for r in records)


def count_rows(pair: Pair) -> int | None:
    """How many samples the dataset holds (``None`` when it cannot be read)."""
    from .._run.inputs import count_records as count_jsonl
    from .._vlmevalkit.read import scan

    if pair.dataset.scored:
        return scan(pair.dataset.path).rows
    return count_jsonl(pair.dataset.path)


__all__ = [
    "ANSWERED_BY",
    "answered_by",
    "count_records",
    "count_rows",
    "largest_batch",
    "retryable_failures",
    "score_pair",
]
