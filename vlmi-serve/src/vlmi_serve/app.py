"""``vlmi serve``: one loaded model behind an OpenAI-compatible HTTP endpoint (FastAPI).

Routes: ``POST /v1/chat/completions`` (JSON or, with ``stream=true``,
server-sent events holding the whole answer in one delta), ``GET
/v1/models`` and ``GET /health``. Each request is checked, its images are
guarded (:mod:`vlmi_serve.url_guard`) and loaded in a thread, then the
:class:`~vlmi_serve.batcher.DynamicBatcher` answers it within a batch.
A request's failure is its own 4xx/5xx answer in OpenAI's error shape
(:mod:`vlmi_serve.api_errors`); ``GET /openapi.json`` describes the body,
the answers and every status (:mod:`vlmi_serve.openapi`). Comes with ``pip install vlmi-serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import signal
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Request, Security
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from vlmi import errors
from vlmi.plugin import (
    ImagePart,
    Sample,
    VideoPart,
    add_download_check,
    check_limits,
    prepare_samples,
    remove_download_check,
    url_max_bytes,
)

from .api_errors import ApiError, invalid_body, too_large
from .batcher import DynamicBatcher
from .openapi import KEY_REFUSED, REQUEST_BODY, chat_responses, publish_request_schema
from .protocol import ChatCompletionRequest
from .responses import Health, ModelList, completion, completion_chunks, error_body
from .url_guard import UrlGuard

if TYPE_CHECKING:
    from vlmi.plugin import GenerationOptions, Model

DEFAULT_MAX_BODY_BYTES = 128 * 1024 * 1024

#: the API key as OpenAPI declares it (``ChatService.check_key`` checks it)
BearerKey = Annotated[
    HTTPAuthorizationCredentials | None,
    Security(HTTPBearer(auto_error=False, description="the key given by --api-key")),
]


@dataclass(frozen=True)
class ServeSettings:
    """How the server batches, limits and guards requests."""

    #: most requests in one eval_batch call
    max_batch_size: int = 32
    #: longest wait, after a batch's first request, for more requests (milliseconds)
    max_wait_ms: float = 5.0
    #: the bearer token clients must send (None: no authentication)
    api_key: str | None = None
    #: fetch image URLs of loopback, private and link-local addresses
    allow_private_urls: bool = False
    #: largest request body accepted
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: deadline of one request, from arrival to answer (seconds)
    request_timeout_s: float = 600.0
    #: the name clients use in "model" (default: the name the model was loaded by)
    served_name: str | None = None


class ChatService:
    """What the routes call: checks, image loading and batching for one model."""

    def __init__(self, model: Model[Any], settings: ServeSettings) -> None:
        self.model = model
        self.settings = settings
        self.name = settings.served_name or model.name
        self.accepted_names = {self.name.lower(), *(n.lower() for n in model.spec.names)}
        self.guard = UrlGuard(settings.allow_private_urls)
        self.batcher = DynamicBatcher(
            model,
            max_batch_size=settings.max_batch_size,
            max_wait_s=settings.max_wait_ms / 1000.0,
        )

    def check_key(self, request: Request) -> None:
        """401 unless the request carries the server's bearer token (when one is set)."""
        expected = self.settings.api_key
        if not expected:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), expected.encode()
        ):
            raise ApiError(
                401,
                "missing or wrong API key: send 'Authorization: Bearer <key>' with the key the "
                "server was started with (--api-key or VLMI_API_KEY)",
                "authentication_error",
                "invalid_api_key",
            )

    async def read_request(self, request: Request) -> ChatCompletionRequest:
        """The parsed body, refused with a 413 when it is larger than allowed."""
        limit = self.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        body = bytearray()
        async for piece in request.stream():
            body += piece
            if len(body) > limit:
                raise too_large(limit)
        try:
            return ChatCompletionRequest.model_validate_json(bytes(body))
        except ValidationError as exc:
            raise invalid_body(exc) from None

    def checked(self, body: ChatCompletionRequest) -> tuple[Sample, GenerationOptions]:
        """The request as a sample and its generation options, or the request's 4xx."""
        if body.model.strip().lower() not in self.accepted_names:
            raise ApiError(
                404,
                f"model {body.model!r} is not served here; this server serves {self.name!r} "
                "(GET /v1/models)",
                "not_found_error",
                "model_not_found",
                "model",
            )
        try:
            sample = body.sample()
            generation = self.model.options.generation.merged(body.generation())
            check_limits(self.model, sample)
            for part in sample.parts:
                if isinstance(part, ImagePart):
                    _check_inline_size(part.source)
                elif isinstance(part, VideoPart):
                    _check_inline_size(part.source.source, "video")
        except errors.VlmiError as exc:
            raise ApiError.from_vlmi(exc) from None
        return sample, generation

    def prepare(self, sample: Sample) -> Sample:
        """Guard the image URLs, then load every image and video (blocking: run in a thread).

        Video URLs pass the same guard inside the one download path (the
        download check this server installs), refused as ``VideoDownloadError``.
        """
        for part in sample.parts:
            if isinstance(part, ImagePart) and str(part.source)[:5].lower() != "data:":
                self.guard(str(part.source))
        (prepared,) = prepare_samples(self.model, [sample])
        if isinstance(prepared, errors.VlmiError):
            raise prepared
        return prepared

    async def answer(self, body: ChatCompletionRequest) -> str:
        """The model's answer to one request, within the request's deadline."""
        sample, generation = self.checked(body)

        async def work() -> str:
            # images are resolved and decoded in a thread; text alone needs no thread hop
            prepared = (
                await asyncio.to_thread(self.prepare, sample)
                if sample.num_images or sample.num_videos
                else sample
            )
            return await self.batcher.submit(prepared, generation)

        try:
            return await asyncio.wait_for(work(), self.settings.request_timeout_s)
        except asyncio.TimeoutError:
            raise ApiError(
                504,
                f"no answer within the server's deadline of {self.settings.request_timeout_s:g} s",
                "server_error",
                "timeout",
            ) from None
        except errors.VlmiError as exc:
            raise ApiError.from_vlmi(exc) from None


