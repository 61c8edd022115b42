"""The progress display: tqdm on a terminal, plain lines elsewhere, one at a time, thread-safe."""

from __future__ import annotations

import io
import sys
import threading

from vlmi._progress import Progress, progress_shown


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_off_a_terminal_carry_counts_rate_and_failures():
    stream = io.StringIO()
    with Progress(4, label="vlmi run", stream=stream, interval=0.0) as bar:
        bar.update(3, 1)
        bar.update(1)
    lines = stream.getvalue().splitlines()
    assert lines and all("\r" not in line for line in lines)
    assert lines[-1].startswith("vlmi run:") and "4/4" in lines[-1] and "1 failed" in lines[-1]


def test_a_terminal_gets_a_tqdm_bar():
    stream = Terminal()
    with Progress(10, label="vlmi run", stream=stream) as bar:
        bar.update(10, 2)
    shown = stream.getvalue()
    assert "\r" in shown and "10/10" in shown and "2 failed" in shown


def test_only_one_display_at_a_time():
    outer_stream, inner_stream = io.StringIO(), io.StringIO()
    with Progress(2, label="outer", stream=outer_stream, interval=0.0) as outer:
        inner = Progress(2, label="inner", stream=inner_stream, interval=0.0)
        inner.update(2)
        inner.close()
        outer.update(2)
        assert inner.done == 2  # it still counts
    assert inner_stream.getvalue() == "" and "outer" in outer_stream.getvalue()
    assert not progress_shown()


def test_updates_from_two_threads_are_each_shown_whole():
    """The runner's prefetch thread and main thread both update; the lock keeps lines whole."""
    import re

    stream = io.StringIO()
    bar = Progress(None, label="vlmi run", stream=stream, interval=0.0)
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to expose a race
    try:
        threads = [
            threading.Thread(target=lambda: [bar.update(1, 1) for _ in range(3000)])
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(before)
    lines = stream.getvalue().splitlines()
    assert (bar.done, bar.failed) == (6000, 6000)
    assert len(lines) == 6000  # none lost to a race on the last-shown time
    for line in lines:
        done = re.match(r"vlmi run: (\d+)", line)
        failed = re.search(r"(\d+) failed", line)
        assert done and failed and done.group(1) == failed.group(1), line
    bar.close()


def test_disabled_shows_nothing():
    stream = io.StringIO()
    with Progress(3, enabled=False, stream=stream, interval=0.0) as bar:
        bar.update(3)
    assert stream.getvalue() == ""
