"""Plugin discovery: entry points of group ``vlmi``, loaded one at a time.

A plugin that fails to import or to pass pluggy's checks is recorded in
:attr:`PluginSet.failures` (shown by ``vlmi plugins``), never fatal to the
others. Environment variables:

- ``VLMI_DISABLE_PLUGINS``: comma-separated entry-point or distribution names
  to skip (``*`` skips all);
- ``VLMI_LOAD_PLUGINS``: if set, load only these (empty: none);
- ``VLMI_STRICT_PLUGINS=1``: re-raise the first plugin failure (for plugin
  authors and CI).
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

import pluggy

from . import _hookspecs as hookspecs
from ._spec import PluginInfo

GROUP = "vlmi"


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded or could not register its models."""

    entry_point: str
    distribution: str
    version: str
    stage: str  # "import", "validate" or "register"
    error: str
    details: str = ""


@dataclass
class PluginSet:
    """The plugin manager plus what was loaded, skipped and failed."""

    manager: pluggy.PluginManager
    loaded: dict[str, PluginInfo] = field(default_factory=dict)
    #: "distribution:entry point" -> info, for the plugins left out by the variables
    skipped: dict[str, PluginInfo] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)

    def hook_of(self, ep_name: str, hook: str) -> pluggy.HookCaller:
        """``hook`` of one plugin alone (its failure is its own, not the others')."""
        others = [
            plugin
            for name, plugin in self.manager.list_name_plugin()
            if name != ep_name and plugin is not None
        ]
        return self.manager.subset_hook_caller(hook, remove_plugins=others)

    def remove(self, ep_name: str) -> None:
        """Take a loaded plugin out again (its hooks are no longer called)."""
        self.loaded.pop(ep_name, None)
        _unregister(self.manager, ep_name)

    def add_failure(self, info: PluginInfo, stage: str, exc: BaseException) -> None:
        """Record a failure; re-raise it when VLMI_STRICT_PLUGINS is set."""
        if _flag("VLMI_STRICT_PLUGINS"):
            raise exc
        self.failures.append(
            PluginFailure(
                entry_point=info.entry_point,
                distribution=info.distribution,
                version=info.version,
                stage=stage,
                error=f"{type(exc).__name__}: {exc}",
                details="".join(traceback.format_exception(exc)[-6:]),
            )
        )


def get_plugin_manager() -> pluggy.PluginManager:
    """A fresh plugin manager with vlmi's hookspecs (nothing registered)."""
    manager = pluggy.PluginManager(GROUP)
    manager.add_hookspecs(hookspecs)
    return manager


def load_plugins() -> PluginSet:
    """Discover and register every ``vlmi`` entry point, one at a time."""
    plugins = PluginSet(get_plugin_manager())
    disabled = _names("VLMI_DISABLE_PLUGINS")
    allowed = _names("VLMI_LOAD_PLUGINS") if "VLMI_LOAD_PLUGINS" in os.environ else None
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        info = plugin_info(ep)
        if _is_listed(info, disabled) or (allowed is not None and not _is_listed(info, allowed)):
            # not registered, and the name not blocked: another distribution may use it
            plugins.skipped[f"{info.distribution}:{ep.name}"] = info
            continue
        if ep.name in plugins.loaded:
            plugins.add_failure(
                info,
                "import",
                RuntimeError(
                    f"entry point name {ep.name!r} is also used by "
                    f"{plugins.loaded[ep.name].distribution}; rename one of them"
                ),
            )
            continue
        try:
            module = ep.load()
            plugins.manager.register(module, name=ep.name)
            _check_one(plugins.manager, module)
        except Exception as exc:
            stage = "validate" if isinstance(exc, pluggy.PluginValidationError) else "import"
            _unregister(plugins.manager, ep.name)
            plugins.add_failure(info, stage, exc)
            continue
        plugins.loaded[ep.name] = info
    plugins.manager.check_pending()
    return plugins


def plugin_info(ep: EntryPoint) -> PluginInfo:
    """Name, distribution and version behind an entry point, without importing it."""
    dist = ep.dist
    return PluginInfo(
        entry_point=ep.name,
        distribution=dist.metadata["Name"] if dist is not None else "?",
        version=dist.version if dist is not None else "?",
    )


def _check_one(manager: pluggy.PluginManager, module: ModuleType | object) -> None:
    """check_pending() for one plugin: an unknown hook name is this plugin's error."""
    for name in dir(module):
        if manager.parse_hookimpl_opts(module, name) is None:
            continue
        hook = getattr(manager.hook, name, None)
        if hook is None or not hook.has_spec():
            known = ", ".join(sorted(hook_names()))
            raise pluggy.PluginValidationError(
                module, f"unknown hook {name!r}; vlmi's hooks are {known}"
            )


def hook_names() -> list[str]:
    """The names of vlmi's hooks (every ``@hookspec`` in :mod:`vlmi._hookspecs`)."""
    marker = hookspecs.hookspec.project_name + "_spec"
    return [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), marker)]


def _unregister(manager: pluggy.PluginManager, name: str) -> None:
    plugin = manager.get_plugin(name)
    if plugin is not None:
        manager.unregister(plugin, name=name)


def _names(variable: str) -> set[str]:
    return {n.strip() for n in os.environ.get(variable, "").split(",") if n.strip()}


def _is_listed(info: PluginInfo, names: set[str]) -> bool:
    return "*" in names or info.entry_point in names or info.distribution in names


def _flag(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in ("1", "true", "yes", "on")


__all__ = [
    "GROUP",
    "PluginFailure",
    "PluginSet",
    "get_plugin_manager",
    "hook_names",
    "load_plugins",
    "plugin_info",
]
