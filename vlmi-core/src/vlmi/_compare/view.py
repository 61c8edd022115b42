"""The progress of every pair: one line each, redrawn in place on a terminal.

Elsewhere (a log file, CI) each change of state is one plain line, and a
running pair's count every ``interval`` seconds.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from .layout import Pair
from .pair_process import Running


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def running_text(run: Running) -> str:
    """``running 12/40 3.1 samples/s ETA 9s`` (rate and ETA once answers come)."""
    total = f"/{run.total}" if run.total is not None else ""
    text = f"running {run.records}{total}"
    rate = run.rate()
    if rate is not None:
        text += f" {rate:.1f} samples/s"
        if run.total is not None:
            text += f" ETA {_duration(max(run.total - run.records, 0) / rate)}"
    elif not run.records:
        text += f" (starting, {_duration(time.monotonic() - run.started)})"
    return text


class View:
    """One line per pair: queued, running (samples/s, ETA), done or failed."""

    def __init__(
        self,
        pairs: Sequence[Pair],
        stream: TextIO | None = None,
        live: bool | None = None,
        interval: float = 30.0,
    ) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.names = [pair.name for pair in pairs]
        self.width = max((len(name) for name in self.names), default=0)
        self.states = dict.fromkeys(self.names, "queued")
        self.interval = interval
        self.last_plain: dict[str, float] = {}
        self.drawn = 0

    def set(self, pair: Pair, text: str) -> None:
        """The pair's state now (a plain line when its first word changes)."""
        before = self.states[pair.name]
        self.states[pair.name] = text
        if self.live:
            return
        changed = before.split()[:1] != text.split()[:1]
        now = time.monotonic()
        if changed or now - self.last_plain.get(pair.name, now) >= self.interval:
            self.last_plain[pair.name] = now
            print(f"{pair.name}: {text}", file=self.stream, flush=True)

    def draw(self) -> None:
        """Redraw every line in place (terminal only)."""
        if not self.live:
            return
        out = [f"\x1b[{self.drawn}F"] if self.drawn else []
        columns = shutil.get_terminal_size().columns - 1  # a wrapped line would break the redraw
        for name in self.names:
            line = f"{name.ljust(self.width)}  {self.states[name]}"
            out.append(f"\x1b[2K{line[:columns]}\n")
        self.stream.write("".join(out))
        self.stream.flush()
        self.drawn = len(self.names)


__all__ = ["View", "running_text"]
