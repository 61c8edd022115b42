"""Judging as a job of the schedule: the pairs one judge scores, in one ``vlmi score`` process.

A pair whose dataset has a judge is scored once its run is done, by a job of
its own: ``<judge python> -m vlmi score --list LIST.jsonl --judge ...`` scores
every pair waiting for that judge at once, so the judge model loads once for
them all. The job runs in the judge's environment (``python``; else
``vlmi compare``'s own) on the judge's ``gpus`` (else, as for a model, none when
it needs no GPU and every GPU when it does), in a process group led as a
pair's is (:mod:`.pair_process`): it dies with the driver, and its answers are
cached as they come, so a rerun scores only what is left.

While a pair waits for its judge, its status says ``"scoring": "pending"``; a
rerun after the driver was killed scores such pairs again (the model does not
run). The job's output goes to ``OUTPUT/judges/<judge>.log``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._judge.spec import SECRET_OPTIONS
from .judges import JudgeEntry, identity_of
from .layout import Pair, read_json, write_json
from .pair_process import end_group, poll_group, spawn, stop_group
from .plan import slug

PENDING = "pending"


def judge_key(judge: JudgeEntry) -> str:
    """A file-name-safe key of the judge and where it runs (its jobs' files; one job per
    key at a time)."""
    text = json.dumps(asdict(judge), sort_keys=True, default=str)
    return f"{slug(judge.name)}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def judge_folder(output: Path) -> Path:
    """Where the judge jobs keep their lists and logs."""
    return output / "judges"


def list_command(judge: JudgeEntry, listing: Path, python: str) -> list[str]:
    """``vlmi score --list`` of ``listing`` with ``judge``, by ``python``."""
    return [python, "-m", "vlmi", "score", "--list", str(listing), *judge.flags()]


def list_entry(pair: Pair) -> dict[str, Any]:
    """The pair as a line of ``vlmi score --list``."""
    entry = {
        "predictions": str(pair.predictions),
        "dataset_file": str(pair.dataset.path),
        "dataset_name": pair.dataset.name,
        "output": str(pair.scores_file),
    }
    return entry | ({"dataset_type": pair.dataset.type} if pair.dataset.type else {})


def _shown(command: list[str]) -> str:
    """The command for the log, credentials left out."""
    import shlex

    shown = [
        f"{part.split('=', 1)[0]}=***" if part.split("=", 1)[0] in SECRET_OPTIONS else part
        for part in command
    ]
    return " ".join(shlex.quote(part) for part in shown)


@dataclass
class JudgeJob:
    """A started judge job: the judge, the pairs it scores, its process group and log."""

    judge: JudgeEntry
    pairs: list[Pair]
    process: Any  # subprocess.Popen[bytes]
    log: Path
    offset: int
    started: float = field(default_factory=time.monotonic)

    def poll(self) -> int | None:
        """The job's exit status once it ended (then nothing of its group is left)."""
        return poll_group(self.process)

    def stop(self) -> None:
        """End the job and everything it started."""
        stop_group(self.process)

    def finish(self) -> dict[str, str | None]:
        """Record each pair's scores or why it has none; by pair name, the error or None."""
        end_group(self.process)
        output = self._output()
        errors: dict[str, str | None] = {}
        for pair in self.pairs:
            scored = isinstance(read_json(pair.scores_file), dict)
            error = None if scored else _why(pair, output)
            status = {k: v for k, v in (pair.status() or {}).items() if k != "score_error"}
            status.pop("scoring", None)
            status["judge"] = identity_of(self.judge)
            if error is not None:
                status["score_error"] = error
            write_json(pair.status_file, status)
            errors[pair.name] = error
        return errors

    def _output(self) -> list[str]:
        try:
            with self.log.open("rb") as handle:
                handle.seek(self.offset)
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return []
        lines = (line.strip() for line in text.splitlines())
        return [line for line in lines if line and not line.startswith("==")]


def _why(pair: Pair, output: list[str]) -> str:
    """Why ``vlmi score`` gave the pair no scores, from the job's output."""
    mine = f"{pair.predictions}: not scored: "
    for line in reversed(output):
        if line.startswith(mine):
            return line[len(mine) :][:300]
    last = output[-1][:300] if output else "no output"
    return f"`vlmi score` with the judge failed: {last}"


def mark_pending(pair: Pair) -> None:
    """The pair waits for its judge (a rerun scores it if the driver dies first)."""
    status = pair.status() or {}
    write_json(pair.status_file, {**status, "scoring": PENDING})


def pending(pair: Pair) -> bool:
    """The pair's predictions wait for its judge's scores."""
    return (pair.status() or {}).get("scoring") == PENDING


def start_judging(judge: JudgeEntry, pairs: list[Pair], output: Path, python: str) -> JudgeJob:
    """Start the judge job scoring ``pairs`` (earlier scores removed first: they would show
    scores of other predictions, or of another judge, if this one fails)."""
    folder = judge_folder(output)
    folder.mkdir(parents=True, exist_ok=True)
    key = judge_key(judge)
    listing, log = folder / f"{key}.list.jsonl", folder / f"{key}.log"
    listing.write_text("".join(json.dumps(list_entry(p)) + "\n" for p in pairs), encoding="utf-8")
    for pair in pairs:
        pair.scores_file.unlink(missing_ok=True)
    command = list_command(judge, listing, python)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if judge.gpus:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(judge.gpus)
    offset = log.stat().st_size if log.exists() else 0
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    names = ", ".join(p.name for p in pairs)
    header = f"== {stamp} vlmi compare scores {names}: {_shown(command)}\n"
    process = spawn(command, log, env, header)
    return JudgeJob(judge, pairs, process, log, offset)


__all__ = [
    "PENDING",
    "JudgeJob",
    "judge_folder",
    "judge_key",
    "list_command",
    "list_entry",
    "mark_pending",
    "pending",
    "start_judging",
]
