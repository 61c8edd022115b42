"""The judge's answers on disk: one JSON line per answer, appended as each arrives.

A line is ``{"key": ..., "reply": ...}``; the key is the SHA-256 of the judge's
identity, the prompt and the attempt's sampling settings. A line cut off by a
crash is ignored, so a rerun reads every answer that was finished.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def request_key(identity: Mapping[str, Any], prompt: str, sampling: Mapping[str, Any]) -> str:
    """The cache key of one judge request."""
    text = json.dumps([identity, prompt, sampling], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AnswerCache:
    """Judge answers by key, read from and appended to ``path``."""

    def __init__(self, path: Path, *, drop: bool = False) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.answers: dict[str, str] = {}
        if drop:
            path.unlink(missing_ok=True)
        elif path.is_file():
            with path.open("r", encoding="utf-8") as handle:
                for line in handle:
                    try:
                        entry = json.loads(line)
                        self.answers[str(entry["key"])] = str(entry["reply"])
                    except (json.JSONDecodeError, KeyError, TypeError):
                        continue  # a line cut off by a crash

    def get(self, key: str) -> str | None:
        """The cached answer, or None."""
        return self.answers.get(key)

    def put(self, key: str, reply: str) -> None:
        """Keep an answer, on disk at once (a line flushed per answer)."""
        line = json.dumps({"key": key, "reply": reply}, ensure_ascii=False) + "\n"
        with self.lock:
            self.answers[key] = reply
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)


__all__ = ["AnswerCache", "request_key"]
