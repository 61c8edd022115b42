"""What ``GET /openapi.json`` says about the chat route: its body and every status it answers.

The chat route reads its body itself (so that a request without the API key,
or one over the size limit, is refused before the body is read), so FastAPI
cannot derive the request schema from the route's signature. It is published
from the same pydantic model that parses the body
(:class:`~vlmi_serve.protocol.ChatCompletionRequest`), together with an
:class:`~vlmi_serve.protocol.ErrorResponse` for each error status, so API
fuzzers and client generators see the contract the server enforces.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from .protocol import request_schema
from .responses import ChatCompletion, ChatCompletionChunk, ErrorResponse

#: where a component schema is, in the OpenAPI document
_REF = "#/components/schemas/{model}"

#: the chat route's ``requestBody``
REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": _REF.format(model="ChatCompletionRequest")}}
    },
}


#: one server-sent event of a streamed answer: a chat.completion.chunk, or the final [DONE]
STREAM_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "anyOf": [
                {"const": "[DONE]"},
                {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"$ref": _REF.format(model="ChatCompletionChunk")},
                },
            ]
        }
    },
}


def documented(description: str) -> dict[str, Any]:
    """An error status of a route, answered as an :class:`ErrorResponse`."""
    return {"model": ErrorResponse, "description": description}


#: the 401 of every route behind the API key
KEY_REFUSED: dict[int | str, dict[str, Any]] = {
    401: documented("the API key is missing or wrong (send 'Authorization: Bearer <key>')")
}


def chat_responses(keyed: bool) -> dict[int | str, dict[str, Any]]:
    """Every status ``POST /v1/chat/completions`` answers (401 only when a key is set)."""
    return {
        200: {
            "model": ChatCompletion,
            "description": "the answer; with stream=true, server-sent chat.completion.chunk events",
            "content": {"text/event-stream": {"schema": STREAM_EVENT}},
        },
        400: documented("a malformed body, an unsupported option or a bad image"),
        **(KEY_REFUSED if keyed else {}),
        404: documented("the model named is not served here (GET /v1/models)"),
        413: documented("the body is larger than the server's --max-body-mb"),
        500: documented("the model failed on this request"),
        503: documented(
            "a failure of the moment: the engine ran out of memory, is gone or unreachable; "
            "the error's code names it (e.g. EngineGoneError); try again later"
        ),
        504: documented("no answer within the server's --timeout"),
    }


def publish_request_schema(app: FastAPI, served_name: str, max_images: int | None) -> None:
    """Add ChatCompletionRequest, and the models it uses, to the document's components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            chunk = ChatCompletionChunk.model_json_schema(ref_template=_REF)
            for name, schema in (
                ("ChatCompletionRequest", request_schema(served_name, max_images, _REF)),
                ("ChatCompletionChunk", chunk),
            ):
                schemas.update(schema.pop("$defs", {}))
                schemas[name] = schema
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["KEY_REFUSED", "REQUEST_BODY", "chat_responses", "documented", "publish_request_schema"]
