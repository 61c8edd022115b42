"""What each model's environment provides, asked through its own ``vlmi`` command.

The driver never imports a plugin: it runs ``<python> -m vlmi models --json``
once per environment (all environments at once) and reads the answer.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .._install_hints import missing_plugin_hint
from .plan import ModelEntry

PROBE_TIMEOUT_S = 120


@dataclass(frozen=True)
class Environment:
    """One Python environment: the models its plugins provide, or why it cannot say."""

    python: str
    models: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None

    def find(self, name: str) -> dict[str, Any] | None:
        """The ``vlmi models --json`` entry of ``name`` (by name or alias).

        Where several plugins provide the name, the one the listing marks ``default``.
        """
        found = [
            spec
            for spec in self.models
            if spec.get("name") == name or name in (spec.get("aliases") or [])
        ]
        chosen = [spec for spec in found if spec.get("default")] or found
        return chosen[0] if chosen else None


@dataclass(frozen=True)
class ModelCheck:
    """Whether a plan's model can run where the plan says, and what to do if not."""

    model: ModelEntry
    spec: dict[str, Any] | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def probe(pythons: list[str]) -> dict[str, Environment]:
    """Ask every environment at once what models it has."""
    started = {}
    for python in dict.fromkeys(pythons):
        try:
            started[python] = subprocess.Popen(
                [python, "-m", "vlmi", "models", "--json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        except OSError as exc:
            started[python] = exc  # type: ignore[assignment]
    found: dict[str, Environment] = {}
    for python, process in started.items():
        found[python] = _read(python, process)
    return found


def _read(python: str, process: subprocess.Popen[str] | OSError) -> Environment:
    if isinstance(process, OSError):
        return Environment(python, problem=f"cannot start {python}: {process.strerror}")
    try:
        out, err = process.communicate(timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return Environment(python, problem=f"`{python} -m vlmi models --json` did not answer")
    if process.returncode != 0:
        if "No module named vlmi" in err:
            return Environment(
                python,
                problem=f"vlmi is not installed there; fix: {python} -m pip install vlmi-core "
                "and the model's plugin",
            )
        last = err.strip().splitlines()[-1:] or ["(no message)"]
        return Environment(python, problem=f"`vlmi models --json` failed: {last[0]}")
    try:
        listing = json.loads(out)
    except json.JSONDecodeError:
        return Environment(python, problem="`vlmi models --json` did not print JSON")
    # {"format": 1, "models": [...]}; vlmi-core 0.2 printed the bare list, with the plugin
    # as {"distribution", "version"}: both read into the documented flat fields
    models = listing.get("models", []) if isinstance(listing, dict) else listing
    return Environment(python, models=[_flat(m) for m in models if isinstance(m, dict)])


def _flat(entry: dict[str, Any]) -> dict[str, Any]:
    plugin = entry.get("plugin")
    if isinstance(plugin, dict):
        return {
            **entry,
            "plugin": plugin.get("distribution"),
            "plugin_version": plugin.get("version"),
        }
    return entry


def check_model(
    model: ModelEntry, environment: Environment, others: Iterable[Environment] = ()
) -> ModelCheck:
    """Whether ``model``'s environment provides it; the fix when it does not.

    ``others`` (the plan's other environments) may tell which plugin provides it.
    """
    where = f"the environment of {model.python}"
    if environment.problem is not None:
        return ModelCheck(model, None, f"{where}: {environment.problem}")
    spec = environment.find(model.name)
    if spec is not None:
        return ModelCheck(model, spec)
    if "/" in model.name or model.name.startswith((".", "~")):
        # a hub id or a folder: a plugin claims it when it loads, not in the listing
        return ModelCheck(model, {"name": model.name, "plugin": None, "engine": None})
    return ModelCheck(
        model, None, f"no plugin in {where} provides model {model.name!r}; {_fix(model, others)}"
    )


def _fix(model: ModelEntry, others: Iterable[Environment]) -> str:
    for other in others:
        spec = other.find(model.name)
        if spec and spec.get("plugin"):
            distribution = spec["plugin"]
            return (
                f"fix: {model.python} -m pip install {distribution} ({distribution} provides it "
                f'in {other.python}; or set python = "{other.python}")'
            )
    hint = missing_plugin_hint(model.name)
    if hint and "pip install " in hint:
        return f"fix: {model.python} -m pip install {hint.rsplit('pip install ', 1)[1]}"
    return (
        f"fix: install the plugin that provides it with {model.python} -m pip install <plugin>, "
        "or set python to an environment that has it (`vlmi models` there lists it)"
    )


__all__ = ["Environment", "ModelCheck", "check_model", "probe"]
