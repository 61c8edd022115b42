"""A throwaway Ray cluster for tests and benchmarks: one head node on loopback, CPUs only.

Started with ``ray start --head --block`` in a process group of its own, on
free ports and in a temporary folder, so that it never meets another
cluster on the machine; stopping it ends that process group only.

Ray itself is not imported here: the head runs from the ``ray`` command next to
this interpreter (``vlmi-ray`` installs it). A driver that connects to the
cluster sets :data:`RAY_ENV` in its environment before importing Ray.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

#: Environment for the cluster and its drivers: no token file needed, no usage report, and
#: every Ray process on 127.0.0.1 (Ray's single-machine mode, named after macOS and Windows).
RAY_ENV = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalCluster:
    """``with LocalCluster(num_cpus=4) as cluster:`` then drivers use ``cluster.address``."""

    def __init__(self, num_cpus: int, startup_timeout: float = 180.0) -> None:
        self.num_cpus = num_cpus
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp_dir = tempfile.mkdtemp(prefix="ray-vlmi-")
        self.process: subprocess.Popen[str] | None = None
        self.log: list[str] = []

    def __enter__(self) -> LocalCluster:
        ray = Path(sys.executable).with_name("ray")
        if not ray.exists():
            raise RuntimeError(f"no {ray}: install Ray here (pip install vlmi-ray)")
        command = [
            str(ray), "start", "--head", "--block",
            f"--port={self.port}",
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={self.num_cpus}",
            "--num-gpus=0",
            f"--temp-dir={self.temp_dir}",
            "--include-dashboard=false",
            f"--dashboard-port={free_port()}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            f"--object-store-memory={200 * 1024 * 1024}",
            "--disable-usage-stats",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **RAY_ENV},
            start_new_session=True,
        )
        started = threading.Event()

        def read() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                self.log.append(line)
                if "Ray runtime started" in line:
                    started.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while not started.wait(0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Ray head did not start:\n" + "".join(self.log[-40:]))
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the head and every process of its group; remove its folder."""
        process = self.process
        if process is not None:
            for sig in (signal.SIGTERM, signal.SIGKILL):  # the head's own group: no other cluster
                try:
                    os.killpg(process.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            self.process = None
        shutil.rmtree(self.temp_dir, ignore_errors=True)


__all__ = ["RAY_ENV", "LocalCluster", "free_port"]
