"""vlmi plugin: any vision-language model vLLM runs, through vLLM's own batching.

Registers the curated models of :mod:`vlmi_vllm.catalog` and claims local
checkpoint folders and hub ids whose ``config.json`` names an architecture of
:mod:`vlmi_vllm.architectures`. Importing this module or listing its models
imports neither torch, transformers nor vLLM.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vlmi.plugin import ModelSpec, hookimpl
from vlmi_vllm.catalog import CURATED
from vlmi_vllm.resolving import resolve


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Declare the curated models."""
    for spec in CURATED:
        register(spec)


@hookimpl
def resolve_model(name: str, config: Mapping[str, Any] | None, hub: str) -> ModelSpec | None:
    """Claim a local checkpoint folder or a hub repo id whose architecture vLLM serves."""
    return resolve(name, dict(config) if config is not None else None, hub)


__all__ = ["register_models", "resolve_model"]
