"""A small progress display: a live bar on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Counts done and failed samples; shows rate, ETA and failures.

    On a terminal the bar is redrawn in place (at most 10 times a second);
    elsewhere a line is printed every ``interval`` seconds.
    """

    def __init__(
        self,
        total: int | None,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float = 10.0,
        label: str = "vlmi run",
    ) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.live = enabled and self.stream.isatty()
        self.interval = interval if not self.live else 0.1
        self.label = label
        self.done = 0
        self.failed = 0
        self.started = time.perf_counter()
        self._last_shown = self.started

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.started

    @property
    def rate(self) -> float:
        """Samples per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def update(self, done: int, failed: int = 0) -> None:
        """Count more finished samples (``failed`` of them failed)."""
        self.done += done
        self.failed += failed
        now = time.perf_counter()
        if self.enabled and now - self._last_shown >= self.interval:
            self._last_shown = now
            self._show()

    def line(self) -> str:
        """The current status as one line."""
        rate = self.rate
        if self.total:
            share = min(1.0, self.done / self.total)
            width = 24
            filled = int(share * width)
            bar = "#" * filled + "-" * (width - filled)
            left = (self.total - self.done) / rate if rate > 0 else 0.0
            head = f"{share:4.0%} |{bar}| {self.done}/{self.total}"
            eta = f", ETA {_clock(left)}" if rate > 0 else ""
        else:
            head, eta = f"{self.done}", ""
        return (
            f"{self.label}: {head} [{rate:.1f} samples/s{eta}, "
            f"{self.failed} failed, {_clock(self.elapsed)} elapsed]"
        )

    def _show(self) -> None:
        if self.live:
            self.stream.write("\r\033[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self._show()
            if self.live:
                self.stream.write("\n")
                self.stream.flush()


__all__ = ["Progress"]
