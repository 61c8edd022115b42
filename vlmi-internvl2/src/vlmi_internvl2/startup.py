"""LMDeploy's start-up failures said as typed vlmi errors.

Two ways LMDeploy 0.18 can fail to start that ``except Exception`` alone
would not make plain:

- TurboMind's native module (``lmdeploy/turbomind/_turbomind*.so``) is
  missing or does not load: LMDeploy raises a bare ``RuntimeError`` once
  the pipeline is half built. :func:`require_turbomind` checks first and
  names the way out, ``backend="pytorch"``.
- The PyTorch engine checks its environment (torch, CUDA, Triton,
  Transformers, the checkpoint, the distributed set-up) before it starts, on
  CUDA in a spawned process; a failed check logs ``<Name> check failed!``
  there and ends with ``exit(1)``. The caller gets a ``SystemExit`` that
  says nothing else. :func:`startup_check_error` turns it into an
  :class:`~vlmi.errors.EngineUnavailableError` naming the check: from the
  lines LMDeploy logged in this process if it ran the checks here, else by
  running the same checks again in this process, where their log is read.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

from vlmi.errors import EngineUnavailableError

#: LMDeploy's ``BaseChecker.log_and_exit``: ``<Name> check failed!\\n<message>``
CHECK_FAILED = re.compile(r"<(?P<name>[^>]+)> check failed!\s*(?P<message>.*)", re.S)
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class _ErrorLines(logging.Handler):
    """Collects the text of the error records logged to LMDeploy's logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(_COLOUR.sub("", record.getMessage()))


@contextlib.contextmanager
def lmdeploy_error_lines() -> Iterator[list[str]]:
    """Within the block, the error lines LMDeploy logs in this process are collected."""
    handler = _ErrorLines()
    logger = logging.getLogger("lmdeploy")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def failed_check(lines: list[str]) -> tuple[str, str, str] | None:
    """(check name, LMDeploy's message, the exception line before it, if any) of a failed check."""
    for position in range(len(lines) - 1, -1, -1):
        found = CHECK_FAILED.search(lines[position])
        if found:
            before = lines[position - 1] if position > 0 else ""
            cause = "" if CHECK_FAILED.search(before) else before
            return found["name"], found["message"].strip(), cause.strip()
    return None


def rerun_pytorch_checks(model_path: str, config: Any) -> list[str]:
    """Run the PyTorch engine's start-up checks in this process; the error lines they log."""
    from lmdeploy.pytorch.check_env.base import BaseChecker
    from lmdeploy.pytorch.engine.config_builder import ConfigBuilder
    from lmdeploy.pytorch.engine.engine_checker import EngineChecker

    with lmdeploy_error_lines() as lines:
        try:
            resolved = ConfigBuilder.update_engine_config(config)
            checker = EngineChecker(model_path, resolved, trust_remote_code=True)
            BaseChecker.handle(checker)  # the checks themselves, without the spawned process
        except SystemExit:
            pass
        except Exception as exc:  # a check that cannot even run here: its reason is the answer
            lines.append(f"{type(exc).__name__}: {exc}")
    return lines


def startup_check_error(
    logged: list[str], model_path: str, config: Any, backend: str
) -> EngineUnavailableError:
    """The typed error for a ``SystemExit`` out of ``lmdeploy.pipeline``, naming the check."""
    found = failed_check(logged)
    if found is None and backend == "pytorch":
        found = failed_check(rerun_pytorch_checks(model_path, config))
    if found is None:
        return EngineUnavailableError(
            f"LMDeploy ({backend} backend) exited while starting, without naming a failed "
            "check in this process; its log above says why"
        )
    name, message, cause = found
    detail = f" ({cause})" if cause else ""
    return EngineUnavailableError(
        f"LMDeploy's start-up check <{name}> failed: {message}{detail}. Fix that environment "
        f"problem (or the engine options: tp, distributed_executor_backend, dtype) and load again"
    )


def require_turbomind() -> None:
    """Fail, naming ``backend="pytorch"``, when TurboMind's native module cannot be loaded."""
    from lmdeploy import turbomind

    if turbomind.is_available():
        return
    reason = getattr(turbomind, "_import_error", None)
    raise EngineUnavailableError(
        "LMDeploy's TurboMind backend is not usable here: its native module "
        f"(lmdeploy/turbomind/_turbomind*.so) does not load ({reason}). Pass backend='pytorch' "
        "to use LMDeploy's PyTorch engine, or install an lmdeploy wheel that ships TurboMind"
    ) from reason


__all__ = [
    "CHECK_FAILED",
    "failed_check",
    "lmdeploy_error_lines",
    "require_turbomind",
    "rerun_pytorch_checks",
    "startup_check_error",
]
