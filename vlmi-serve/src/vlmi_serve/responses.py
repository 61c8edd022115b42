"""The answers ``vlmi serve`` sends, as pydantic models (``GET /openapi.json`` shows them)."""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel


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


class Delta(BaseModel):
    """What a streamed chunk adds to the answer."""

    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    """The one answer's part in a streamed chunk."""

    index: int
    delta: Delta
    finish_reason: Literal["stop"] | None


class ChatCompletionChunk(BaseModel):
    """One server-sent event of ``POST /v1/chat/completions`` with ``stream=true``."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]


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
    "ChatCompletionChunk",
    "ErrorKind",
    "ErrorResponse",
    "Health",
    "ModelList",
    "completion",
    "completion_chunks",
    "error_body",
]
