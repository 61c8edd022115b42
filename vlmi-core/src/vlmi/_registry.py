"""The model registry: every plugin's specs, aliases, conflicts and missing-plugin hints."""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from vlmi.errors import DuplicateModelError, PluginError, UnknownModelError

from ._checkpoint import checkpoint_config
from ._install_hints import OPEN_NAMES_PLUGIN, missing_plugin_hint
from ._options import WeightsOptions
from ._plugins import PluginSet, load_plugins
from ._spec import ModelSpec, PluginInfo, list_video_takers


@dataclass
class Registry:
    """Model specs, and for each name or alias every spec that provides it.

    Several plugins may provide one name (a family plugin and engine plugins,
    each with its own engine). The default is decided by :func:`choose`; a
    user picks another with ``plugin=<distribution>``.
    """

    plugins: PluginSet
    specs: list[ModelSpec] = field(default_factory=list)
    providers: dict[str, list[ModelSpec]] = field(default_factory=dict)

    def add(self, spec: ModelSpec) -> None:
        """Add a spec as one more provider of its name and aliases."""
        for label in spec.names:
            self.providers.setdefault(label, []).append(spec)
        self.specs.append(spec)

    @property
    def names(self) -> dict[str, ModelSpec]:
        """Each name or alias that has a default provider, with that provider."""
        chosen = {label: _default(specs) for label, specs in self.providers.items()}
        return {label: spec for label, spec in chosen.items() if spec is not None}

    @property
    def conflicts(self) -> dict[str, list[ModelSpec]]:
        """Names with no default: registered twice by one plugin, or claimants left equal."""
        return {
            label: specs
            for label, specs in self.providers.items()
            if len(specs) > 1 and _default(specs) is None
        }

    def models(self) -> list[ModelSpec]:
        """Every spec, once per providing plugin, by name (the default provider first)."""
        return sorted(self.specs, key=lambda s: (s.name, not self.is_default(s), _dist(s)))

    def is_default(self, spec: ModelSpec) -> bool:
        """Whether ``vlmi.load(spec.name)`` (no ``plugin=``) gives this spec."""
        return _default(self.providers.get(spec.name, [])) is spec

    def resolve(
        self,
        name: str,
        plugin: str | None = None,
        hub: str | None = None,
        revision: str | None = None,
    ) -> ModelSpec:
        """The spec for a name or alias, or for a hub id / folder / name a plugin claims.

        :param plugin: the distribution (or entry-point name) that must provide it.
        :param hub: where a hub id's ``config.json`` is read from (claims need it).
        :param revision: the hub revision of that ``config.json``.
        """
        key = name.strip().lower()
        if plugin is not None:
            self._check_plugin(plugin)
        specs = [s for s in self.providers.get(key, []) if _provided_by(s, plugin)]
        if specs:
            return choose(key, specs)
        spec, problem = self._resolve_by_hook(name, plugin, hub, revision)
        if spec is not None:
            return spec
        if plugin is not None and key in self.providers:
            others = ", ".join(sorted({_dist(s) for s in self.providers[key]}))
            raise UnknownModelError(
                f"the plugin {plugin!r} does not provide the model {name!r}; it is provided by "
                f"{others} (drop plugin= / --plugin, or name one of these)"
            )
        raise UnknownModelError(self._unknown_message(name, plugin, problem))

    def _check_plugin(self, plugin: str) -> None:
        infos = [*self.plugins.loaded.values(), *(s.plugin for s in self.specs if s.plugin)]
        known = {_norm(i.distribution) for i in infos} | {_norm(i.entry_point) for i in infos}
        if _norm(plugin) not in known:
            installed = ", ".join(sorted({i.distribution for i in infos}))
            raise UnknownModelError(
                f"no loaded plugin is called {plugin!r} (loaded: {installed or 'none'}); "
                f"install it (pip install {plugin}) or see `vlmi plugins`"
            )

    def _resolve_by_hook(
        self, name: str, plugin: str | None, hub: str | None, revision: str | None
    ) -> tuple[ModelSpec | None, str | None]:
        """Ask every plugin (or the one named) whether it serves ``name``; choose among claims.

        Also returns why a hub id's or folder's ``config.json`` could not be read.
        """
        hub = WeightsOptions(hub=hub).hub
        config: dict[str, Any] | None = None
        problem = None
        if any(
            "config" in impl.argnames for _, c in self._askers(plugin) for impl in c.get_hookimpls()
        ):
            # read only when a plugin claims by it (a hub id costs one small download)
            config, problem = checkpoint_config(name, hub, revision)
        spec = self.claim(name, config, plugin=plugin, hub=hub, revision=revision)
        if spec is None and config is not None:
            problem = f"no installed plugin serves what its config.json names ({_kind(config)})"
        return spec, problem

    def claim(
        self,
        name: str,
        config: dict[str, Any] | None,
        plugin: str | None = None,
        hub: str | None = None,
        revision: str | None = None,
    ) -> ModelSpec | None:
        """The spec the plugins' ``resolve_model`` give ``name`` (its ``config.json`` read
        already), chosen among their claims; None when no plugin claims it."""
        hub = WeightsOptions(hub=hub).hub
        claims: list[ModelSpec] = []
        for info, caller in self._askers(plugin):
            try:
                answers = caller(name=name, config=config, hub=hub, revision=revision)
            except Exception as exc:
                raise PluginError(
                    f"plugin {info.distribution} failed while resolving {name!r}: {exc!r}"
                ) from exc
            for spec in answers:
                if not isinstance(spec, ModelSpec):
                    raise PluginError(
                        f"plugin {info.distribution}'s resolve_model returned "
                        f"{type(spec).__name__}, not a vlmi.plugin.ModelSpec"
                    )
                claims.append(replace(spec, plugin=info))
        return choose(name, claims) if claims else None

    def _askers(self, plugin: str | None) -> list[tuple[PluginInfo, Any]]:
        """Each loaded plugin (or the one named) with its own ``resolve_model``."""
        return [
            (info, self.plugins.hook_of(ep_name, "resolve_model"))
            for ep_name, info in self.plugins.loaded.items()
            if plugin is None or _norm(plugin) in (_norm(info.distribution), _norm(ep_name))
        ]

    def _unknown_message(self, name: str, plugin: str | None, problem: str | None) -> str:
        if plugin is None:
            lines = [f"no installed plugin provides the model {name!r}."]
        else:
            lines = [f"the plugin {plugin!r} does not provide the model {name!r}."]
        if problem:
            lines.append(f"Plugins claim hub ids and folders by their config.json: {problem}.")
        hint = missing_plugin_hint(name)
        if hint is not None:
            lines.append(hint)
        else:
            close = difflib.get_close_matches(name.lower(), list(self.providers), n=3, cutoff=0.6)
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


