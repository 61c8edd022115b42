"""Fixtures: `vlmi serve echo` on loopback, and a scripted loopback endpoint.

The scripted endpoint is a plain HTTP server that answers chat completions
in OpenAI's shape (echoing the user's text), and can be told to answer the
first requests with an error status or to answer slowly; it records what it
received and how many requests were in flight at once.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from dataclasses import dataclass, field

import pytest

from vlmi.testing import make_picture
from vlmi_testkit.serving import start_server

#: the `gpu` marker and CUDA skips (vlmi-core's opt-in pytest plugin)
pytest_plugins = ["vlmi.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def echo_server():
    """`vlmi serve echo` on a free loopback port (loopback image URLs allowed)."""
    server = start_server("echo", "--allow-private-urls", "--max-wait-ms", "2")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    for seed, size in enumerate([(64, 48), (40, 30), (50, 20), (33, 90), (20, 20)]):
        path = folder / f"picture{seed}.png"
        make_picture(*size, seed=seed).save(path)
        paths.append(str(path))
    return paths


@dataclass
class ScriptedEndpoint:
    """What the scripted endpoint is told to do, and what it saw."""

    errors: list[int] = field(default_factory=list)  # statuses answered first, one per request
    delay: float = 0.0
    requests: list[dict] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""


def _user_text(body: dict) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "<image>") for p in content)


@pytest.fixture
def endpoint():
    script = ScriptedEndpoint()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                script.requests.append(body)
                script.in_flight += 1
                script.max_in_flight = max(script.max_in_flight, script.in_flight)
                status = script.errors.pop(0) if script.errors else 200
            try:
                time.sleep(script.delay)
                if status == 200:
                    payload = {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": _user_text(body)},
                                "finish_reason": "stop",
                            }
                        ],
                    }
                else:
                    payload = {
                        "error": {"message": f"scripted {status}", "type": "x", "code": None}
                    }
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("retry-after-ms", "5")  # keeps the client's backoff short
                self.end_headers()
                self.wfile.write(data)
            finally:
                with script.lock:
                    script.in_flight -= 1

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield script
    server.shutdown()
    server.server_close()
