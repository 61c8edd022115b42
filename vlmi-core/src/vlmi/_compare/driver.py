"""``vlmi compare``'s main loop: run what is missing, score each pair, write the results.

The loop runs in the main thread and starts no threads, so each child's
"die with the driver" setting (:mod:`.pair_process`) holds for the driver's
whole life. A pair's run is a job; so is its judging (:mod:`.judging`), once its
predictions are done, beside the other jobs (:mod:`.schedule`). Scores by the
rules alone are made in the loop (they take a moment). The leaderboard files
are written again whenever scores arrive.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any, TextIO

from vlmi.errors import VlmiError

from .check import Checked, check, judge_label
from .judges import JudgeEntry
from .judging import PENDING, JudgeJob, judge_key, pending, start_judging
from .layout import MANIFEST, Pair, model_file, refuse_foreign_folder, write_json
from .pair_process import Running, last_error, start
from .plan import Plan
from .rebuild import manifest
from .results import (
    EXIT_RUN_STOPPED,
    EXIT_SAMPLES_FAILED,
    exit_status,
    write_board,
    write_results,
)
from .schedule import Events, Held, gpus_held, held_gpus, judge_batches, startable
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
        if pair.dataset.judge is not None:
            status["scoring"] = PENDING  # a judge job scores it (:mod:`.judging`)
        else:
            status["judge"] = None
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


def _owes_scores(pair: Pair) -> str | None:
    """Why a finished pair is to be scored again (``None``: its scores stand)."""
    if not pair.dataset.scored:
        return None
    if pending(pair):
        return "its scoring did not finish"
    if judge_changed(pair):
        return "the judge changed"
    if pair.dataset.judge is not None and (pair.status() or {}).get("score_error"):
        return "its judge failed the last time"
    return None


def _done_text(pair: Pair) -> str:
    status = pair.status() or {}
    if status.get("state") != "done":
        return f"failed: {status.get('reason')}"
    failed = status.get("failed_samples") or 0
    note = f" ({failed} failed)" if failed else ""
    if status.get("score_error"):
        note += f"; not scored: {status['score_error']}"
    return f"done {status.get('samples')} samples{note}"


class _Loop:
    """The jobs of one ``vlmi compare``: pair runs, judge jobs, and what the view says."""

    def __init__(self, plan: Plan, checked: Checked, view: View, retry_failed: bool) -> None:
        self.plan, self.checked, self.view = plan, checked, view
        self.retry_failed = retry_failed
        self.events = Events(plan.output)
        self.visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        self.needs_gpu = {key: result.needs_gpu for key, result in checked.models.items()}
        self.queued: list[Pair] = []
        self.running: list[Running] = []
        self.waiting: list[Pair] = []  # done, waiting for their judge
        self.judging: list[JudgeJob] = []
        self.earlier: dict[str, str] = {}  # why a pair done earlier is scored again

    def pair_held(self, pair: Pair) -> Held:
        return gpus_held(pair.model, self.needs_gpu.get(pair.model.key, True), self.visible)

    def judge_held(self, judge: JudgeEntry) -> Held:
        needs = self.checked.judge_needs_gpu.get(judge_label(judge), True)
        return held_gpus(judge.gpus, needs, self.visible)

    def wait_for_judge(self, pair: Pair, why: str = "") -> None:
        assert pair.dataset.judge is not None
        self.waiting.append(pair)
        where = f" on GPUs {','.join(pair.dataset.judge.gpus)}" if pair.dataset.judge.gpus else ""
        note = f" ({why})" if why else ""
        self.view.set(pair, f"scoring: waits for the judge {pair.dataset.judge.name}{where}{note}")

    def start_jobs(self) -> None:
        others = [self.judge_held(job.judge) for job in self.judging]
        now = [run.pair for run in self.running]
        jobs = self.plan.jobs
        for pair in startable(self.queued, now, jobs, self.needs_gpu, self.visible, others):
            self.queued.remove(pair)
            retry = _retries(pair, self.retry_failed)
            run = start(pair, self.checked.rows.get(pair.dataset.name), retry_failed=retry)
            _started(pair, run)
            self.running.append(run)
            self.events.note("start", "run", [pair], self.pair_held(pair))
        busy = [self.pair_held(run.pair) for run in self.running] + others
        room = jobs - len(self.running) - len(self.judging)
        keys = [judge_key(job.judge) for job in self.judging]
        for judge, batch in judge_batches(self.waiting, busy, keys, room, self.judge_held):
            for pair in batch:
                self.waiting.remove(pair)
                self.view.set(pair, f"scoring with the judge {judge.name}")
            job = start_judging(judge, batch, self.plan.output, judge.python or sys.executable)
            self.judging.append(job)
            self.events.note("start", "judge", batch, self.judge_held(judge), judge=judge.name)

    def poll_runs(self) -> bool:
        """Runs that ended: recorded, scored by the rules or waiting for their judge; whether
        any ended."""
        ended = False
        for run in list(self.running):
            run.poll_records()
            code = run.poll()
            if code is None:
                self.view.set(run.pair, running_text(run))
                continue
            self.running.remove(run)
            run.poll_records()
            _finish(run, code)
            self.events.note("end", "run", [run.pair], self.pair_held(run.pair), exit_status=code)
            if pending(run.pair):
                self.wait_for_judge(run.pair)
            else:
                self.view.set(run.pair, _done_text(run.pair))
            ended = True
        return ended

    def poll_judges(self) -> bool:
        """Judge jobs that ended: each pair's scores, or why it has none."""
        scored = False
        for job in list(self.judging):
            code = job.poll()
            if code is None:
                continue
            self.judging.remove(job)
            errors = job.finish()
            held = self.judge_held(job.judge)
            self.events.note(
                "end", "judge", job.pairs, held, judge=job.judge.name, exit_status=code
            )
            for pair in job.pairs:
                if pair.name in self.earlier:
                    error = errors[pair.name]
                    note = f"; not scored: {error}" if error else ""
                    self.view.set(
                        pair, f"done (earlier); scored again: {self.earlier[pair.name]}{note}"
                    )
                else:
                    self.view.set(pair, _done_text(pair))
            scored = True
        return scored

    def busy(self) -> bool:
        return bool(self.queued or self.running or self.waiting or self.judging)

    def stop(self) -> None:
        for run in self.running:
            run.stop()
        for job in self.judging:
            job.stop()


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
    loop = _Loop(plan, checked, view, retry_failed)
    for pair in pairs:
        result = checked.models[pair.model.key]
        if pair.finished() and not (retry_failed and retryable_failures(pair)):
            why = _owes_scores(pair)
            if why is None:
                view.set(pair, "done (earlier)")
            elif pair.dataset.judge is not None:
                # scored again from the predictions by a judge job; the model does not run
                loop.earlier[pair.name] = why
                loop.wait_for_judge(pair, why)
            else:
                view.set(pair, f"scoring again from the predictions: {why}")
                status = rescore(pair, pair.status() or {})
                note = f"; not scored: {status['score_error']}" if "score_error" in status else ""
                view.set(pair, f"done (earlier); scored again: {why}{note}")
        elif not result.ok:
            _fail(pair, str(result.problem))
            view.set(pair, f"failed: {result.problem}")
        elif pair.dataset.name in checked.problems:
            _fail(pair, checked.problems[pair.dataset.name])
            view.set(pair, f"failed: {checked.problems[pair.dataset.name]}")
        else:
            loop.queued.append(pair)
    for model in {pair.model.key: pair.model for pair in loop.queued}.values():
        # what runs now (a finished pair's own records say what answered it)
        write_json(model_file(plan.output, model), checked.models[model.key].spec)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        while loop.busy():
            loop.start_jobs()
            ended = loop.poll_runs()
            ended = loop.poll_judges() or ended
            if ended:  # the leaderboard as it stands, while the rest runs
                write_board(plan)
            view.draw()
            if loop.busy():
                time.sleep(TICK_S)
    finally:
        loop.stop()
        signal.signal(signal.SIGTERM, previous)
    view.draw()
    board = write_results(plan, stream)
    return exit_status(board)


__all__ = ["compare"]
