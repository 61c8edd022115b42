"""The plan as last run, kept in the output folder, and rebuilding the leaderboard from it."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from .judges import judge_from
from .layout import MANIFEST, Pair, read_json, refuse_foreign_folder
from .plan import DatasetEntry, ModelEntry, Plan, PlanError
from .results import exit_status, write_results
from .scores import rescore


def manifest(plan: Plan) -> dict[str, Any]:
    """The plan as run, for rebuilding the leaderboard from the output folder."""
    return {
        "plan": str(plan.source),
        "jobs": plan.jobs,
        "picture_categories": plan.picture_categories,
        "judge": asdict(plan.judge) if plan.judge else None,
        "suite": plan.suite,
        "datasets": [{**asdict(d), "path": str(d.path)} for d in plan.datasets],
        "models": [asdict(m) for m in plan.models],
    }


def plan_from_manifest(folder: Path) -> Plan:
    """The plan a results folder was made with (``vlmi compare RESULTS/``)."""
    data = read_json(folder / MANIFEST)
    if not isinstance(data, dict):
        raise PlanError(
            f"{folder} holds no {MANIFEST}: is it the output folder of a `vlmi compare` run?"
        )
    datasets = tuple(
        DatasetEntry(Path(d["path"]), d["name"], d.get("type"), judge_from(d.get("judge")))
        for d in data["datasets"]
    )
    models = tuple(ModelEntry(**{**m, "gpus": tuple(m.get("gpus", ()))}) for m in data["models"])
    return Plan(
        Path(data["plan"]),
        folder.resolve(),
        datasets,
        models,
        data.get("jobs", 4),
        data.get("picture_categories"),
        judge_from(data.get("judge")),
        suite if not isinstance(suite := data.get("suite"), list) else tuple(suite),
    )


def rebuild(plan: Plan, stream: TextIO | None = None) -> int:
    """Rescore what is there (where the dataset is still at hand, as the pair answered it) and
    rewrite the leaderboard. A failed rescore removes the old scores; its cell says why."""
    stream = stream or sys.stderr
    refuse_foreign_folder(plan.output)
    for model in plan.models:
        for dataset in plan.datasets:
            pair = Pair(model, dataset, plan.output)
            status = pair.status() or {}
            if status.get("state") != "done" or not dataset.scored or not pair.finished():
                continue  # a changed dataset: its cell says so (the leaderboard)
            rescore(pair, status)
    return exit_status(write_results(plan, stream))


__all__ = ["manifest", "plan_from_manifest", "rebuild"]
