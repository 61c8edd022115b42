"""The OpenAI chat-completions request ``vlmi serve`` takes, and its mapping onto vlmi.

:class:`ChatCompletionRequest` both parses a request and is the request
schema ``GET /openapi.json`` publishes (:func:`request_schema`), so the
published contract is the one enforced: strict JSON types, no unknown
parameters, and the rules below, each one a schema keyword.

A request's messages become one :class:`vlmi.Sample`: their text, image and
video parts in order (system messages hold text only; ``image_url`` and
``video_url`` parts hold ``http(s)`` URLs or ``data:`` URIs, fetched under the
same guard and size limits; a video is sampled with the model's default
sampling). There is exactly one user message,
holding some text, an image or a video, and at most the model's number of images
(its schema is one server's: :func:`request_schema`). Its parameters
become :class:`vlmi.GenerationOptions`: ``max_completion_tokens`` (or the
older ``max_tokens``) -> ``max_new_tokens``, ``temperature``, ``top_p``,
``seed``, ``stop``, and ``top_k`` as an extension (as vLLM takes it). An
OpenAI parameter vlmi cannot honour (``n`` > 1, penalties, tools, logprobs)
is accepted only at its neutral value and otherwise refused with a 400,
never ignored, as are unknown parameters and assistant turns.
"""

from __future__ import annotations

import copy
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    field_validator,
    model_validator,
)

from vlmi.plugin import ImagePart, Part, Sample, TextPart, Video, VideoPart

#: whitespace, spelled out so that every regex dialect (JSON Schema's, Python's, pydantic's) agrees
_SPACE = "[\\t\\n\\v\\f\\r ]"
#: text that is not blank
NON_BLANK = "[^\\t\\n\\v\\f\\r ]"
#: an image URL the server takes: an http(s) URL or a data: URI (case-insensitive scheme)
IMAGE_URL_PATTERN = f"^{_SPACE}*([hH][tT][tT][pP][sS]?://|[dD][aA][tT][aA]:)"
#: the ``format`` of image URLs in the schema (fuzzers can register a generator for it)
IMAGE_URL_FORMAT = "image-url"


def _http_or_data(value: Any) -> Any:
    if isinstance(value, str) and not re.match(IMAGE_URL_PATTERN, value):
        raise ValueError(f"media URLs must be http(s) URLs or data: URIs, got {value[:40]!r}")
    return value


ImageUrlText = Annotated[
    str,
    Field(
        pattern=IMAGE_URL_PATTERN,
        description="an http(s) URL or a data: URI of a picture (a video file in video_url)",
        json_schema_extra={"format": IMAGE_URL_FORMAT},
    ),
    BeforeValidator(_http_or_data),
]


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and not re.search(NON_BLANK, value):
        raise ValueError("the user message holds no text and no image")
    return value


def _whole(value: Any) -> Any:
    # JSON Schema's integers include 2.0; strict pydantic ints do not
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: a JSON integer (``2`` or ``2.0``, never ``"2"`` or ``true``); after any Field constraints
_WHOLE = BeforeValidator(_whole)
Integer = Annotated[int, _WHOLE]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True)


class TextContent(_Strict):
    """A text part of a message's content."""

    type: Literal["text"]
    text: str


class ImageUrl(_Strict):
    """Where an image is."""

    url: ImageUrlText


class ImageContent(_Strict):
    """An image part of a user message's content."""

    type: Literal["image_url"]
    image_url: ImageUrl | ImageUrlText


class VideoUrl(_Strict):
    """Where a video is."""

    url: ImageUrlText


class VideoContent(_Strict):
    """A video part of a user message's content (sampled as the model samples by default)."""

    type: Literal["video_url"]
    video_url: VideoUrl | ImageUrlText


UserPart = Annotated[TextContent | ImageContent | VideoContent, Discriminator("type")]

#: a user message's list of parts holds an image, a video or some text that is not blank
_SOMETHING_SAID: dict[str, Any] = {
    "contains": {
        "anyOf": [
            {"properties": {"type": {"const": "image_url"}}, "required": ["type"]},
            {"properties": {"type": {"const": "video_url"}}, "required": ["type"]},
            {
                "properties": {"type": {"const": "text"}, "text": {"pattern": NON_BLANK}},
                "required": ["type", "text"],
            },
        ]
    }
}


class SystemMessage(_Strict):
    """Instructions put before the user's turn (``developer`` is a synonym)."""

    role: Literal["system", "developer"]
    content: str | list[TextContent] | None = None


class UserMessage(_Strict):
    """The user's turn: text and images, in order; some text or an image."""

    role: Literal["user"]
    content: (
        Annotated[str, Field(pattern=NON_BLANK), BeforeValidator(_not_blank)]
        | Annotated[list[UserPart], Field(json_schema_extra=_SOMETHING_SAID)]
    )

    @model_validator(mode="after")
    def _says_something(self) -> UserMessage:
        if not any(
            isinstance(p, (ImagePart, VideoPart)) or re.search(NON_BLANK, p.text)
            for p in self.parts()
            if isinstance(p, (ImagePart, VideoPart, TextPart))
        ):
            raise ValueError("the user message holds no text, no image and no video")
        return self

    def parts(self) -> list[Part]:
        """The message's parts, in order."""
        return _parts(self.content)


ChatMessage = Annotated[SystemMessage | UserMessage, Discriminator("role")]

#: exactly one of the messages is the user's
_ONE_USER_TURN: dict[str, Any] = {
    "contains": {"properties": {"role": {"const": "user"}}, "required": ["role"]},
    "minContains": 1,
    "maxContains": 1,
}

