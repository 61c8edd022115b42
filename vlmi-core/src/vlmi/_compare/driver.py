"""``vlmi compare``'s main loop: check, run what is missing, score, write the leaderboard.

The loop runs in the main thread and starts no threads, so each child's
"die with the driver" setting (:mod:`.pair_process`) holds for the driver's
whole life.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from vlmi.errors import MissingDependencyError, VlmiError

from . import leaderboard, picture
from .environments import ModelCheck, check_model, probe
from .layout import MANIFEST, Pair, dataset_stamp, model_file, write_json
from .pair_process import Running, last_error, start
from .plan import Plan
from .schedule import startable
from .scores import count_records, count_rows, score_pair
from .view import View, running_text

#: exit statuses: some samples failed (as `vlmi run`), some pair could not run
EXIT_SAMPLES_FAILED = 3
EXIT_PAIRS_FAILED = 4
TICK_S = 0.2


@dataclass
class Checked:
    """What ``--check`` found: each model's environment, each dataset's rows."""

    models: dict[str, ModelCheck]
    rows: dict[str, int | None]
    problems: dict[str, str] = field(default_factory=dict)  # dataset name -> why unreadable

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.models.values())


def check(plan: Plan) -> Checked:
    """Ask every environment for its models; read every dataset."""
    environments = probe([m.python for m in plan.models])
    everywhere = list(environments.values())
    models = {m.key: check_model(m, environments[m.python], everywhere) for m in plan.models}
    rows: dict[str, int | None] = {}
    problems: dict[str, str] = {}
    for dataset in plan.datasets:
        try:
            rows[dataset.name] = count_rows(Pair(plan.models[0], dataset, plan.output))
        except (VlmiError, OSError, ValueError) as exc:
            rows[dataset.name] = None
            problems[dataset.name] = f"cannot read {dataset.path}: {exc}"
    return Checked(models, rows, problems)


def report_check(plan: Plan, checked: Checked, stream: TextIO) -> int:
    """Print what ``--check`` found; 0 when everything can run."""
    for model in plan.models:
        result = checked.models[model.key]
        if result.ok:
            plugin = (result.spec or {}).get("plugin") or {}
            source = plugin.get("distribution", "a plugin at load time")
            print(f"ok      model {model.label!r}: {source} in {model.python}", file=stream)
        else:
            print(f"PROBLEM model {model.label!r}: {result.problem}", file=stream)
    for dataset in plan.datasets:
        if dataset.name in checked.problems:
            print(
                f"PROBLEM dataset {dataset.name!r}: {checked.problems[dataset.name]}", file=stream
            )
        else:
            rows = checked.rows[dataset.name]
            print(f"ok      dataset {dataset.name!r}: {rows} samples", file=stream)
    return 0 if checked.ok else 1


def manifest(plan: Plan) -> dict[str, Any]:
    """The plan as run, for rebuilding the leaderboard from the output folder."""
    return {
        "plan": str(plan.source),
        "jobs": plan.jobs,
        "picture_categories": plan.picture_categories,
        "datasets": [{**asdict(d), "path": str(d.path)} for d in plan.datasets],
        "models": [asdict(m) for m in plan.models],
    }


def _fail(pair: Pair, reason: str) -> None:
    status = pair.status() or {}
    write_json(pair.status_file, {**status, "state": "failed", "reason": reason})


def _finish(run: Running, code: int) -> None:
    pair = run.pair
    before = pair.status() or {}
    wall = time.monotonic() - run.started
    status: dict[str, Any] = {
        "state": "done" if code in (0, EXIT_SAMPLES_FAILED) else "failed",
        "exit_status": code,
        "dataset": dataset_stamp(pair.dataset.path),
        "time_s": round(before.get("time_s_before", 0.0) + wall, 3),
        "samples_per_s": run.rate() or run.overall_rate(),
    }
    if status["state"] == "failed":
        status["reason"] = f"`vlmi run` exited with {code}: {last_error(pair.log)}"
    samples, failed = count_records(pair)
    status |= {"samples": samples, "failed_samples": failed}
    if status["state"] == "done" and pair.dataset.scored:
        try:
            score_pair(pair)
        except VlmiError as exc:
            status["score_error"] = str(exc)
    write_json(pair.status_file, status)


def _started(pair: Pair, run: Running) -> None:
    before = pair.status() or {}
    spent = (
        before.get("time_s", 0.0)
        if before.get("state") != "running"
        else before.get("time_s_before", 0.0)
    )
    write_json(
        pair.status_file,
        {
            "state": "running",
            "pid": run.process.pid,
            "driver_pid": os.getpid(),
            "time_s_before": spent,
        },
    )


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM ends the driver as Ctrl-C does: its runs (and what they started) end first."""
    raise SystemExit(128 + signum)