def choose(name: str, specs: list[ModelSpec]) -> ModelSpec:
    """The provider of ``name`` among ``specs``, or DuplicateModelError when none is decided.

    The rule: a family plugin's spec (``generic=False``) before an engine plugin's
    (``generic=True``), then the highest ``preference``. One plugin registering
    the name twice, or two left equal, is an error that names them.
    """
    twice = _registered_twice(specs)
    if twice:
        raise DuplicateModelError(name, [_owner(twice[0])], twice=True)
    best = _default(specs)
    if best is None:
        top = max(s.rank for s in specs)
        raise DuplicateModelError(name, [_owner(s) for s in specs if s.rank == top])
    return best


def _kind(config: dict[str, Any]) -> str:
    """What a config.json says it holds, in words."""
    parts = [f"model_type {config.get('model_type')!r}"]
    if config.get("architectures"):
        parts.append(f"architectures {config['architectures']!r}")
    if "auto_map" in config:
        parts.append("remote code (auto_map)")
    return ", ".join(parts)


def _default(specs: list[ModelSpec]) -> ModelSpec | None:
    if not specs or _registered_twice(specs):
        return None
    top = max(s.rank for s in specs)
    best = [s for s in specs if s.rank == top]
    return best[0] if len(best) == 1 else None


def _registered_twice(specs: list[ModelSpec]) -> list[ModelSpec]:
    seen: dict[str, ModelSpec] = {}
    for spec in specs:
        key = spec.plugin.entry_point if spec.plugin else ""
        if key in seen and spec.plugin is not None:
            return [seen[key], spec]
        seen[key] = spec
    return []


def _provided_by(spec: ModelSpec, plugin: str | None) -> bool:
    if plugin is None:
        return True
    if spec.plugin is None:
        return False
    return _norm(plugin) in (_norm(spec.plugin.distribution), _norm(spec.plugin.entry_point))


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _dist(spec: ModelSpec) -> str:
    return spec.plugin.distribution if spec.plugin else "?"


def _owner(spec: ModelSpec) -> str:
    if spec.plugin is None:
        return "an unknown plugin"
    plugin = spec.plugin
    return f"{plugin.distribution} {plugin.version} (entry point {plugin.entry_point!r})"


_lock = threading.Lock()
_registry: Registry | None = None


def find_spec(
    name: str, plugin: str | None = None, hub: str | None = None, revision: str | None = None
) -> ModelSpec:
    """The spec ``vlmi.load(name, plugin=..., hub=..., revision=...)`` would use (for a
    plugin's tests); ``hub`` and ``revision`` say where a hub id's ``config.json`` is read."""
    return get_registry().resolve(name, plugin=plugin, hub=hub, revision=revision)


def get_registry(refresh: bool = False) -> Registry:
    """The process-wide registry, built on first use (``refresh`` rebuilds it)."""
    global _registry
    with _lock:
        if _registry is None or refresh:
            _registry = build_registry(load_plugins())
        return _registry


def _models_taking_video() -> list[str]:
    return sorted({spec.name for spec in get_registry().models() if spec.video})


list_video_takers(_models_taking_video)


__all__ = ["Registry", "build_registry", "choose", "find_spec", "get_registry"]
