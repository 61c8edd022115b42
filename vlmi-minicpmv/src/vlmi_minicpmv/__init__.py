"""vlmi plugin for MiniCPM-V through vLLM: registers the models, imports nothing heavy."""

from __future__ import annotations

from collections.abc import Callable

from vlmi.plugin import ModelSpec, hookimpl
from vlmi_minicpmv.catalog import CURATED


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Declare the models of :mod:`vlmi_minicpmv.catalog`."""
    for spec in CURATED:
        register(spec)


__all__ = ["register_models"]
