"""vlmi plugin for OpenAI-compatible endpoints: registers the catalog, claims ``openai:<id>``.

``vlmi.load("openai:gpt-4o")`` uses the OpenAI API; with ``base_url=`` (or
``OPENAI_BASE_URL``) any compatible server: vLLM, LMDeploy, SGLang or
another environment's ``vlmi serve``. Nothing heavy is imported here: the
``openai`` client is imported when a model is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

from vlmi.plugin import ModelSpec, hookimpl
from vlmi_openai.catalog import CATALOG, PREFIX, curated_specs, spec_for

try:
    __version__ = version("vlmi-openai")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Register the curated API models."""
    for spec in curated_specs():
        register(spec)


@hookimpl
def resolve_model(name: str) -> ModelSpec | None:
    """Claim ``openai:<model id>``: that model of the configured OpenAI-compatible endpoint."""
    if not name.strip().lower().startswith(PREFIX):
        return None
    api_model = name.strip()[len(PREFIX) :].strip()
    if not api_model:
        return None
    curated = {m.api_model: m for m in CATALOG}.get(api_model)
    if curated is not None:
        return spec_for(api_model, name=curated.name, description=curated.description)
    return spec_for(api_model)


__all__ = ["__version__", "register_models", "resolve_model"]
