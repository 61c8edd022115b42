"""Failed samples answered again, and runs that stop when the engine is gone.

The echo test plugin's ``VLMI_ECHO_OUTAGE`` makes its engine die (``dead@N``)
or its "server" refuse connections (``refused@N``) after N samples, raising
its own exceptions that its ``map_error`` maps, as a real engine plugin does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import vlmi
from vlmi import errors
from vlmi._compare.driver import compare
from vlmi._compare.layout import Pair
from vlmi._compare.pair_process import run_command
from vlmi._compare.plan import load_plan
from vlmi._run.retry import is_retryable
from vlmi.testing import make_picture

OUTAGE = "VLMI_ECHO_OUTAGE"


def write_input(folder: Path, count: int, missing: tuple[int, ...] = ()) -> Path:
    make_picture(seed=0).save(folder / "a.png")
    lines = [
        {"id": str(i), "query": f"question {i}", "imgs": ["gone.png" if i in missing else "a.png"]}
        for i in range(count)
    ]
    path = folder / "in.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def last_by_id(path: Path) -> dict[str, dict]:
    return {r["id"]: r for r in records(path)}


def test_the_engine_gone_stops_the_run_with_exit_5_and_retry_failed_answers_again(
    tmp_path, vlmi_cli
):
    source = write_input(tmp_path, 20)
    out = tmp_path / "out.jsonl"
    args = ("run", "echo", str(source), "-o", str(out), "-b", "2", "-q")
    stopped = vlmi_cli(*args, env={OUTAGE: "dead@4"})
    assert stopped.returncode == 5, stopped.stderr
    assert "the engine is gone" in stopped.stderr and "--retry-failed" in stopped.stderr
    written = records(out)
    assert len(written) == 6  # 4 answered, then one batch failed: not 16 error records
    gone = [r for r in written if r["error"]]
    assert [r["error"]["type"] for r in gone] == ["EngineGoneError"] * 2
    assert all(r["error"]["retryable"] is True for r in gone)

    again = vlmi_cli(*args, "--retry-failed")
    assert again.returncode == 0, again.stderr
    assert "2 of them retried after an earlier failure" in again.stderr
    final = last_by_id(out)
    assert len(final) == 20 and all(r["error"] is None for r in final.values())
    assert len(records(out)) == 22  # the retries were appended; the last record of an id wins


def test_whole_batches_failing_stop_the_run_after_max_failed_batches(tmp_path, monkeypatch):
    source = write_input(tmp_path, 40)
    out = tmp_path / "out.jsonl"
    monkeypatch.setenv(OUTAGE, "refused@6")
    summary = vlmi.run("echo", source, out, batch_size=3, progress=False)
    assert summary.stopped and "3 whole batches failed in a row" in summary.stopped
    assert "EngineConnectionError" in summary.stopped
    assert not summary.ok
    assert (summary.done, summary.failed) == (15, 9)  # 2 good batches, then 3 refused ones
    failed = [r["error"] for r in records(out) if r["error"]]
    assert {e["type"] for e in failed} == {"EngineConnectionError"}
    assert all(e["retryable"] for e in failed)

    out.unlink()
    summary = vlmi.run("echo", source, out, batch_size=3, progress=False, max_failed_batches=0)
    assert summary.stopped is None and (summary.done, summary.failed) == (40, 34)


def test_batches_of_bad_samples_do_not_stop_the_run(tmp_path):
    source = write_input(tmp_path, 12, missing=tuple(range(9)))
    summary = vlmi.run("echo", source, tmp_path / "out.jsonl", batch_size=3, progress=False)
    assert summary.stopped is None
    assert (summary.done, summary.failed) == (12, 9)


def test_retry_failed_answers_the_retryable_ones_and_retry_all_failed_every_one(
    tmp_path, monkeypatch
):
    source = write_input(tmp_path, 8, missing=(1,))
    out = tmp_path / "out.jsonl"
    monkeypatch.setenv(OUTAGE, "refused@3")
    first = vlmi.run("echo", source, out, batch_size=4, progress=False)
    assert (first.done, first.failed) == (8, 5)
    kinds = {r["id"]: r["error"] for r in records(out) if r["error"]}
    assert kinds["1"]["type"] == "ImageNotFoundError" and kinds["1"]["retryable"] is False
    assert all(kinds[i]["retryable"] for i in "4567")

    monkeypatch.delenv(OUTAGE)
    plain = vlmi.run("echo", source, out, batch_size=4, progress=False)
    assert (plain.done, plain.skipped, plain.previously_failed) == (0, 8, 5)

    again = vlmi.run("echo", source, out, batch_size=4, progress=False, retry_failed="retryable")
    assert (again.done, again.failed, again.retried, again.previously_failed) == (4, 0, 4, 1)
    assert "4 of them retried after an earlier failure" in again.line()

    make_picture(seed=0).save(tmp_path / "gone.png")  # the user fixes the missing image
    fixed = vlmi.run("echo", source, out, batch_size=4, progress=False, retry_failed="all")
    assert (fixed.done, fixed.failed, fixed.retried, fixed.previously_failed) == (1, 0, 1, 0)
    assert all(r["error"] is None for r in last_by_id(out).values())

    with pytest.raises(errors.InvalidOptionError, match="retryable"):
        vlmi.run("echo", source, out, progress=False, retry_failed="yes")


def test_records_of_0_3_without_retryable_are_read_by_their_error_type(tmp_path):
    assert is_retryable({"type": "EngineOutOfMemoryError", "message": "out of memory"})
    assert is_retryable(
        {"type": "GenerationError", "message": "sample 0 failed: EngineDeadError('EngineCore')"}
    )
    assert not is_retryable({"type": "GenerationError", "message": "RuntimeError('bad')"})
    assert not is_retryable({"type": "ImageNotFoundError", "message": "no file"})
    assert not is_retryable({"type": "EngineOutOfMemoryError", "retryable": False})

    source = write_input(tmp_path, 3)
    out = tmp_path / "out.jsonl"
    vlmi.run("echo", source, out, progress=False)
    old = records(out)
    old[0]["error"] = {"type": "GenerationError", "message": "APIConnectionError('refused')"}
    old[1]["error"] = {"type": "InvalidSampleError", "message": "too long"}
    for record in old[:2]:
        record["prediction"] = None
    out.write_text("".join(json.dumps(r) + "\n" for r in old))
    again = vlmi.run("echo", source, out, progress=False, retry_failed="retryable")
    assert (again.done, again.retried, again.previously_failed) == (1, 1, 1)
    assert last_by_id(out)["0"]["error"] is None


def test_eval_batch_maps_the_engines_own_errors(monkeypatch):
    monkeypatch.setenv(OUTAGE, "dead@0")
    model = vlmi.load("echo")
    (answer,) = model.eval_batch(["hello"])
    assert isinstance(answer, errors.EngineGoneError) and answer.retryable
    assert answer.to_dict()["retryable"] is True
    with pytest.raises(errors.EngineGoneError):
        model.eval("hello")


def test_compare_never_counts_exit_5_as_done_and_retries_the_pair(tmp_path, monkeypatch):
    write_input(tmp_path, 10)
    (tmp_path / "plan.toml").write_text(
        f'output = "results"\n[[datasets]]\npath = "in.jsonl"\n'
        f'[[models]]\nname = "echo"\npython = "{sys.executable}"\nbatch_size = 2\n'
    )
    plan = load_plan(tmp_path / "plan.toml")
    pair = Pair(plan.models[0], plan.datasets[0], plan.output)
    assert "--retry-failed" in run_command(pair, retry_failed=True)
    monkeypatch.setenv(OUTAGE, "dead@4")
    assert compare(plan, live=False) == 4
    status = pair.status() or {}
    assert status["state"] == "failed" and status["exit_status"] == 5
    assert "stopped before the end" in status["reason"] and not pair.finished()

    monkeypatch.delenv(OUTAGE)
    assert compare(plan, live=False) == 0  # the stopped pair runs again, its failures retried
    assert pair.finished() and all(
        r["error"] is None for r in last_by_id(pair.predictions).values()
    )

    # a finished pair with failures of the moment is rerun by --retry-failed only
    with pair.predictions.open("a") as handle:
        broken = {**records(pair.predictions)[-1], "prediction": None}
        broken["error"] = {"type": "EngineTimeoutError", "message": "slow", "retryable": True}
        handle.write(json.dumps(broken) + "\n")
    log = pair.log.read_text()
    compare(plan, live=False)
    assert pair.log.read_text() == log  # finished: not rerun
    assert compare(plan, live=False, retry_failed=True) == 0
    assert "--retry-failed" in pair.log.read_text()[len(log) :]
    assert last_by_id(pair.predictions)[broken["id"]]["error"] is None
