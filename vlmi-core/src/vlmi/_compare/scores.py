"""The one place the comparison reaches the ``vlmi score`` code (its module path may move)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmi.errors import VlmiError

from .judges import JudgeEntry, identity_of
from .layout import Pair, read_json, write_json


def score_pair(pair: Pair) -> dict[str, Any]:
    """Score the pair's predictions as ``vlmi score`` does, with the dataset's judge (in the
    judge's own environment when it names a ``python``); saved beside them.

    When scoring fails, an earlier ``_score.json`` is removed: it would show
    scores of other predictions.
    """
    try:
        judge = pair.dataset.judge
        if judge is not None and judge.python is not None:
            result = _score_elsewhere(pair, judge)
        else:
            result = _score_here(pair, judge)
    except BaseException:
        pair.scores_file.unlink(missing_ok=True)
        raise
    write_json(pair.scores_file, result)
    return result


def _score_here(pair: Pair, judge: JudgeEntry | None) -> dict[str, Any]:
    from .._vlmevalkit.score import score

    if judge is None:
        return score(
            pair.predictions,
            pair.dataset.path,
            dataset_name=pair.dataset.name,
            dataset_type=pair.dataset.type,
        )
    return score(
        pair.predictions,
        pair.dataset.path,
        dataset_name=pair.dataset.name,
        dataset_type=pair.dataset.type,
        judge=judge.spec(),
        scores_file=pair.scores_file,
    )


def score_command(pair: Pair, judge: JudgeEntry, output: Path) -> list[str]:
    """``vlmi score`` of the pair in the judge's environment, writing ``output``."""
    assert judge.python is not None
    command = [judge.python, "-m", "vlmi", "score", str(pair.predictions)]
    command += ["--dataset-file", str(pair.dataset.path), "--dataset-name", pair.dataset.name]
    if pair.dataset.type:
        command += ["--dataset-type", pair.dataset.type]
    return [*command, *judge.flags(), "-o", str(output)]


def _score_elsewhere(pair: Pair, judge: JudgeEntry) -> dict[str, Any]:
    import os
    import subprocess

    env = dict(os.environ)
    if judge.gpus:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(judge.gpus)
    done = subprocess.run(
        score_command(pair, judge, pair.scores_file),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
    )
    result = read_json(pair.scores_file)
    if done.returncode != 0 or not isinstance(result, dict):
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit status {done.returncode}"
        raise VlmiError(f"`vlmi score` in the judge's environment {judge.python} failed: {why}")
    return result


def rescore(pair: Pair, status: dict[str, Any]) -> dict[str, Any]:
    """Score the pair again (its judge changed, or the leaderboard is rebuilt); ``status``
    with the judge recorded and any scoring error, as written to the pair's status file."""
    status = {k: v for k, v in status.items() if k not in ("score_error", "scoring")}
    status["judge"] = identity_of(pair.dataset.judge)
    try:
        score_pair(pair)
    except (VlmiError, OSError, ValueError) as exc:
        status["score_error"] = str(exc)
    write_json(pair.status_file, status)
    return status


def judge_changed(pair: Pair) -> bool:
    """The pair's scores (or scoring error) came from another judge than its dataset's now."""
    status = pair.status() or {}
    return bool(status.get("judge") != identity_of(pair.dataset.judge))


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
    "judge_changed",
    "largest_batch",
    "rescore",
    "retryable_failures",
    "score_command",
    "score_pair",
]
