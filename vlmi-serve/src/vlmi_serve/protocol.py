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

import re
import time
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field

from vlmi.errors import InvalidOptionError, InvalidSampleError
from vlmi.plugin import ImagePart, Part, Sample, TextPart

#: parameters clients send that vlmi takes as harmless when present
_IGNORED = {"user", "stream_options", "store", "metadata", "service_tier"}


#: an image URL the server takes: an http(s) URL or a data: URI (case-insensitive scheme)
IMAGE_URL_PATTERN = r"^\s*([hH][tT][tT][pP][sS]?://|[dD][aA][tT][aA]:)"


class TextContent(BaseModel):
    """A text part of a message's content."""

    type: Literal["text"]
    text: str


def _http_or_data(value: Any) -> Any:
    if isinstance(value, str) and not re.match(IMAGE_URL_PATTERN, value):
        raise ValueError(f"image URLs must be http(s) URLs or data: URIs, got {value[:40]!r}")
    return value


ImageUrlText = Annotated[
    str,
    Field(pattern=IMAGE_URL_PATTERN, description="an http(s) URL or a data: URI"),
    BeforeValidator(_http_or_data),
]


class ImageUrl(BaseModel):
    """Where an image is."""

    url: ImageUrlText


class ImageContent(BaseModel):
    """An image part of a user message's content."""

    type: Literal["image_url"]
    image_url: ImageUrl | ImageUrlText


UserPart = Annotated[TextContent | ImageContent, Discriminator("type")]


class SystemMessage(BaseModel):
    """Instructions put before the user's turn (``developer`` is a synonym)."""

    role: Literal["system", "developer"]
    content: str | list[TextContent] | None = None


class UserMessage(BaseModel):
    """The user's turn: text and images, in order."""

    role: Literal["user"]
    content: str | list[UserPart] | None = None


ChatMessage = Annotated[
    SystemMessage | UserMessage,
    Discriminator("role"),
]


class ChatCompletionRequest(BaseModel):
    """The body of ``POST /v1/chat/completions``."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="the served model's name or one of its aliases")
    messages: list[ChatMessage] = Field(
        min_length=1, description="system messages, then exactly one user message"
    )
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = Field(None, description="an extension: sample from the k likeliest")
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int | None = Field(None, description="only 1: one answer per request")
    stream: bool | None = Field(False, description="the whole answer as one server-sent delta")

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
        for message in self.messages:
            users += message.role == "user"
            parts.extend(_parts(message.content))
        if users != 1:
            raise InvalidSampleError(
                f"the conversation has {users} user messages; send exactly one"
            )
        if not any(isinstance(p, ImagePart) or p.text.strip() for p in parts):
            raise InvalidSampleError("the messages hold no text and no image")
        return Sample(tuple(parts))


def _parts(content: str | Sequence[TextContent | ImageContent] | None) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(content)]
    return [
        TextPart(item.text) if isinstance(item, TextContent) else ImagePart(_url(item).strip())
        for item in content
    ]


def _url(item: ImageContent) -> str:
    image = item.image_url
    return image if isinstance(image, str) else image.url


class AssistantMessage(BaseModel):
    """The model's answer."""

    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    """The one answer of a completion."""

    index: int
    message: AssistantMessage
    finish_reason: Literal["stop"]
    logprobs: None = None


class ChatCompletion(BaseModel):
    """The answer to ``POST /v1/chat/completions`` without ``stream``."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]


class ModelCard(BaseModel):
    """The served model, as ``GET /v1/models`` lists it."""

    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    """The answer to ``GET /v1/models``."""

    object: Literal["list"]
    data: list[ModelCard]


class Health(BaseModel):
    """The answer to ``GET /health``."""

    status: Literal["ok"]
    model: str


def completion(answer: str, model: str) -> dict[str, Any]:
    """A ``chat.completion`` object holding one answer."""
    message = AssistantMessage(role="assistant", content=answer)
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        object="chat.completion",
        created=int(time.time()),
        model=model,
        choices=[Choice(index=0, message=message, finish_reason="stop")],
    ).model_dump()


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


class ErrorDetail(BaseModel):
    """What went wrong, in OpenAI's terms."""

    message: str
    type: ErrorKind
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorDetail


def error_body(
    message: str, kind: ErrorKind, code: str | None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's error object (an :class:`ErrorResponse`)."""
    detail = ErrorDetail(message=message, type=kind, param=param, code=code)
    return ErrorResponse(error=detail).model_dump()


__all__ = [
    "ChatCompletion",
    "ChatCompletionRequest",
    "ChatMessage",
    "ErrorResponse",
    "Health",
    "ModelList",
    "completion",
    "completion_chunks",
    "error_body",
]