_Stop = Annotated[str, Field(min_length=1)]
_Zero = Annotated[float, Field(ge=0, le=0, allow_inf_nan=False)]
_Nothing = Field(max_length=0)
_UNSUPPORTED = "not supported by vlmi serve; only its neutral value is accepted"


def _false(value: bool) -> bool:
    if value:
        raise ValueError("logprobs are not supported by vlmi serve; send false or nothing")
    return value


_False = Annotated[bool, AfterValidator(_false), Field(json_schema_extra={"const": False})]


class ResponseFormat(_Strict):
    """Plain text answers only."""

    type: Literal["text"]


class ChatCompletionRequest(_Strict):
    """The body of ``POST /v1/chat/completions``."""

    model_config = ConfigDict(strict=True, extra="forbid")

    model: str = Field(description="the served model's name or one of its aliases")
    messages: list[ChatMessage] = Field(
        description="system messages and exactly one user message; no assistant turns",
        json_schema_extra=_ONE_USER_TURN,
    )
    max_tokens: Annotated[int, Field(ge=1), _WHOLE] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1), _WHOLE] | None = None
    temperature: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    top_p: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    top_k: Annotated[int, Field(ge=0), _WHOLE] | None = Field(
        None, description="the k likeliest tokens"
    )
    seed: Integer | None = None
    stop: _Stop | list[_Stop] | None = None
    n: Annotated[int, Field(ge=1, le=1), _WHOLE] | None = Field(
        None, description="one answer per request"
    )
    stream: bool | None = Field(False, description="the whole answer as one server-sent delta")
    # harmless when present
    user: str | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None
    stream_options: dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    # refused unless neutral
    frequency_penalty: _Zero | None = Field(None, description=_UNSUPPORTED)
    presence_penalty: _Zero | None = Field(None, description=_UNSUPPORTED)
    logprobs: _False | None = Field(None, description=_UNSUPPORTED)
    top_logprobs: Annotated[int, Field(ge=0, le=0), _WHOLE] | None = Field(
        None, description=_UNSUPPORTED
    )
    logit_bias: Annotated[dict[str, float], _Nothing] | None = Field(None, description=_UNSUPPORTED)
    tools: Annotated[list[dict[str, Any]], _Nothing] | None = Field(None, description=_UNSUPPORTED)
    functions: Annotated[list[dict[str, Any]], _Nothing] | None = Field(
        None, description=_UNSUPPORTED
    )
    tool_choice: Literal["none"] | None = Field(None, description=_UNSUPPORTED)
    function_call: Literal["none"] | None = Field(None, description=_UNSUPPORTED)
    response_format: ResponseFormat | None = Field(None, description="text only")
    modalities: list[Literal["text"]] | None = Field(None, description="text only")

    @field_validator("n", mode="before")
    @classmethod
    def _one_answer(cls, n: Any) -> Any:
        if n is not None and (isinstance(n, bool) or n != 1):
            raise ValueError(f"n must be 1 (one answer per request), got {n!r}")
        return n

    @field_validator("messages")
    @classmethod
    def _one_user_turn(cls, messages: list[SystemMessage | UserMessage]) -> Any:
        users = sum(message.role == "user" for message in messages)
        if users != 1:
            raise ValueError(f"the conversation has {users} user messages; send exactly one")
        return messages

    def generation(self) -> dict[str, Any]:
        """The vlmi generation options this request sets (checked again by the model)."""
        options: dict[str, Any] = {}
        limit = self.max_completion_tokens or self.max_tokens
        if limit is not None:
            options["max_new_tokens"] = limit
        for name in ("temperature", "top_p", "top_k", "seed", "stop"):
            value = getattr(self, name)
            if value is not None:
                options[name] = value
        return options

    def sample(self) -> Sample:
        """The conversation as one vlmi sample: every message's parts, in order."""
        return Sample(tuple(part for message in self.messages for part in _parts(message.content)))


def _parts(content: str | list[TextContent] | list[UserPart] | None) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(content)]
    parts: list[Part] = []
    for item in content:
        if isinstance(item, TextContent):
            parts.append(TextPart(item.text))
        elif isinstance(item, VideoContent):
            parts.append(VideoPart(Video(_url(item.video_url).strip())))
        else:
            parts.append(ImagePart(_url(item.image_url).strip()))
    return parts


def _url(where: ImageUrl | VideoUrl | str) -> str:
    return where if isinstance(where, str) else where.url


def request_schema(served_name: str, max_images: int | None, ref: str) -> dict[str, Any]:
    """The request's JSON schema for one server, its ``$defs`` included.

    ``max_images`` (the model's limit) caps the image parts of the user
    message; ``served_name`` is the example request's model.
    """
    schema = copy.deepcopy(ChatCompletionRequest.model_json_schema(ref_template=ref))
    if max_images is not None:
        content = schema["$defs"]["UserMessage"]["properties"]["content"]["anyOf"]
        (listed,) = (branch for branch in content if branch.get("type") == "array")
        images = {"properties": {"type": {"const": "image_url"}}, "required": ["type"]}
        said = {"contains": listed.pop("contains")}
        listed["allOf"] = [said, {"contains": images, "minContains": 0, "maxContains": max_images}]
    schema["examples"] = [
        {"model": served_name, "messages": [{"role": "user", "content": "Say hello."}]}
    ]
    return schema


__all__ = [
    "IMAGE_URL_FORMAT",
    "ChatCompletionRequest",
    "ChatMessage",
    "ImageContent",
    "SystemMessage",
    "TextContent",
    "UserMessage",
    "VideoContent",
    "request_schema",
]
