"""vlmi-serve: ``vlmi serve``, one loaded model behind an OpenAI-compatible endpoint.

Registers the ``serve`` command; FastAPI and uvicorn are imported only when
the command runs.
"""

from __future__ import annotations

from collections.abc import Callable

from vlmi.plugin import Command, hookimpl


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """``vlmi serve``."""
    from .cli import DESCRIPTION, add_serve_arguments, run_serve

    register(
        Command(
            "serve",
            "serve a model behind an OpenAI-compatible endpoint",
            add_serve_arguments,
            run_serve,
            description=DESCRIPTION,
        )
    )


__all__ = ["register_commands"]
