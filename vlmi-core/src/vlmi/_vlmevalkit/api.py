"""``vlmi.score``: the Python face of ``vlmi score``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._judge.spec import JudgeSpec

if TYPE_CHECKING:
    from .._judge.runner import JudgeModel


def score(
    predictions: str | Path,
    dataset_file: str | Path,
    *,
    dataset_name: str | None = None,
    dataset_type: str | None = None,
    vqa_method: str | None = None,
    judge: str | None = None,
    judge_options: Mapping[str, Any] | None = None,
    judge_plugin: str | None = None,
    rejudge: bool = False,
    output: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Score a ``vlmi run`` predictions file against a VLMEvalKit TSV, as ``vlmi score`` does.

    :param predictions: the JSON Lines file ``vlmi run`` wrote.
    :param dataset_file: the VLMEvalKit ``.tsv`` it answered.
    :param dataset_name: the VLMEvalKit dataset name (default: the file's stem); it picks
        the scoring rules (``MathVista_MINI``, ``MMVet``, ``MMBench_DEV_EN_V11``, ...).
    :param dataset_type: ``mcq``, ``yorn`` or ``vqa`` (default: from the name, else the columns).
    :param vqa_method: a free-form scoring method (default: VLMEvalKit's for the name).
    :param judge: a vlmi model name that judges (``"openai:gpt-4o-mini"``, any local
        model): needed by MathVista and MM-Vet; for multiple-choice and yes-or-no files it
        reads the answers VLMEvalKit's rules cannot.
    :param judge_options: the judge's ``vlmi.load`` options (``base_url``, ``api_key``,
        ``concurrency``, ...).
    :param judge_plugin: the distribution that serves the judge, when several do.
    :param rejudge: forget the cached judge answers first.
    :param output: the scores JSON to write (default ``PREDICTIONS_score.json``); the judge's
        cache (``*_score_judge_cache.jsonl``) and audit table (``*_score_judge.tsv``) go beside.
    :param progress: show a progress bar while the judge works.
    :returns: the scores, as written to ``output``.
    :raises vlmi.errors.VlmiError: a typed error naming the fix (e.g. a judge-only benchmark
        without ``judge``, or a judge that cannot be reached).
    """
    spec = JudgeSpec(judge, judge_plugin, dict(judge_options or {})) if judge else None
    entry = ScoreEntry(predictions, dataset_file, dataset_name, dataset_type, output)
    return score_entry(entry, spec, vqa_method=vqa_method, rejudge=rejudge, progress=progress)


@dataclass(frozen=True)
class ScoreEntry:
    """One predictions file to score: the TSV it answered, its name and type, the output."""

    predictions: str | Path
    dataset_file: str | Path
    dataset_name: str | None = None
    dataset_type: str | None = None
    output: str | Path | None = None

    def target(self) -> Path:
        """The scores file (default ``PREDICTIONS_score.json``)."""
        if self.output:
            return Path(self.output)
        return Path(self.predictions).with_name(Path(self.predictions).stem + "_score.json")


def score_entry(
    entry: ScoreEntry,
    judge: JudgeSpec | None,
    *,
    vqa_method: str | None = None,
    rejudge: bool = False,
    progress: bool = False,
    judge_model: JudgeModel | None = None,
) -> dict[str, Any]:
    """Score one entry and write its scores (see :func:`score`); ``judge_model``: the judge's
    model shared by several entries, loaded once for all."""
    from .score import score as compute
    from .targets import check_target, is_score_file

    target = entry.target()
    sources = (Path(entry.predictions), Path(entry.dataset_file))
    check_target(target, sources, is_score_file, "a `vlmi score` file")
    result = compute(
        entry.predictions,
        entry.dataset_file,
        dataset_name=entry.dataset_name,
        dataset_type=entry.dataset_type,
        vqa_method=vqa_method,
        judge=judge,
        scores_file=target,
        rejudge=rejudge,
        progress=progress,
        judge_model=judge_model,
    )
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


__all__ = ["ScoreEntry", "score", "score_entry"]
