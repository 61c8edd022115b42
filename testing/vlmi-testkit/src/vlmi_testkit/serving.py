"""Run ``vlmi serve`` in a child process for tests (needs vlmi-serve installed).

>>> with served_model("echo", "--allow-private-urls") as base_url:  # doctest: +SKIP
...     openai.OpenAI(base_url=base_url, api_key="none").models.list()

The server listens on 127.0.0.1 at a free port; the context manager waits
until ``/health`` answers, and on exit stops the server with SIGTERM (the
graceful path: in-flight requests finish) and waits for it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

_READY = re.compile(r"vlmi serve: .* at (http://\S+/v1)")


@dataclass
class ServerProcess:
    """A running ``vlmi serve`` child: its process, base URL and everything it logged."""

    process: subprocess.Popen[str]
    base_url: str = ""
    log: list[str] = field(default_factory=list)

    @property
    def root(self) -> str:
        """The URL without ``/v1`` (for ``/health``)."""
        return self.base_url[: -len("/v1")]

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait; the exit status (killed after ``timeout``)."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_server(
    model: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120.0
) -> ServerProcess:
    """Start ``vlmi serve MODEL ARGS --port 0`` and wait until it answers ``/health``."""
    command = [sys.executable, "-m", "vlmi", "serve", model, "--port", "0", *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    server = ServerProcess(process)
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            server.log.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while not server.base_url:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise RuntimeError("vlmi serve did not start:\n" + "".join(server.log))
            found = _READY.search(line)
            if found:
                server.base_url = found.group(1)
        _wait_healthy(server, deadline)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_healthy(server: ServerProcess, deadline: float) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    while True:
        try:
            with opener.open(server.root + "/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("vlmi serve did not become healthy:\n" + "".join(server.log))
        time.sleep(0.05)


@contextlib.contextmanager
def served_model(
    model: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120.0
) -> Iterator[str]:
    """``vlmi serve MODEL ARGS`` for the duration of a ``with`` block; yields the base URL."""
    server = start_server(model, *args, env=env, timeout=timeout)
    try:
        yield server.base_url
    finally:
        server.stop()


__all__ = ["ServerProcess", "served_model", "start_server"]
