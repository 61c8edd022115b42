"""Progress on stderr, one display at a time: a tqdm bar on a terminal, plain lines otherwise.

tqdm is imported only when a bar is shown, so ``import vlmi`` stays light.
At most one :class:`Progress` shows at a time: one opened while another
shows (a plugin's chunks inside ``vlmi run``) counts silently, and engines
are told, through :func:`progress_shown`, to keep their own bars off.
Updates may come from several threads; a lock keeps the counts whole.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

_lock = threading.Lock()
_shown: Progress | None = None


def progress_shown() -> bool:
    """Whether a vlmi progress display is on screen (an engine's own bar would nest in it)."""
    return _shown is not None


class Progress:
    """Counts done and failed samples; shows rate, ETA and failures.

    On a terminal, a tqdm bar redrawn in place; elsewhere a plain tqdm status
    line every ``interval`` seconds. Use as a context manager or call
    :meth:`close`.
    """

    def __init__(
        self,
        total: int | None,
        *,
        label: str = "vlmi run",
        enabled: bool = True,
        stream: TextIO | None = None,
        interval: float = 10.0,
    ) -> None:
        global _shown
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.done = 0
        self.failed = 0
        self.started = time.perf_counter()
        self._last_line = self.started
        self._bar: Any = None
        self.note = ""
        self._count_lock = threading.Lock()
        with _lock:
            self.enabled = enabled and _shown is None
            if self.enabled:
                _shown = self
        if self.enabled and _isatty(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=label, unit="sample", file=self.stream, dynamic_ncols=True
            )
            self._bar.set_postfix_str("0 failed", refresh=False)

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.started

    @property
    def rate(self) -> float:
        """Samples per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def set_note(self, note: str) -> None:
        """Show ``note`` after the failure count (e.g. the throughput of each replica)."""
        with self._count_lock:
            self.note = note
            if self.enabled and self._bar is not None:
                self._bar.set_postfix_str(self._postfix(), refresh=False)

    def _postfix(self) -> str:
        return f"{self.failed} failed" + (f", {self.note}" if self.note else "")

    def update(self, done: int, failed: int = 0) -> None:
        """Count more finished samples (``failed`` of them failed); safe from any thread."""
        with self._count_lock:
            self.done += done
            self.failed += failed
            if not self.enabled:
                return
            if self._bar is not None:
                if failed:
                    self._bar.set_postfix_str(self._postfix(), refresh=False)
                self._bar.update(done)
                return
            now = time.perf_counter()
            if now - self._last_line >= self.interval:
                self._last_line = now
                self._write_line()

    def line(self) -> str:
        """The current status as one plain line (tqdm's format plus the failure count)."""
        from tqdm import tqdm

        meter = tqdm.format_meter(
            self.done, self.total, self.elapsed, prefix=self.label, unit="sample", ncols=0
        )
        return f"{meter}, {self._postfix()}"

    def _write_line(self) -> None:
        self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Show the final state and give the screen back."""
        global _shown
        with self._count_lock:
            if not self.enabled:
                return
            self.enabled = False
            if self._bar is not None:
                self._bar.set_postfix_str(self._postfix(), refresh=False)
                self._bar.close()
            else:
                self._write_line()
        with _lock:
            if _shown is self:
                _shown = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = ["Progress", "progress_shown"]
