"""``vlmi compare``'s main loop: run what is missing, score each pair, write the results.

The loop runs in the main thread and starts no threads, so each child's
"die with the driver" setting (:mod:`.pair_process`) holds for the driver's
whole life.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any, TextIO

from vlmi.errors import VlmiError

from .check import check
from .judges import identity_of
from .layout import MANIFEST, Pair, model_file, refuse_foreign_folder, write_json
from .pair_process import Running, last_error, start
from .plan import Plan
from .rebuild import manifest
from .results import EXIT_RUN_STOPPED, EXIT_SAMPLES_FAILED, exit_status, write_results
from .schedule import startable
from .scores import (
    count_records,
    judge_changed,
    largest_batch,
    rescore,
    retryable_failures,
    score_pair,
)
from .stale import replace_stale
from .view import View, running_text

TICK_S = 0.2


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
        "identity": before.get("identity"),  # of the dataset as the run started
        "time_s": round(before.get("time_s_before", 0.0) + wall, 3),
        "samples_per_s": run.rate() or run.overall_rate(),
        "batch_size": largest_batch(pair),
    }
    if code == EXIT_RUN_STOPPED:
        status["reason"] = (
            f"`vlmi run` stopped before the end (exit status {code}): {last_error(pair.log)}; "
            "once the engine works again, rerun `vlmi compare` (it answers the samples that "
            "failed for the moment again)"
        )
    elif status["state"] == "failed":
        status["reason"] = f"`vlmi run` exited with {code}: {last_error(pair.log)}"
    samples, failed = count_records(pair)
    status |= {"samples": samples, "failed_samples": failed}
    if status["state"] == "done" and pair.dataset.scored:
        status["judge"] = identity_of(pair.dataset.judge)
        try:
            score_pair(pair)
        except (VlmiError, OSError, ValueError) as exc:
            status["score_error"] = str(exc)
    if before.get("replaced"):
        status["replaced"] = before["replaced"]
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
            "identity": pair.identity(),
            **({"replaced": before["replaced"]} if before.get("replaced") else {}),
        },
    )


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM ends the driver as Ctrl-C does: its runs (and what they started) end first."""
    raise SystemExit(128 + signum)


def _retries(pair: Pair, retry_failed: bool) -> bool:
    """Whether the pair's run answers its failures of the moment again (``--retry-failed``).

    Asked for, or the pair's last run stopped before the end (the engine was gone).
    """
    return retry_failed or (pair.status() or {}).get("exit_status") == EXIT_RUN_STOPPED


def compare(
    plan: Plan,
    *,
    stream: TextIO | None = None,
    live: bool | None = None,
    retry_failed: bool = False,
) -> int:
    """Run every pair that is not finished, score it, write the leaderboard; the exit status.

    ``retry_failed``: every pair's run answers its samples that failed for the moment
    again (``vlmi run --retry-failed``), finished pairs with such failures included.
    """
    stream = stream or sys.stderr
    refuse_foreign_folder(plan.output)
    checked = check(plan)
    for label, problem in checked.judges.items():
        if problem:  # the models still run; their pairs are scored once the judge resolves
            print(
                f"warning: judge {label}: {problem}; the models run, and the pairs it judges "
                "are scored once it resolves (fix it, then run `vlmi compare` again)",
                file=stream,
            )
    write_json(plan.output / MANIFEST, manifest(plan))
    pairs = [Pair(m, d, plan.output) for m in plan.models for d in plan.datasets]
    for pair in pairs:  # answers of another version of the dataset are never reused
        note = replace_stale(pair)
        if note:
            print(f"{pair.name}: {note}", file=stream)
    view = View(pairs, stream, live)
    queued: list[Pair] = []
    for pair in pairs:
        result = checked.models[pair.model.key]
        if pair.finished() and not (retry_failed and retryable_failures(pair)):
            if pair.dataset.scored and judge_changed(pair):
                # another judge: scored again from the predictions; the model does not run
                view.set(pair, "scoring again from the predictions: the judge changed")
                status = rescore(pair, pair.status() or {})
                note = f"; not scored: {status['score_error']}" if "score_error" in status else ""
                view.set(pair, f"done (earlier); scored again: the judge changed{note}")
            else:
                view.set(pair, "done (earlier)")
        elif not result.ok:
            _fail(pair, str(result.problem))
            view.set(pair, f"failed: {result.problem}")
        elif pair.dataset.name in checked.problems:
            _fail(pair, checked.problems[pair.dataset.name])
            view.set(pair, f"failed: {checked.problems[pair.dataset.name]}")
        else:
            queued.append(pair)
    for model in {pair.model.key: pair.model for pair in queued}.values():
        # what runs now (a finished pair's own records say what answered it)
        write_json(model_file(plan.output, model), checked.models[model.key].spec)
    needs_gpu = {key: result.needs_gpu for key, result in checked.models.items()}
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    running: list[Running] = []
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        while queued or running:
            now = [r.pair for r in running]
            for pair in startable(queued, now, plan.jobs, needs_gpu, visible):
                queued.remove(pair)
                run = start(
                    pair,
                    checked.rows.get(pair.dataset.name),
                    retry_failed=_retries(pair, retry_failed),
                )
                _started(pair, run)
                running.append(run)
            for run in list(running):
                run.poll_records()
                code = run.poll()
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
                    if status.get("score_error"):
                        note += f"; not scored: {status['score_error']}"
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


__all__ = ["compare"]
