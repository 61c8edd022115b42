"""What ``vlmi download NAME`` fetches: the model's spec, its weights id, revision and files.

- A registered name or alias: the spec's weights id for the hub and its
  revision (``defaults["revision"]``), without importing the engine.
- A hub id (``owner/name``) that a registered spec names as its weights: that spec.
- Any other hub id: only its ``config.json`` is fetched (into the hub's cache,
  where the download finds it), and the installed plugins are asked to claim
  the hub id by it through ``resolve_model``, as ``vlmi.load`` does. When none
  does, the download stops there: nothing else of the repository is fetched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from vlmi.errors import UnknownModelError, WeightsNotFoundError

from .._checkpoint import hub_config, is_hub_id, read_config
from .._install_hints import missing_plugin_hint
from .._options import WeightsOptions
from .._registry import Registry, get_registry
from .._spec import ModelSpec
from .._weights import weights_id
from .files import patterns_for


@dataclass(frozen=True)
class Target:
    """One repository to fetch, and the model it is for."""

    model: str
    hub: str
    repo: str
    revision: str | None
    patterns: tuple[str, ...]
    spec: ModelSpec | None = None
    #: a local folder the model's spec points at (nothing to download)
    local: Path | None = None

    @property
    def plugin(self) -> str:
        """The distribution that serves the model, for messages."""
        if self.spec is None or self.spec.plugin is None:
            return "?"
        return self.spec.plugin.distribution


def resolve_target(name: str, hub: str | None = None, revision: str | None = None) -> Target:
    """The repository ``vlmi download name`` fetches (no weights fetched here)."""
    hub = WeightsOptions(hub=hub).hub or "huggingface"
    registry = get_registry()
    key = name.strip().lower()
    if key in registry.names or key in registry.conflicts:
        return _from_spec(name, registry.resolve(name), hub, revision)
    if is_hub_id(name):
        spec = _registered_for(registry, hub, name)
        if spec is not None:
            return _from_spec(name, spec, hub, revision)
        return _claim_from_config(registry, name, hub, revision)
    if Path(name).expanduser().is_dir():
        return Target(name, hub, name, revision, (), local=Path(name).expanduser().resolve())
    return _from_spec(name, registry.resolve(name), hub, revision)


def _from_spec(name: str, spec: ModelSpec, hub: str, revision: str | None) -> Target:
    defaults = spec.defaults
    options = WeightsOptions(
        model_path=defaults.get("model_path"), hub=hub, revision=defaults.get("revision")
    )
    if not spec.weights and not options.model_path:
        raise WeightsNotFoundError(
            f"model {spec.name!r} ({spec.engine}) declares no weights to download"
        )
    repo = weights_id(spec, options)
    local = Path(repo).expanduser()
    return Target(
        model=spec.name,
        hub=hub,
        repo=repo,
        revision=revision or options.revision,
        patterns=patterns_for(spec),
        spec=spec,
        local=local.resolve() if local.is_dir() else None,
    )


def _registered_for(registry: Registry, hub: str, repo: str) -> ModelSpec | None:
    for spec in registry.models():
        if spec.weights.get(hub, "").lower() == repo.lower():
            return spec
    return None


def _claim_from_config(registry: Registry, repo: str, hub: str, revision: str | None) -> Target:
    config_file = hub_config(repo, hub, revision)
    config, _ = read_config(config_file, repo)
    spec = registry.claim(repo, config, hub=hub, revision=revision)
    if spec is None:
        raise UnknownModelError(_refusal(repo, config_file))
    return Target(
        model=repo,
        hub=hub,
        repo=repo,
        revision=revision,
        patterns=patterns_for(spec),
        spec=spec,
    )


def _refusal(repo: str, config: Path) -> str:
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data = data if isinstance(data, dict) else {}
    kind = repr(data.get("model_type", "untyped"))
    if "auto_map" in data:
        kind += " (remote code)"
    lines = [
        f"no installed plugin serves {repo!r}: its config.json describes a {kind} model, and "
        "nothing else of it was downloaded."
    ]
    hint = missing_plugin_hint(repo)
    lines.append(hint or "Run `vlmi plugins` to see what is installed.")
    return " ".join(lines)


__all__ = ["Target", "resolve_target"]
