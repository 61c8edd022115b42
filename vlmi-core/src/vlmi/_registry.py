"""The model registry: every plugin's specs, aliases, conflicts and missing-plugin hints."""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from vlmi.errors import DuplicateModelError, PluginError, UnknownModelError

from ._install_hints import OPEN_NAMES_PLUGIN, missing_plugin_hint
from ._plugins import PluginSet, load_plugins
from ._spec import ModelSpec, PluginInfo


@dataclass
class Registry:
    """Model specs by canonical name, the alias table, and name conflicts."""

    plugins: PluginSet
    specs: list[ModelSpec] = field(default_factory=list)
    names: dict[str, ModelSpec] = field(default_factory=dict)
    conflicts: dict[str, list[ModelSpec]] = field(default_factory=dict)

    def add(self, spec: ModelSpec) -> None:
        """Add a spec; a name already claimed becomes a conflict (both are kept out)."""
        for label in spec.names:
            if label in self.conflicts:
                self.conflicts[label].append(spec)
            elif label in self.names:
                self.conflicts[label] = [self.names.pop(label), spec]
            else:
                self.names[label] = spec
        self.specs.append(spec)

    def models(self) -> list[ModelSpec]:
        """Every usable spec (no conflicting canonical name), sorted by name."""
        return sorted((s for s in self.specs if s.name not in self.conflicts), key=lambda s: s.name)

    def resolve(self, name: str) -> ModelSpec:
        """The spec for a name or alias, or for a name a plugin's ``resolve_model`` claims."""
        key = name.strip().lower()
        if key in self.conflicts:
            raise DuplicateModelError(key, [_owner(s) for s in self.conflicts[key]])
        if key in self.names:
            return self.names[key]
        spec = self._resolve_by_hook(name)
        if spec is not None:
            return spec
        raise UnknownModelError(self._unknown_message(name))

    def _resolve_by_hook(self, name: str) -> ModelSpec | None:
        for ep_name, info in self.plugins.loaded.items():
            caller = self.plugins.hook_of(ep_name, "resolve_model")
            try:
                spec = caller(name=name)
            except Exception as exc:
                raise PluginError(
                    f"plugin {info.distribution} failed while resolving {name!r}: {exc!r}"
                ) from exc
            if spec is not None:
                if not isinstance(spec, ModelSpec):
                    raise PluginError(
                        f"plugin {info.distribution}'s resolve_model returned "
                        f"{type(spec).__name__}, not a vlmi.plugin.ModelSpec"
                    )
                return replace(spec, plugin=info)
        return None

    def _unknown_message(self, name: str) -> str:
        lines = [f"no installed plugin provides the model {name!r}."]
        hint = missing_plugin_hint(name)
        if hint is not None:
            lines.append(hint)
        else:
            close = difflib.get_close_matches(name.lower(), list(self.names), n=3, cutoff=0.6)
            if close:
                lines.append(f"Did you mean: {', '.join(close)}?")
            if "/" in name or Path(name).expanduser().is_dir():
                lines.append(
                    "Hub ids and local folders are served only by a plugin that resolves them "
                    f"({OPEN_NAMES_PLUGIN} does, for Transformers-native models)."
                )
        if self.plugins.failures:
            broken = ", ".join(sorted({f.distribution for f in self.plugins.failures}))
            lines.append(f"These plugins failed to load: {broken}; run `vlmi plugins` for why.")
        if not self.specs:
            lines.append("No model plugin is installed (vlmi-core alone has no models).")
        else:
            lines.append("Run `vlmi models` to list the installed models.")
        return " ".join(lines)


def build_registry(plugins: PluginSet) -> Registry:
    """Call each loaded plugin's ``register_models`` on its own, so errors are attributed."""
    registry = Registry(plugins)
    for ep_name, info in list(plugins.loaded.items()):
        collected: list[ModelSpec] = []

        def register(
            spec: ModelSpec, _info: PluginInfo = info, _out: list[ModelSpec] = collected
        ) -> None:
            if not isinstance(spec, ModelSpec):
                raise PluginError(
                    f"register() takes a vlmi.plugin.ModelSpec, got {type(spec).__name__}"
                )
            _out.append(replace(spec, plugin=_info))

        try:
            plugins.hook_of(ep_name, "register_models")(register=register)
        except Exception as exc:
            # out of `loaded` and unregistered, so its resolve_model is not consulted either
            plugins.remove(ep_name)
            plugins.add_failure(info, "register", exc)
            continue
        for spec in collected:
            registry.add(spec)
    return registry


def _owner(spec: ModelSpec) -> str:
    if spec.plugin is None:
        return "an unknown plugin"
    plugin = spec.plugin
    return f"{plugin.distribution} {plugin.version} (entry point {plugin.entry_point!r})"


_lock = threading.Lock()
_registry: Registry | None = None


def find_spec(name: str) -> ModelSpec:
    """The spec ``vlmi.load(name)`` would use (for a plugin's tests of its registration)."""
    return get_registry().resolve(name)


def get_registry(refresh: bool = False) -> Registry:
    """The process-wide registry, built on first use (``refresh`` rebuilds it)."""
    global _registry
    with _lock:
        if _registry is None or refresh:
            _registry = build_registry(load_plugins())
        return _registry


__all__ = ["Registry", "build_registry", "find_spec", "get_registry"]
