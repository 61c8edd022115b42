"""A plugin with a misspelt hook name (register_model, not register_models)."""

from __future__ import annotations

from vlmi.plugin import hookimpl


@hookimpl
def register_model(register: object) -> None:
    raise AssertionError("never called")
