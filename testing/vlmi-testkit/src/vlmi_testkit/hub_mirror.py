"""A real Hugging Face mirror on loopback for download tests: olah, offline, over local git repos.

:class:`OlahMirror` starts ``olah-cli`` (``pip install olah``; it brings FastAPI,
so it belongs in the test environment of a plugin, never in vlmi-core's) on a
free port of 127.0.0.1 with ``[accessibility] offline = true`` and
``mirrors-path`` pointing at git repositories made by :func:`add_repo` under
``<root>/mirrors/models/<org>/<name>``. Point a client at it with
``HF_ENDPOINT=mirror.url``. :meth:`OlahMirror.requests` reads the server's own
access log, so a test can tell which files were asked for.

:class:`CuttingProxy` stands between client and mirror (``HF_ENDPOINT=proxy.url``):
it forwards every request, records each (method, path, ``Range`` header,
status, bytes sent), and can close the connection after N bytes of a file's
body, declaring the whole length first, as a dropped connection does, or stall
there (:meth:`CuttingProxy.stall`) until the test has stopped the client. With
``honour_range``, it answers a ``Range`` request that the mirror answered with
the whole file (olah does) with ``206`` and the requested part, as a server
that honours ``Range`` does.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from vlmi_testkit.ray_cluster import free_port

_ACCESS = re.compile(r'"(GET|HEAD) (\S+) HTTP/1\.1" (\d{3})')


def add_repo(root: Path, repo_id: str, files: Mapping[str, bytes | Path]) -> Path:
    """A git repository ``repo_id`` (``org/name``) under ``root/mirrors/models``, one commit.

    ``files`` maps paths in the repository to their bytes, or to a file or
    folder to copy (a folder's files keep their relative paths).
    """
    folder = root / "mirrors" / "models" / repo_id
    folder.mkdir(parents=True)
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path) and content.is_dir():
            shutil.copytree(content, target, dirs_exist_ok=True)
        elif isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
    git = ["git", "-C", str(folder), "-c", "user.name=vlmi", "-c", "user.email=vlmi@localhost"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "checkpoint"], check=True)
    return folder


class OlahMirror:
    """olah serving the repositories under ``root/mirrors``, offline, on 127.0.0.1."""

    def __init__(self, root: Path, *, start_timeout: float = 60.0) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root / "olah-logs" / "olah.log"
        self._timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> OlahMirror:
        config = self.root / "olah.toml"
        config.write_text(
            "[basic]\n"
            'host = "127.0.0.1"\n'
            f"port = {self.port}\n"
            f'repos-path = "{self.root / "olah-cache"}"\n'
            f'mirrors-path = ["{self.root / "mirrors"}"]\n'
            "[accessibility]\n"
            "offline = true\n",
            encoding="utf-8",
        )
        command = Path(sys.executable).with_name("olah-cli")
        if not command.exists():
            raise RuntimeError(f"olah is not installed next to {sys.executable}: pip install olah")
        self._output = open(self.root / "olah.out", "wb")  # closed in __exit__
        self._process = subprocess.Popen(
            [str(command), "-c", str(config), "--log-path", str(self.log.parent)],
            cwd=self.root,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"olah exited: {(self.root / 'olah.out').read_text()[-2000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/api/whoami-v2")
                connection.getresponse().read()
                return self
            except OSError:
                time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"olah did not answer on {self.url} within {self._timeout:.0f} s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._output.close()

    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request the server logged so far, in order."""
        if not self.log.exists():
            return []
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [(m.group(1), m.group(2), int(m.group(3))) for m in _ACCESS.finditer(text)]


@dataclass
class Forwarded:
    """One request through the proxy."""

    method: str
    path: str
    range: str | None
    status: int
    sent: int
    cut: bool


@dataclass
class CuttingProxy:
    """A loopback HTTP proxy in front of ``upstream`` that can cut a file's body short."""

    upstream_port: int
    #: requests whose path ends with ``cut_suffix`` lose their connection after ``cut_after`` bytes
    cut_suffix: str = ""
    cut_after: int = 0
    #: how many such requests to cut (then they pass whole)
    cuts_left: int = 0
    honour_range: bool = False
    log: list[Forwarded] = field(default_factory=list)
    #: set once a stalled request has sent its bytes
    stalled: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._stall_next = False
        self._release = threading.Event()

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def cut(self, suffix: str, after: int, times: int = 1, *, honour_range: bool = False) -> None:
        """Cut the next ``times`` requests for paths ending with ``suffix`` after N bytes."""
        with self._lock:
            self.cut_suffix, self.cut_after, self.cuts_left = suffix, after, times
            self.honour_range = honour_range
            self.log.clear()
            self._stall_next = False

    def stall(self, suffix: str, after: int) -> None:
        """Send ``after`` bytes of the next request for ``suffix``, set :attr:`stalled`, then
        hold the connection open until :meth:`release` (or the proxy stops)."""
        self.cut(suffix, after, 1)
        self.stalled.clear()
        self._release.clear()
        self._stall_next = True

    def release(self) -> None:
        """Let a stalled request end (its connection closes)."""
        self._release.set()

    def _take_cut(self, path: str) -> int | None:
        with self._lock:
            if self.cuts_left > 0 and self.cut_suffix and path.endswith(self.cut_suffix):
                self.cuts_left -= 1
                return self.cut_after
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                upstream.request(self.command, self.path, headers=headers)
                response = upstream.getresponse()
                body = response.read()
                upstream.close()
                status, wanted = response.status, self.headers.get("Range")
                reply_headers = [
                    (k, v)
                    for k, v in response.getheaders()
                    if k.lower() not in {"transfer-encoding", "content-length", "connection"}
                ]
                if proxy.honour_range and wanted and status == 200 and self.command == "GET":
                    start = int(re.match(r"bytes=(\d+)-", wanted).group(1))  # type: ignore[union-attr]
                    total = len(body)
                    body = body[start:]
                    status = 206
                    reply_headers.append(("Content-Range", f"bytes {start}-{total - 1}/{total}"))
                length = len(body)
                if self.command == "HEAD":
                    length = int(response.getheader("Content-Length") or 0)
                    body = b""
                cut = self._cut_at(body)
                self.send_response(status)
                for key, value in reply_headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                sent = body if cut is None else body[:cut]
                self.wfile.write(sent)
                self.wfile.flush()
                with proxy._lock:
                    proxy.log.append(
                        Forwarded(
                            self.command, self.path, wanted, status, len(sent), cut is not None
                        )
                    )
                if cut is not None and proxy._stall_next:
                    proxy._stall_next = False
                    proxy.stalled.set()
                    proxy._release.wait(timeout=120)
                if cut is not None:
                    self.close_connection = True
                    with contextlib.suppress(OSError):  # the client may have gone already
                        self.connection.shutdown(socket.SHUT_RDWR)

            def _cut_at(self, body: bytes) -> int | None:
                if self.command != "GET":
                    return None
                after = proxy._take_cut(self.path)
                return None if after is None or after >= len(body) else after

            do_GET = _forward
            do_HEAD = _forward

        return Handler


def fresh_hub_env(root: Path, endpoint: str, **extra: str) -> dict[str, str]:
    """``os.environ`` with a new, empty Hugging Face home under ``root`` and ``HF_ENDPOINT``."""
    home = Path(tempfile.mkdtemp(prefix="hf-home-", dir=root))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELSCOPE_"))}
    env.update(HF_HOME=str(home), HF_ENDPOINT=endpoint, HF_HUB_DISABLE_TELEMETRY="1", **extra)
    return env


__all__ = ["CuttingProxy", "Forwarded", "OlahMirror", "add_repo", "fresh_hub_env"]
