"""One writer per output file: ``vlmi run`` holds an exclusive lock on ``OUTPUT.lock``.

The lock is :func:`fcntl.flock` on a sidecar file that holds the owner's
process id, so a second run on the same output is refused with the id of the
process that writes it. The kernel drops the lock when its holder dies, even
by SIGKILL, so a crashed run never leaves a stale lock. On systems without
``fcntl`` (Windows) no lock is taken.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from vlmi.errors import VlmiError

F = TypeVar("F", bound=Callable[..., Any])


class OutputLockedError(VlmiError):
    """Another process is writing the same output file."""


def lock_path(output: Path) -> Path:
    """The sidecar lock file of ``output``."""
    return output.with_name(output.name + ".lock")


@contextmanager
def hold_output(output: str | Path) -> Iterator[None]:
    """Hold the exclusive lock on ``output`` for the block; raise if another process has it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = lock_path(Path(output))
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise OutputLockedError(
                f"{output} is being written by another process (pid {holder}); wait for it to "
                "end, or write elsewhere with -o"
            ) from None
        try:  # the file we locked may have been removed by its last holder meanwhile
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        try:
            path.unlink()  # while still holding it: a waiting opener sees a new file
        except FileNotFoundError:
            pass
        os.close(fd)


def locks_output(function: F) -> F:
    """Decorate a run function: its ``output`` argument is locked while it runs."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        output = signature.bind(*args, **kwargs).arguments["output"]
        with hold_output(output):
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


__all__ = ["OutputLockedError", "hold_output", "lock_path", "locks_output"]
