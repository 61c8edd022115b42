"""Failed samples answered again, and when a run stops instead of failing every sample left.

Every error record says whether its failure was of the moment
(``"retryable": true``: the engine was gone, a timeout, a lost connection,
out of memory, an image URL that timed out) or of the sample itself (a bad
image, a prompt too long, an invalid option). ``--retry-failed`` answers the
first kind again, ``--retry-all-failed`` every failed sample; the new record
is appended and the last record of an id wins, as every reader takes it.

Records written by vlmi-core 0.3 have no ``retryable`` field: it is decided
from the error's type (an ``Engine*Error`` of the moment or
``EngineOutOfMemoryError``), and for a ``GenerationError`` or
``ImageDownloadError`` from the engine's or the network's failure its message
names (``EngineDeadError``, ``APIConnectionError``, a download that did not
finish in time, ...).

A run stops (``vlmi run`` exit status 5) when the engine is gone, or after
``max_failed_batches`` whole batches failed in a row for reasons other than
their samples' own input, instead of writing an error for every sample left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from vlmi import errors
from vlmi.errors import InvalidOptionError

#: what ``retry_failed=`` takes: the failures of the moment, or every failure
RETRY_MODES = ("retryable", "all")

#: whole batches failed in a row after which a run stops
DEFAULT_MAX_FAILED_BATCHES = 3

#: the error types of records without ``retryable`` that are failures of the moment
_RETRYABLE_TYPES = frozenset(
    {
        "TransientError",
        "EngineGoneError",
        "EngineTimeoutError",
        "EngineConnectionError",
        "EngineOutOfMemoryError",
    }
)
#: what the message of a GenerationError / ImageDownloadError without ``retryable`` names when
#: the engine or the network failed (vLLM's dead engine core, the openai client, LMDeploy, URLs)
_TRANSIENT_CAUSES = (
    "EngineDeadError",
    "APIConnectionError",
    "APITimeoutError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "engine_unavailable",
    "did not finish downloading within",
)


def is_retryable(error: Mapping[str, Any]) -> bool:
    """Whether an error record's failure was of the moment (see the module's docstring)."""
    flag = error.get("retryable")
    if isinstance(flag, bool):
        return flag
    kind = str(error.get("type", ""))
    if kind in _RETRYABLE_TYPES:
        return True
    message = str(error.get("message", ""))
    return kind in ("GenerationError", "ImageDownloadError") and any(
        cause in message for cause in _TRANSIENT_CAUSES
    )


def check_retry_mode(mode: str | None) -> None:
    """Refuse a ``retry_failed`` other than ``None``, ``"retryable"`` or ``"all"``."""
    if mode is not None and mode not in RETRY_MODES:
        raise InvalidOptionError(
            f"retry_failed must be 'retryable' (the failures of the moment) or 'all' (every "
            f"failed sample), got {mode!r}"
        )


def answers_again(error: Mapping[str, Any] | None, mode: str | None) -> bool:
    """Whether a sample whose last record has ``error`` is answered again under ``mode``."""
    if error is None or mode is None:
        return False
    return mode == "all" or (isinstance(error, Mapping) and is_retryable(error))


def _sample_fault_types() -> frozenset[str]:
    own = (errors.InvalidSampleError, errors.ImageError, errors.InvalidOptionError)
    return frozenset(
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, own)
    )


_SAMPLE_FAULTS = _sample_fault_types()


def _sample_fault(error: Mapping[str, Any]) -> bool:
    """A failure of the sample's own input (it says nothing about the engine)."""
    return not is_retryable(error) and error.get("type") in _SAMPLE_FAULTS


class FailureGuard:
    """Tells a run to stop: the engine is gone, or too many whole batches failed in a row.

    :param max_failed_batches: whole batches failed in a row that stop the run (0: never).
    """

    def __init__(self, max_failed_batches: int = DEFAULT_MAX_FAILED_BATCHES) -> None:
        if max_failed_batches < 0:
            raise InvalidOptionError(
                f"max_failed_batches must be >= 0 (0: never stop), got {max_failed_batches}"
            )
        self.max_failed_batches = max_failed_batches
        self.in_a_row = 0

    def stop_reason(self, batch: Sequence[Mapping[str, Any] | None]) -> str | None:
        """Why the run stops after this batch (its records' errors), or ``None``."""
        if not batch:
            return None
        for error in batch:
            if error is not None and error.get("type") == "EngineGoneError":
                return f"the engine is gone: {error.get('message')}"
        failed = [error for error in batch if error is not None]
        if len(failed) == len(batch) and not all(_sample_fault(error) for error in failed):
            self.in_a_row += 1
        else:
            self.in_a_row = 0
        if self.max_failed_batches and self.in_a_row >= self.max_failed_batches:
            last = failed[-1]
            return (
                f"{self.in_a_row} whole batches failed in a row (the last with "
                f"{last.get('type')}: {last.get('message')})"
            )
        return None


__all__ = [
    "DEFAULT_MAX_FAILED_BATCHES",
    "RETRY_MODES",
    "FailureGuard",
    "answers_again",
    "check_retry_mode",
    "is_retryable",
]
