"""The OpenAI chat-completions shapes ``vlmi serve`` speaks, and their mapping onto vlmi.

A request's messages become one :class:`vlmi.Sample`: the system message's
text first, then the user message's text and image parts in their order
(``image_url`` parts hold ``http(s)`` URLs or ``data:`` URIs). Its
parameters become :class:`vlmi.GenerationOptions`: ``max_completion_tokens``
(or the older ``max_tokens``) -> ``max_new_tokens``, ``temperature``,
``top_p``, ``seed``, ``stop``, and ``top_k`` as an extension (as vLLM takes
it). A parameter vlmi cannot honour (``n`` > 1, penalties, tools, logprobs,
a conversation with assistant turns) is refused with a 400, never ignored.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from vlmi.errors import InvalidOptionError, InvalidSampleError
from vlmi.plugin import ImagePart, Part, Sample, TextPart

#: parameters clients send that vlmi takes as harmless when present
_IGNORED = {"user", "stream_options", "store", "metadata", "service_tier"}


class ChatMessage(BaseModel):
    """One message of the conversation."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionRequest(BaseModel):
    """The body of ``POST /v1/chat/completions``."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage]
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int | None = None
    stream: bool | None = False

    def generation(self) -> dict[str, Any]:
        """The vlmi generation options this request sets (checked later by the model)."""
        unsupported = sorted(
            name
            for name, value in (self.model_extra or {}).items()
            if name not in _IGNORED and value not in (None, False, 0, [], {})
        )
        if unsupported:
            raise InvalidOptionError(
                f"unsupported parameter(s) {unsupported}; vlmi serve takes max_tokens, "
                "max_completion_tokens, temperature, top_p, top_k, seed, stop, n=1 and stream"
            )
        if self.n not in (None, 1):
            raise InvalidOptionError(f"n must be 1 (one answer per request), got {self.n}")
        options: dict[str, Any] = {}
        limit = self.max_completion_tokens if self.max_completion_tokens else self.max_tokens
        if limit is not None:
            options["max_new_tokens"] = limit
        for name in ("temperature", "top_p", "top_k", "seed", "stop"):
            value = getattr(self, name)
            if value is not None:
                options[name] = value
        return options

    def sample(self) -> Sample:
        """The conversation as one vlmi sample (system text first, then the user turn)."""
        parts: list[Part] = []
        users = 0
        for index, message in enumerate(self.messages):
            if message.role in ("system", "developer"):
                parts.extend(_parts(message, index, images=False))
            elif message.role == "user":
                users += 1
                parts.extend(_parts(message, index, images=True))
            else:
                raise InvalidSampleError(
                    f"message {index} has role {message.role!r}; vlmi serve answers one user "
                    "turn (optionally after system messages), without earlier assistant turns"
                )
        if users != 1:
            raise InvalidSampleError(
                f"the conversation has {users} user messages; send exactly one"
            )
        if not any(isinstance(p, ImagePart) or p.text.strip() for p in parts):
            raise InvalidSampleError("the messages hold no text and no image")
        return Sample(tuple(parts))


def _parts(message: ChatMessage, index: int, *, images: bool) -> list[Part]:
    content = message.content
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(content)]
    parts: list[Part] = []
    for position, item in enumerate(content):
        kind = item.get("type")
        where = f"message {index}, part {position}"
        if kind == "text" and isinstance(item.get("text"), str):
            parts.append(TextPart(item["text"]))
        elif kind == "image_url" and images:
            image = item.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str) or not url.strip():
                raise InvalidSampleError(f"{where}: image_url needs a 'url' string")
            if not url.lstrip()[:8].lower().startswith(("http://", "https://", "data:")):
                raise InvalidSampleError(
                    f"{where}: image URLs must be http(s) URLs or data: URIs, got {url[:40]!r}"
                )
            parts.append(ImagePart(url.strip()))
        else:
            allowed = "text and image_url" if images else "text"
            raise InvalidSampleError(f"{where} has type {kind!r}; this message takes {allowed}")
    return parts


def completion(answer: str, model: str) -> dict[str, Any]:
    """A ``chat.completion`` object holding one answer."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
    }


def completion_chunks(answer: str, model: str) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed answer: all text in one delta."""
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    delta = {"role": "assistant", "content": answer}
    return [
        {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]


ErrorKind = Literal[
    "invalid_request_error", "authentication_error", "not_found_error", "server_error"
]


def error_body(
    message: str, kind: ErrorKind, code: str | None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's error object: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


__all__ = [
    "ChatCompletionRequest",
    "ChatMessage",
    "completion",
    "completion_chunks",
    "error_body",
]
