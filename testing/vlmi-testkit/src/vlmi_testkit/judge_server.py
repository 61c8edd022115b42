"""A scripted judge: an OpenAI-compatible chat-completions endpoint on loopback.

It answers each request from a marker in the prompt: ``JUDGE=<spec>`` (the
last one in the text), where ``<spec>`` is looked up in ``table`` (if there)
and is then ``reply0|reply1|...``: the reply for attempt ``i``, told by the
request's temperature (``0.5 * i``, as VLMEvalKit's judges retry), the last
one repeated. A reply ``!503`` (any status) answers with that HTTP error
instead; ``_`` in a reply stands for a space. A prompt without a marker gets
``Hello``. ``fail_after = N`` makes every request after the first N answer
503 (a judge going down mid-run).

The server measures its own handling time per request
(:attr:`JudgeServer.handling_seconds`), so a benchmark can tell the client's
overhead from the server's.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MARKER = re.compile(r"JUDGE=(\S+)")


@dataclass
class JudgeRequest:
    """What one request held."""

    prompt: str
    temperature: float
    max_tokens: int | None


@dataclass
class JudgeServer:
    """The scripted judge; :meth:`start` it (or use it as a context manager)."""

    table: Mapping[str, str] = field(default_factory=dict)
    fail_after: int | None = None
    requests: list[JudgeRequest] = field(default_factory=list)
    handling_seconds: float = 0.0
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: Any = None

    def reply_for(self, prompt: str, temperature: float) -> tuple[int, str]:
        """``(HTTP status, reply text)`` for a prompt at a temperature."""
        found = MARKER.findall(prompt)
        if not found:
            return 200, "Hello"
        spec = self.table.get(found[-1], found[-1])
        replies = spec.split("|")
        reply = replies[min(round(temperature / 0.5), len(replies) - 1)].replace("_", " ")
        if reply.startswith("!") and reply[1:].isdigit():
            return int(reply[1:]), ""
        return 200, reply

    def handle(self, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """The status and JSON answer for one chat-completions request body."""
        content = body["messages"][-1]["content"]
        prompt = (
            content
            if isinstance(content, str)
            else "".join(p.get("text", "") for p in content if isinstance(p, dict))
        )
        temperature = float(body.get("temperature") or 0.0)
        tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        with self.lock:
            self.requests.append(JudgeRequest(prompt, temperature, tokens))
            down = self.fail_after is not None and len(self.requests) > self.fail_after
        status, reply = (503, "") if down else self.reply_for(prompt, temperature)
        if status != 200:
            return status, {"error": {"message": f"scripted {status}", "type": "x", "code": None}}
        return 200, {
            "id": "chatcmpl-judge",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "judge"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": "stop",
                }
            ],
        }

    def start(self) -> JudgeServer:
        """Serve on a free loopback port, in a daemon thread; sets :attr:`base_url`."""
        script = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms stalls)

            def do_POST(self) -> None:
                started = time.perf_counter()
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, payload = script.handle(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("retry-after-ms", "5")  # keeps the client's backoff short
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (a test killed it)
                with script.lock:
                    script.handling_seconds += time.perf_counter() - started

            def log_message(self, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        return self

    def stop(self) -> None:
        """Stop serving and close the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> JudgeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["MARKER", "JudgeRequest", "JudgeServer"]
