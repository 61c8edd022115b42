"""One pair as a ``vlmi run`` child process of the model's own Python.

The child's stdout and stderr go to the log beside its predictions. It runs
in a process group of its own, led by a small process of the driver's Python
(:mod:`.group_leader`) that everything the run starts (an engine's workers)
belongs to. The whole group ends with the pair: when its leader exits, for
whatever reason (an out-of-memory kill too), the driver kills what is left
of the group; when the driver stops the pair or exits, it ends the group.
On Linux the kernel tells the leader when the driver dies
(``PR_SET_PDEATHSIG``), even by SIGKILL, and the leader ends the group, so no
run is left behind writing; on other systems only a driver that exits
normally or by a signal it can catch ends its children.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import group_leader
from .environments import option_flags
from .layout import Pair

_FLAGS = {
    "max_new_tokens": "--max-new-tokens",
    "temperature": "--temperature",
    "top_p": "--top-p",
    "top_k": "--top-k",
    "seed": "--seed",
}
_PR_SET_PDEATHSIG = 1


def run_command(pair: Pair, retry_failed: bool = False) -> list[str]:
    """The ``vlmi run`` command line of ``pair`` (``retry_failed``: with ``--retry-failed``)."""
    model, dataset = pair.model, pair.dataset
    command = [model.python, "-m", "vlmi", "run", model.name, str(dataset.path)]
    command += ["-o", str(pair.predictions), "-q"]
    if model.batch_size is not None:  # else the model's preferred chunk
        command += ["-b", str(model.batch_size)]
    if retry_failed:
        command.append("--retry-failed")
    if dataset.scored:
        command += ["--dataset-name", dataset.name]
    if dataset.type:
        command += ["--dataset-type", dataset.type]
    command += option_flags(model.load_options)  # --plugin, -O: as the environment resolved it
    for key, value in model.generation.items():
        if key == "stop":
            for text in [value] if isinstance(value, str) else value:
                command += ["--stop", str(text)]
        else:
            command += [_FLAGS[key], str(value)]
    return command


def _die_with(parent: int) -> Callable[[], None] | None:
    """The child's pre-exec step: SIGTERM when the driver dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None

    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)  # the leader then ends its group
        if os.getppid() != parent:  # the driver died before the line above
            os._exit(1)

    return preexec


@dataclass
class Running:
    """A started pair: its process and how many records its output holds."""

    pair: Pair
    process: subprocess.Popen[bytes]
    total: int | None
    started: float = field(default_factory=time.monotonic)
    records: int = 0
    initial: int = 0
    first_records: int | None = None
    first_seen: float = 0.0
    _offset: int = 0

    def poll_records(self) -> int:
        """Count the records written so far (reading only what was added)."""
        path = self.pair.predictions
        try:
            size = path.stat().st_size
        except OSError:
            return self.records
        if size < self._offset:  # the run cut off a half-written last line
            self._offset, self.records = 0, 0
        if size > self._offset:
            with path.open("rb") as handle:
                handle.seek(self._offset)
                added = handle.read(size - self._offset)
            complete = added.rfind(b"\n") + 1
            self.records += added[:complete].count(b"\n")
            self._offset += complete
        if self.first_records is None and self.records > self.initial:
            # the first records seen: the model is up; rates count from here
            self.first_records, self.first_seen = self.records, time.monotonic()
        return self.records

    def rate(self) -> float | None:
        """Samples per second since the model's first answers."""
        if self.first_records is None:
            return None
        took = time.monotonic() - self.first_seen
        done = self.records - self.first_records
        return done / took if took > 0.5 and done > 0 else None

    def overall_rate(self) -> float | None:
        """Samples answered in this run per second of its whole time (start-up included)."""
        took = time.monotonic() - self.started
        done = self.records - self.initial
        return done / took if done > 0 and took > 0 else None

    def poll(self) -> int | None:
        """The run's exit status once its leader has exited (``None`` before); then nothing of
        its process group is left running."""
        return poll_group(self.process)

    def end_group(self) -> None:
        """Kill whatever is left of the run's process group (its leader has exited)."""
        end_group(self.process)

    def stop(self, grace_s: float = 5.0) -> None:
        """End the run and everything it started (its process group)."""
        stop_group(self.process, grace_s)


def poll_group(process: subprocess.Popen[bytes]) -> int | None:
    """The exit status of a group's leader once it exited (then the rest of the group is
    killed); ``None`` before."""
    code = process.poll()
    if code is not None:
        end_group(process)
    return code


def end_group(process: subprocess.Popen[bytes]) -> None:
    """Kill whatever is left of the process group ``process`` led (it has exited)."""
    try:
        # the group's id cannot be reused while any process of the group is alive
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(process: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """End the process group ``process`` leads: SIGTERM, then SIGKILL after ``grace_s``."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    end_group(process)


def child_env(pair: Pair, base: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: the driver's, with the model's GPUs (when it names any)."""
    env = dict(base, PYTHONUNBUFFERED="1")
    if pair.model.gpus:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(pair.model.gpus)
    return env


def start(
    pair: Pair,
    total: int | None,
    command: Sequence[str] | None = None,
    retry_failed: bool = False,
) -> Running:
    """Start ``vlmi run`` for ``pair`` (or ``command`` in its place), its log appended to beside
    its predictions, in a process group of its own (see the module's text); ``retry_failed``:
    the run answers its failures of the moment again (``--retry-failed``)."""
    pair.log.parent.mkdir(parents=True, exist_ok=True)
    command = list(command) if command is not None else run_command(pair, retry_failed)
    began = time.monotonic()
    before = Running(pair, None, total)  # type: ignore[arg-type]
    before.poll_records()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    header = f"== {stamp} vlmi compare runs: {_shell(command)}\n"
    process = spawn(command, pair.log, child_env(pair, os.environ), header)
    run = Running(pair, process, total, started=began)
    run.records = run.initial = before.records  # a resumed run keeps these
    run._offset = before._offset
    return run


def spawn(
    command: Sequence[str], log: Path, env: Mapping[str, str], header: str
) -> subprocess.Popen[bytes]:
    """Start ``command`` under a group leader in a process group of its own (see the module's
    text), its output appended to ``log`` after the line ``header``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        handle.write(header.encode())
        handle.flush()
        return subprocess.Popen(
            [sys.executable, "-I", group_leader.__file__, *command],
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=dict(env),
            start_new_session=True,
            preexec_fn=_die_with(os.getpid()),  # the driver starts no threads
        )


def last_error(log: Path) -> str:
    """The last meaningful line of a run's log (its error)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines):
        text = line.strip()
        if text and not text.startswith("=="):
            return text[:300]
    return "no output"


def _shell(command: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(part) for part in command)


__all__ = [
    "Running",
    "child_env",
    "end_group",
    "last_error",
    "poll_group",
    "run_command",
    "spawn",
    "start",
    "stop_group",
]