def compare(plan: Plan, *, stream: TextIO | None = None, live: bool | None = None) -> int:
    """Run every pair that is not finished, score it, write the leaderboard; the exit status."""
    stream = stream or sys.stderr
    checked = check(plan)
    write_json(plan.output / MANIFEST, manifest(plan))
    pairs = [Pair(m, d, plan.output) for m in plan.models for d in plan.datasets]
    view = View(pairs, stream, live)
    queued: list[Pair] = []
    for pair in pairs:
        result = checked.models[pair.model.key]
        if result.ok:
            write_json(model_file(plan.output, pair.model), result.spec)
        if pair.finished():
            view.set(pair, "done (earlier)")
        elif not result.ok:
            _fail(pair, str(result.problem))
            view.set(pair, f"failed: {result.problem}")
        elif pair.dataset.name in checked.problems:
            _fail(pair, checked.problems[pair.dataset.name])
            view.set(pair, f"failed: {checked.problems[pair.dataset.name]}")
        else:
            queued.append(pair)
    running: list[Running] = []
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        while queued or running:
            for pair in startable(queued, [r.pair for r in running], plan.jobs):
                queued.remove(pair)
                run = start(pair, checked.rows.get(pair.dataset.name))
                _started(pair, run)
                running.append(run)
            for run in list(running):
                run.poll_records()
                code = run.process.poll()
                if code is None:
                    view.set(run.pair, running_text(run))
                    continue
                running.remove(run)
                run.poll_records()
                _finish(run, code)
                status = run.pair.status() or {}
                if status.get("state") == "done":
                    failed = status.get("failed_samples") or 0
                    note = f" ({failed} failed)" if failed else ""
                    view.set(run.pair, f"done {status.get('samples')} samples{note}")
                else:
                    view.set(run.pair, f"failed: {status.get('reason')}")
            view.draw()
            if queued or running:
                time.sleep(TICK_S)
    finally:
        for run in running:
            run.stop()
        signal.signal(signal.SIGTERM, previous)
    view.draw()
    board = write_results(plan, stream)
    return exit_status(board)


def write_results(plan: Plan, stream: TextIO) -> dict[str, Any]:
    """Build and write the leaderboard (and its picture); print the Markdown."""
    board = leaderboard.build(plan)
    paths = leaderboard.write(board, plan.output)
    try:
        paths += picture.draw(board, plan.output, plan.picture_categories)
    except MissingDependencyError as exc:
        print(f"no picture: {exc}", file=stream)
    print(leaderboard.markdown(board))
    print("wrote " + ", ".join(str(p) for p in paths), file=stream)
    return board


def exit_status(board: dict[str, Any]) -> int:
    """0: every pair done and every sample answered; else what went wrong."""
    cells = [c for row in board["models"] for c in row["datasets"].values()]
    if any(c["state"] != "done" or c.get("reason") for c in cells):
        return EXIT_PAIRS_FAILED
    if any(c.get("failed_samples") for c in cells):
        return EXIT_SAMPLES_FAILED
    return 0


def plan_from_manifest(folder: Path) -> Plan:
    """The plan a results folder was made with (``vlmi compare RESULTS/``)."""
    from .layout import read_json
    from .plan import DatasetEntry, ModelEntry, PlanError

    data = read_json(folder / MANIFEST)
    if not isinstance(data, dict):
        raise PlanError(
            f"{folder} holds no {MANIFEST}: is it the output folder of a `vlmi compare` run?"
        )
    datasets = tuple(
        DatasetEntry(Path(d["path"]), d["name"], d.get("type")) for d in data["datasets"]
    )
    models = tuple(ModelEntry(**{**m, "gpus": tuple(m.get("gpus", ()))}) for m in data["models"])
    return Plan(
        Path(data["plan"]),
        folder.resolve(),
        datasets,
        models,
        data.get("jobs", 4),
        data.get("picture_categories"),
    )


def rebuild(plan: Plan, stream: TextIO | None = None) -> int:
    """Rescore what is there (where the dataset is still at hand) and rewrite the leaderboard."""
    stream = stream or sys.stderr
    for model in plan.models:
        for dataset in plan.datasets:
            pair = Pair(model, dataset, plan.output)
            status = pair.status() or {}
            if status.get("state") == "done" and dataset.scored and dataset.path.is_file():
                try:
                    score_pair(pair)
                except VlmiError as exc:
                    write_json(pair.status_file, {**status, "score_error": str(exc)})
    return exit_status(write_results(plan, stream))


__all__ = [
    "EXIT_PAIRS_FAILED",
    "EXIT_SAMPLES_FAILED",
    "check",
    "compare",
    "plan_from_manifest",
    "rebuild",
    "report_check",
]
