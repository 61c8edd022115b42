"""Any OpenAI-compatible chat-completions endpoint as a vlmi model.

``eval_batch`` sends one request per sample, ``concurrency`` at a time, with
the official ``openai`` client, which retries 429, 5xx and connection errors
with exponential backoff (``max_retries``) and gives each request
``timeout`` seconds. Each sample's failure stays in its slot: an HTTP 400
for one image fails that sample only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import openai

from vlmi import errors
from vlmi.errors import EngineUnavailableError, InvalidOptionError, VlmiError
from vlmi.plugin import (
    GENERATION_OPTION_NAMES,
    BatchedModel,
    EngineOptions,
    GenerationOptions,
    Sample,
)
from vlmi_openai.engine_config import TOKEN_LIMIT_PARAMS, api_params
from vlmi_openai.prompts import VIDEO_AS, build_messages

#: the api_key sent to a base_url when none is configured (servers without authentication)
NO_KEY = "none"


@dataclass(frozen=True)
class OpenAIOptions(EngineOptions):
    """Options of ``vlmi.load`` for an OpenAI-compatible endpoint.

    :param api_model: the model id the endpoint knows (set by the name:
        ``openai:<id>`` or a catalog entry).
    :param base_url: the endpoint, e.g. ``http://host:8000/v1`` (default
        ``$OPENAI_BASE_URL``, else the OpenAI API).
    :param api_key: the bearer token (default ``$OPENAI_API_KEY``); never
        written to ``vlmi run``'s output.
    :param concurrency: requests in flight at once during ``eval_batch``.
    :param max_retries: retries of a request after 429, 5xx or a connection error.
    :param timeout: seconds one request (one attempt) may take.
    :param max_tokens_param: the name the token limit is sent under.
    :param send_top_k: send ``top_k`` (servers such as vLLM and vlmi serve take it).
    :param max_images: most images per sample, checked before any request
        (default: the catalog's limit, else none).
    :param video_as: how videos are sent: ``"video_url"`` (the file, or its URL, as
        an OpenAI ``video_url`` part; the server samples it) or ``"frames"`` (the
        frames vlmi sampled, as images: for servers without video).
    :param max_video_pixels: with ``video_as="frames"``, the most pixels each sent
        frame may keep (larger ones are shrunk, aspect ratio kept).
    """

    api_model: str = ""
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False, metadata={"secret": True})
    concurrency: int = 8
    max_retries: int = 4
    timeout: float = 120.0
    max_tokens_param: str = "max_completion_tokens"
    send_top_k: bool = False
    max_images: int | None = None
    video_as: str = "video_url"
    max_video_pixels: int | None = None

    def __post_init__(self) -> None:
        if self.video_as not in VIDEO_AS:
            raise InvalidOptionError(f"video_as must be one of {VIDEO_AS}, got {self.video_as!r}")
        if self.max_video_pixels is not None and self.max_video_pixels < 1:
            raise InvalidOptionError(f"max_video_pixels must be >= 1, got {self.max_video_pixels}")
        if self.max_images is not None and self.max_images < 0:
            raise InvalidOptionError(f"max_images must be >= 0, got {self.max_images}")
        if self.concurrency < 1:
            raise InvalidOptionError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.max_retries < 0:
            raise InvalidOptionError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.timeout <= 0:
            raise InvalidOptionError(f"timeout must be > 0 seconds, got {self.timeout}")
        if self.max_tokens_param not in TOKEN_LIMIT_PARAMS:
            raise InvalidOptionError(
                f"max_tokens_param must be one of {TOKEN_LIMIT_PARAMS}, "
                f"got {self.max_tokens_param!r}"
            )


class OpenAIModel(BatchedModel[OpenAIOptions]):
    """A model behind an OpenAI-compatible endpoint."""

    Options = OpenAIOptions
    client: openai.OpenAI
    pool: ThreadPoolExecutor

    @property
    def max_images(self) -> int | None:
        """Most images one sample may hold: the ``max_images`` option, else the spec's."""
        configured = self.engine_options.max_images
        return configured if configured is not None else self.spec.max_images

    @property
    def base_url(self) -> str | None:
        """The endpoint requests go to (None: the OpenAI API)."""
        return self.engine_options.base_url or os.environ.get("OPENAI_BASE_URL") or None

    @property
    def preferred_batch_size(self) -> int:
        """4 times ``concurrency``: a run's chunk keeps every request thread busy while the
        chunk's slowest requests finish."""
        return 4 * self.engine_options.concurrency

    def setup(self) -> None:
        """Make the client and the request threads (no request is sent here)."""
        options = self.engine_options
        if not options.send_top_k:  # the OpenAI API has no top_k: refused unless the server has
            self.honours = frozenset(GENERATION_OPTION_NAMES) - {"top_k"}
        if not options.api_model.strip():
            raise InvalidOptionError(
                "no API model named: load one as vlmi.load('openai:<model id>') or pass api_model="
            )
        api_key = options.api_key or os.environ.get("OPENAI_API_KEY") or None
        if api_key is None:
            if self.base_url is None:
                raise EngineUnavailableError(
                    f"{self.name}: no API key for the OpenAI API; set OPENAI_API_KEY or pass "
                    "api_key=..., or point base_url= (OPENAI_BASE_URL) at another endpoint"
                )
            api_key = NO_KEY
        self.client = openai.OpenAI(
            api_key=api_key,
            base_url=self.base_url,
            max_retries=options.max_retries,
            timeout=options.timeout,
        )
        self.pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="vlmi-openai")

    def generate_batch(
        self, samples: Sequence[Sample], generations: Sequence[GenerationOptions]
    ) -> list[str | BaseException]:
        """Send every sample concurrently; answers (or errors) in input order."""
        futures = [
            self.pool.submit(self.complete, sample, generation)
            for sample, generation in zip(samples, generations)
        ]
        results: list[str | BaseException] = []
        for future in futures:
            try:
                results.append(future.result())
            except Exception as exc:
                results.append(exc)
        return results

    def complete(self, sample: Sample, generation: GenerationOptions) -> str:
        """One request to the endpoint; its failure as a typed vlmi error."""
        options = self.engine_options
        params = api_params(
            generation,
            max_tokens_param=options.max_tokens_param,
            send_top_k=options.send_top_k,
        )
        messages: Any = build_messages(
            sample, self.engine_options.video_as
        )  # plain dicts in the API's message shape
        try:
            response = self.client.chat.completions.create(
                model=options.api_model, messages=messages, **params
            )
        except (openai.APIStatusError, openai.APIConnectionError) as exc:  # timeouts included
            raise self.map_error(exc) or errors.GenerationError(f"{self.name}: {exc}") from exc
        if not response.choices:
            raise errors.GenerationError(f"{self.name}: the endpoint answered with no choices")
        answer = response.choices[0].message.content or ""
        return generation.cut_at_stop(answer)

    def map_error(self, exc: BaseException) -> VlmiError | None:
        """The openai client's failures as vlmi errors (after the client's own retries).

        A timeout is :class:`~vlmi.errors.EngineTimeoutError`, a connection
        refused or reset :class:`~vlmi.errors.EngineConnectionError`, an HTTP
        error answer what :meth:`status_error` says (busy or unavailable:
        retryable; the sample refused: not).
        """
        options = self.engine_options
        where = self.base_url or "the OpenAI API"
        if isinstance(exc, openai.APITimeoutError):
            return errors.EngineTimeoutError(
                f"{self.name}: no answer from {where} within {options.timeout:g} s, after "
                f"{options.max_retries} retries; raise timeout / max_retries, or check the "
                "server's load"
            )
        if isinstance(exc, openai.APIConnectionError):
            return errors.EngineConnectionError(
                f"{self.name}: no answer from {where} after {options.max_retries} retries "
                f"({exc}); check that the server runs, or raise timeout / max_retries"
            )
        if isinstance(exc, openai.APIStatusError):
            return self.status_error(exc)
        return None

    def status_error(self, exc: openai.APIStatusError) -> VlmiError:
        """The vlmi error for an HTTP error answer (after the client's retries)."""
        code, message = _error_fields(exc)
        where = f"{self.name} (HTTP {exc.status_code})"
        named = getattr(errors, code or "", None)  # vlmi serve names the vlmi error class
        if (
            isinstance(named, type)
            and issubclass(named, VlmiError)
            and (exc.status_code < 500 or issubclass(named, errors.TransientError))
        ):
            try:
                return named(f"{where}: {message}")
            except TypeError:  # an error class built from other arguments
                pass
        if exc.status_code == 404:
            return errors.UnknownModelError(
                f"{where}: the endpoint does not serve {self.engine_options.api_model!r}: {message}"
            )
        if exc.status_code in (401, 403):
            return errors.EngineUnavailableError(
                f"{where}: the endpoint refused the API key ({message}); check api_key= or "
                "OPENAI_API_KEY"
            )
        if exc.status_code < 500 and exc.status_code != 429:
            return errors.InvalidSampleError(
                f"{where}: the endpoint refused this sample: {message}"
            )
        if exc.status_code in (429, 502, 503, 504):
            return errors.EngineConnectionError(
                f"{where}: the endpoint is busy or unavailable, after "
                f"{self.engine_options.max_retries} retries: {message}"
            )
        return errors.GenerationError(
            f"{where}: failed after {self.engine_options.max_retries} retries: {message}"
        )

    def close(self) -> None:
        """Finish the requests in flight and close the connections."""
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.shutdown(wait=True)
        client = getattr(self, "client", None)
        if client is not None:
            client.close()


def _error_fields(exc: openai.APIStatusError) -> tuple[str | None, str]:
    """``(code, message)`` from an OpenAI-shaped error body, else the exception's text."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            code = inner.get("code")
            return (code if isinstance(code, str) else None), str(inner["message"])
    return None, str(exc)


__all__ = ["OpenAIModel", "OpenAIOptions"]
