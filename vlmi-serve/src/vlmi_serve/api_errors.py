"""The HTTP errors of ``vlmi serve``, each answered in OpenAI's error shape."""

from __future__ import annotations

import re

from pydantic import ValidationError

from vlmi import errors

from .responses import ErrorKind, error_body


class ApiError(Exception):
    """An HTTP error answered in OpenAI's error shape."""

    def __init__(
        self, status: int, message: str, kind: ErrorKind, code: str | None, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = error_body(message, kind, code, param)

    @classmethod
    def from_vlmi(cls, exc: errors.VlmiError) -> ApiError:
        """The HTTP answer for a vlmi error: 4xx for the request's fault, 5xx for the engine's."""
        code = type(exc).__name__
        if isinstance(exc, errors.UnknownModelError):
            return cls(404, str(exc), "not_found_error", "model_not_found", "model")
        if isinstance(exc, errors.InvalidOptionError):
            return cls(400, str(exc), "invalid_request_error", code)
        if isinstance(exc, (errors.InvalidSampleError, errors.ImageError)):
            return cls(400, str(exc), "invalid_request_error", code, "messages")
        # a failure of the moment (out of memory, the engine gone or unreachable): try again
        status = 503 if exc.retryable else 500
        return cls(status, str(exc), "server_error", code)


def invalid_body(exc: ValidationError) -> ApiError:
    """A 400 naming the body's first problems, the most specific first."""
    found = sorted(exc.errors(), key=lambda e: -len(e["loc"]))[:5]
    where = [[str(p) for p in e["loc"] if _is_field(p)] for e in found]
    problems = "; ".join(f"{'.'.join(w) or 'body'}: {e['msg']}" for w, e in zip(where, found))
    param = where[0][0] if where[0] else None
    if param == "messages":
        code = "InvalidSampleError"
    elif param in (None, "model"):
        code = "invalid_body"
    else:  # a parameter
        code = "InvalidOptionError"
    return ApiError(400, f"invalid request body: {problems}", "invalid_request_error", code, param)


def _is_field(step: str | int) -> bool:
    """Whether a step of a validation error's location names a field or an index."""
    if isinstance(step, int):
        return True
    return re.fullmatch(r"[a-z_]+", step) is not None and step not in _TYPE_NAMES


#: union branches pydantic names in a location
_TYPE_NAMES = {"str", "int", "float", "bool", "none"}


def too_large(limit: int) -> ApiError:
    """A 413 for a body over ``limit`` bytes."""
    return ApiError(
        413,
        f"request body over {limit} bytes; send fewer or smaller images (or raise --max-body-mb)",
        "invalid_request_error",
        "request_too_large",
    )


__all__ = ["ApiError", "invalid_body", "too_large"]
