"""`vlmi run` holds an exclusive lock on its output: a second writer is refused by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

import vlmi
from vlmi._run.lock import OutputLockedError, hold_output, lock_path

from .conftest import run_vlmi


def write_input(folder):
    path = folder / "in.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "query": f"q {i}"}) + "\n" for i in range(4)))
    return path


def test_a_second_run_on_a_held_output_names_the_holder(tmp_path):
    source, output = write_input(tmp_path), tmp_path / "out.jsonl"
    with hold_output(output):
        assert lock_path(output).read_text().strip() == str(os.getpid())
        refused = run_vlmi("run", "echo", str(source), "-o", str(output), "-q")
        assert refused.returncode == 1
        assert f"is being written by another process (pid {os.getpid()})" in refused.stderr
        with pytest.raises(OutputLockedError, match=f"pid {os.getpid()}"):
            vlmi.run("echo", source, output, progress=False)
        assert not output.exists()  # refused before anything was written
    assert not lock_path(output).exists()
    done = vlmi.run("echo", source, output, progress=False)
    assert done.done == 4 and not lock_path(output).exists()


def test_the_lock_of_a_killed_writer_is_free_again(tmp_path):
    output = tmp_path / "out.jsonl"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from vlmi._run.lock import hold_output\n"
            f"with hold_output({str(output)!r}):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(OutputLockedError, match=f"pid {holder.pid}"), hold_output(output):
        pass
    holder.kill()
    holder.wait()
    started = time.monotonic()
    with hold_output(output):  # the kernel let go of the dead holder's lock
        assert lock_path(output).read_text().strip() == str(os.getpid())
    assert time.monotonic() - started < 5
