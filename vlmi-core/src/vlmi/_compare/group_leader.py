"""The leader of a pair's process group: runs its command, and ends the group when told to.

Started by :func:`vlmi._compare.pair_process.start` as a script (the
standard library only, nothing of vlmi is imported), with the command after
it, in a new process group that the command and everything it starts share.
It exits as the command does. On SIGTERM, SIGINT or SIGHUP (on Linux the
kernel sends SIGTERM when ``vlmi compare`` dies, even by SIGKILL) it passes
SIGTERM to the whole group, waits a few seconds for the command, then kills
the group (itself included). The driver kills the group once the leader has
exited, so workers the command left behind never outlive the pair.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRACE_S = 5.0


def main(command: list[str]) -> int:
    """Run ``command`` in this process group; its exit status (a signal's death as itself)."""
    stop_by: list[float] = []

    def stop(signum: int, frame: object) -> None:
        if not stop_by:
            stop_by.append(time.monotonic() + GRACE_S)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.killpg(0, signal.SIGTERM)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    if stop_by:  # told to stop while starting
        return 128 + signal.SIGTERM
    child = subprocess.Popen(command)
    while True:
        try:
            code = child.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            if stop_by and time.monotonic() > stop_by[0]:
                os.killpg(0, signal.SIGKILL)
    if stop_by:
        os.killpg(0, signal.SIGKILL)  # what the command left behind, and this process
    if code < 0:  # the command died by a signal: so does this process, for the driver to see
        if -code not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