def _check_inline_size(source: Any, what: str = "image") -> None:
    """A data: URI's image or video may be no larger than a download (``VLMI_URL_MAX_BYTES``)."""
    text = str(source)
    if text[:5].lower() != "data:":
        return
    limit = url_max_bytes()
    payload = len(text) - text.find(",") - 1
    if payload * 3 // 4 > limit:
        error = errors.ImageTooLargeError if what == "image" else errors.VideoTooLargeError
        raise error(
            f"a data: URI {what} holds about {payload * 3 // 4} bytes, over the server's limit of "
            f"{limit} (VLMI_URL_MAX_BYTES)"
        )


def create_app(model: Model[Any], settings: ServeSettings | None = None) -> FastAPI:
    """The FastAPI application serving ``model`` (which the caller loads and closes)."""
    service = ChatService(model, settings or ServeSettings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.batcher.start()
        add_download_check(service.guard)
        try:
            yield
        finally:
            remove_download_check(service.guard)
            await service.batcher.stop()

    app = FastAPI(title="vlmi serve", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.service = service
    publish_request_schema(app, service.name, model.max_images)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return JSONResponse(exc.body, status_code=exc.status)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        # a bug, not the request's fault: still an answer in OpenAI's shape
        body = error_body(f"internal error: {exc!r}", "server_error", type(exc).__name__)
        return JSONResponse(body, status_code=500)

    async def authorized(request: Request, _: BearerKey) -> None:
        service.check_key(request)

    # the key and the 401 are declared only where the server checks them
    keyed = bool(service.settings.api_key)
    guarded: dict[str, Any] = {"dependencies": [Depends(authorized)]} if keyed else {}
    refusals = KEY_REFUSED if keyed else {}

    @app.get("/health")
    async def health() -> Health:
        return Health(status="ok", model=service.name)

    @app.get("/v1/models", responses=refusals, **guarded)
    async def models() -> ModelList:
        entry = {"id": service.name, "object": "model", "created": 0, "owned_by": "vlmi"}
        return ModelList.model_validate({"object": "list", "data": [entry]})

    @app.post(
        "/v1/chat/completions",
        response_model=None,
        openapi_extra={"requestBody": REQUEST_BODY},
        responses=chat_responses(keyed),
        **guarded,
    )
    async def chat_completions(request: Request) -> Response:
        body = await service.read_request(request)
        answer = await service.answer(body)
        if not body.stream:
            return JSONResponse(completion(answer, service.name))
        return StreamingResponse(_events(answer, service.name), media_type="text/event-stream")

    return app


async def _events(answer: str, model: str) -> AsyncIterator[str]:
    """Server-sent events of a finished answer: its chunks, then ``[DONE]``."""
    for chunk in completion_chunks(answer, model):
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: a free one), for uvicorn to listen on."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    return sock


class _Stopped(Exception):
    """SIGTERM, re-raised by uvicorn once its graceful shutdown is done."""


@contextlib.contextmanager
def _stop_quietly_on_sigterm() -> Iterator[None]:
    """Let a SIGTERM or Ctrl-C end the server with exit status 0 once requests have finished.

    uvicorn finishes the in-flight requests, then raises the signal again
    with the handler that was installed before it: here, one that unwinds
    (so the model is closed) instead of killing the process.
    """

    def stop(signum: int, frame: Any) -> None:
        raise _Stopped

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if in_main else None
    try:
        yield
    except (_Stopped, KeyboardInterrupt):
        pass
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def serve(
    model_name: str,
    load_options: dict[str, Any],
    settings: ServeSettings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    access_log: bool = False,
) -> None:
    """Load the model, serve it until SIGINT/SIGTERM (in-flight requests finish), close it.

    The address is taken before the model loads, so a port in use fails at once.
    """
    import uvicorn

    from vlmi import load

    try:
        sock = bind(host, port)
    except OSError as exc:
        raise errors.VlmiError(
            f"cannot listen on {host}:{port} ({exc}); pick another --port or --host"
        ) from exc
    with contextlib.closing(sock), load(model_name, **load_options) as model:
        settings = replace(settings, served_name=settings.served_name or model_name)
        app = create_app(model, settings)
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        print(
            f"vlmi serve: {settings.served_name} at http://{shown}:{bound_port}/v1",
            file=sys.stderr,
            flush=True,
        )
        config = uvicorn.Config(app, log_level=log_level, access_log=access_log)
        started = time.monotonic()
        with _stop_quietly_on_sigterm():
            uvicorn.Server(config).run(sockets=[sock])
        served = time.monotonic() - started
        sizes = app.state.service.batcher.batch_sizes
        print(
            f"vlmi serve: stopped after {served:.0f} s; {sum(sizes)} request(s) in "
            f"{len(sizes)} batch(es)",
            file=sys.stderr,
        )


__all__ = ["ApiError", "ChatService", "ServeSettings", "bind", "create_app", "serve"]
