"""vlmi plugin for InternVL2 through LMDeploy: registers the models, imports nothing heavy."""

from __future__ import annotations

from collections.abc import Callable

from vlmi.plugin import ModelSpec, hookimpl
from vlmi_internvl2.catalog import CURATED


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Declare the InternVL2 sizes of :mod:`vlmi_internvl2.catalog`."""
    for spec in CURATED:
        register(spec)


__all__ = ["register_models"]
