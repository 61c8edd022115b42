"""vlmi plugin entry point: the hooks. Import nothing heavy here (no engine, no torch)."""

from __future__ import annotations

from collections.abc import Callable

from vlmi.plugin import ModelSpec, hookimpl
from vlmi_myfamily.catalog import CURATED


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Declare the models of :mod:`vlmi_myfamily.catalog`."""
    for spec in CURATED:
        register(spec)


__all__ = ["register_models"]
