"""vlmi plugin: vision-language models that Transformers runs natively.

Registers the curated models of :mod:`vlmi_transformers.catalog` and claims
local checkpoint folders and hub ids whose config.json names an architecture of
:mod:`vlmi_transformers.architectures`. It is an engine plugin: its specs are
``generic``, so a family plugin providing the same name is the default.
Importing this module or listing its models imports neither torch nor
transformers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vlmi.plugin import ModelSpec, hookimpl
from vlmi_transformers.catalog import CURATED
from vlmi_transformers.resolving import resolve


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Declare the curated models."""
    for spec in CURATED:
        register(spec)


@hookimpl
def resolve_model(name: str, config: Mapping[str, Any] | None) -> ModelSpec | None:
    """Claim a local checkpoint folder or a hub repo id by its config.json's architecture."""
    return resolve(name, config)


__all__ = ["register_models", "resolve_model"]
