"""The commands and ``vlmi run`` executors that plugins add, collected once per process.

The core's own commands (``models``, ``plugins``, ``eval``, ``run``,
``score``, ``export``, ``compare``, ``download``) are registered through the same hook by built-in
plugin modules, which ``VLMI_DISABLE_PLUGINS`` / ``VLMI_LOAD_PLUGINS`` never
remove. A plugin whose hook fails is recorded as a failure of that plugin
(``vlmi plugins`` shows it); the other commands stay.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from vlmi.errors import MissingDependencyError, PluginError

from ._command import Command
from ._install_hints import distribution_for_executor
from ._registry import get_registry
from ._run.executor import ExecutorType

#: The core's own plugin modules (imported by name, like pytest's built-in plugins).
BUILTIN_PLUGINS = (
    "vlmi._cli.builtin",
    "vlmi._run.cli",
    "vlmi._vlmevalkit.cli",
    "vlmi._compare.cli",
    "vlmi._download.cli",
)
CORE = "vlmi-core"


@dataclass
class Extensions:
    """Every registered command (with who registered it) and executor type."""

    commands: dict[str, tuple[Command, str]] = field(default_factory=dict)
    executors: dict[str, ExecutorType] = field(default_factory=dict)


_lock = threading.Lock()
_extensions: Extensions | None = None


def get_extensions(refresh: bool = False) -> Extensions:
    """The commands and executors of the core and of every loaded plugin."""
    global _extensions
    with _lock:
        if _extensions is None or refresh:
            _extensions = _collect()
        return _extensions


def _collect() -> Extensions:
    found = Extensions()
    for module_name in BUILTIN_PLUGINS:
        module = importlib.import_module(module_name)
        module.register_commands(register=_adder(found, CORE))
    plugins = get_registry().plugins
    for ep_name, info in list(plugins.loaded.items()):
        for hook in ("register_commands", "register_executors"):
            try:
                plugins.hook_of(ep_name, hook)(register=_adder(found, info.distribution))
            except Exception as exc:
                plugins.add_failure(info, "register", exc)
    return found


def _adder(found: Extensions, owner: str) -> Callable[[Any], None]:
    def register(item: Command | ExecutorType) -> None:
        if isinstance(item, Command):
            if item.name in found.commands:
                other = found.commands[item.name][1]
                raise PluginError(
                    f"command {item.name!r} is registered by {other} and by {owner}; "
                    "uninstall one of them or block one with VLMI_DISABLE_PLUGINS"
                )
            found.commands[item.name] = (item, owner)
        elif isinstance(item, ExecutorType):
            if item.name in found.executors:
                raise PluginError(
                    f"executor {item.name!r} is registered by "
                    f"{found.executors[item.name].distribution} and by {owner}"
                )
            found.executors[item.name] = replace(item, distribution=owner)
        else:
            raise PluginError(
                f"register() takes a vlmi.plugin.Command or ExecutorType, got {type(item).__name__}"
            )

    return register


def executor_type(name: str) -> ExecutorType:
    """The executor type registered as ``name``, or an error naming what to install."""
    found = get_extensions().executors.get(name)
    if found is None:
        distribution = distribution_for_executor(name) or f"the plugin providing {name!r}"
        raise MissingDependencyError(
            f"the {name!r} executor is not installed: pip install {distribution}",
            install=f"pip install {distribution}",
        )
    return found


def create_executor(name: str, **options: Any) -> Any:
    """The executor registered as ``name`` (e.g. ``"ray"``), built with ``options``, without
    importing the distribution that provides it; an error naming what to install if none does."""
    return executor_type(name).create(**options)


__all__ = ["BUILTIN_PLUGINS", "Extensions", "create_executor", "executor_type", "get_extensions"]
