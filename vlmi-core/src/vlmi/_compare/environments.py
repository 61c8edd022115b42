"""Which model each plan entry gives in its own environment, asked through its ``vlmi`` command.

The driver never imports a plugin: for every entry it runs
``<python> -m vlmi models --resolve NAME [--plugin P] [-O KEY=VALUE ...] --json``
(several at once) and reads the answer: the model ``vlmi run`` there would
load, its plugin, engine and their versions, and whether it needs a GPU; or
why the name does not resolve there (unknown name, bad option, a hub id whose
``config.json`` cannot be read), with what to install.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .plan import ModelEntry

RESOLVE_TIMEOUT_S = 120
AT_ONCE = 8

#: the answer of ``vlmi models --resolve --json``, or why there is none
Answer = tuple[dict[str, Any] | None, str | None]


@dataclass(frozen=True)
class ModelCheck:
    """Whether a plan's model can run where the plan says, and what to do if not.

    ``spec`` is the environment's resolution (``vlmi models --resolve --json``).
    """

    model: ModelEntry
    spec: dict[str, Any] | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def needs_gpu(self) -> bool:
        """Whether the model runs on a GPU (True when the environment did not say)."""
        return bool((self.spec or {}).get("needs_gpu", True))


def option_flags(options: Mapping[str, Any]) -> list[str]:
    """The ``--plugin`` and ``-O KEY=VALUE`` flags of ``vlmi.load`` options (`vlmi run`'s)."""
    flags: list[str] = []
    for key, value in options.items():
        if key == "plugin":
            flags += ["--plugin", str(value)]
            continue
        # -O values are text, read for the option's type: a str as it is, anything else as JSON
        text = value if isinstance(value, str) else json.dumps(value)
        flags += ["-O", f"{key}={text}"]
    return flags


def resolve_command(python: str, name: str, options: Mapping[str, Any]) -> list[str]:
    """The command that asks ``python``'s environment which model ``name`` gives there."""
    return [python, "-m", "vlmi", "models", "--resolve", name, *option_flags(options), "--json"]


def resolve_models(models: Sequence[ModelEntry]) -> dict[str, ModelCheck]:
    """Each entry resolved in its own environment, by its key.

    A name no plugin there provides is asked of the plan's other environments
    too, so that the fix can name the plugin that provides it.
    """
    asks = {_ask(m.python, m.name, m.load_options): m for m in models}
    answers = _run_all({key: resolve_command(*key[:2], m.load_options) for key, m in asks.items()})
    unknown = {
        key: m
        for key, m in asks.items()
        if (answers[key][0] or {}).get("error", {}).get("type") == "UnknownModelError"
    }
    pythons = list(dict.fromkeys(m.python for m in models))
    plugin_only = {k: ({"plugin": m.plugin} if m.plugin else {}) for k, m in unknown.items()}
    elsewhere = _run_all(
        {
            (key, python): resolve_command(python, m.name, plugin_only[key])
            for key, m in unknown.items()
            for python in pythons
            if python != m.python
        }
    )
    checks: dict[str, ModelCheck] = {}
    for model in models:
        key = _ask(model.python, model.name, model.load_options)
        answer, problem = answers[key]
        where = f"the environment of {model.python}"
        if problem is not None:
            checks[model.key] = ModelCheck(model, None, f"{where}: {problem}")
        elif answer is not None and "error" not in answer:
            checks[model.key] = ModelCheck(model, answer)
        else:
            found = {
                python: found
                for (asked, python), (found, _) in elsewhere.items()
                if asked == key and found is not None and found.get("plugin")
            }
            error = (answer or {}).get("error") or {}
            checks[model.key] = ModelCheck(model, None, _problem(model, error, found))
    return checks


def _ask(python: str, name: str, options: Mapping[str, Any]) -> tuple[str, str, str]:
    return python, name, json.dumps(options, sort_keys=True)


def _problem(model: ModelEntry, error: Mapping[str, Any], found: Mapping[str, Any]) -> str:
    """What is wrong with ``model`` in its environment, and the fix."""
    where = f"the environment of {model.python}"
    install = [str(d) for d in error.get("install") or []]
    if error.get("type") == "UnknownModelError":
        for python, spec in found.items():
            distribution = spec["plugin"]
            return (
                f"no plugin in {where} provides model {model.name!r}; fix: {model.python} -m pip "
                f"install {distribution} ({distribution} provides it in {python}; or set "
                f'python = "{python}")'
            )
        if model.plugin and install == [model.plugin]:
            return (
                f"the plugin {model.plugin!r} is not installed in {where}; fix: {model.python} "
                f"-m pip install {model.plugin}"
            )
        if install:
            fix = " or ".join(f"{model.python} -m pip install {d}" for d in install)
            return f"no plugin in {where} provides model {model.name!r}; fix: {fix}"
    return f"{where}: {error.get('message') or 'the model does not resolve'}"


def _run_all(commands: Mapping[Hashable, list[str]]) -> dict[Any, Answer]:
    """Run the commands, ``AT_ONCE`` at a time (in this thread); each one's answer."""
    answers: dict[Any, Answer] = {}
    keys = list(commands)
    for start in range(0, len(keys), AT_ONCE):
        started: dict[Hashable, subprocess.Popen[str] | OSError] = {}
        for key in keys[start : start + AT_ONCE]:
            try:
                started[key] = subprocess.Popen(
                    commands[key],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            except OSError as exc:
                started[key] = exc
        for key, process in started.items():
            answers[key] = _read(commands[key][0], process)
    return answers


def _read(python: str, process: subprocess.Popen[str] | OSError) -> Answer:
    if isinstance(process, OSError):
        return None, f"cannot start {python}: {process.strerror}"
    try:
        out, err = process.communicate(timeout=RESOLVE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None, f"`{python} -m vlmi models --resolve` did not answer"
    try:
        answer = json.loads(out)
    except json.JSONDecodeError:
        answer = None
    if isinstance(answer, dict) and ("name" in answer or isinstance(answer.get("error"), dict)):
        return answer, None
    if "No module named vlmi" in err:
        return None, (
            f"vlmi is not installed there; fix: {python} -m pip install vlmi-core and the "
            "model's plugin"
        )
    if "--resolve" in err:  # an older vlmi-core: `vlmi models` has no --resolve
        return None, f"its vlmi-core is too old; fix: {python} -m pip install -U vlmi-core"
    last = err.strip().splitlines()[-1:] or ["(no message)"]
    return None, f"`vlmi models --resolve` failed: {last[0]}"


__all__ = ["ModelCheck", "option_flags", "resolve_command", "resolve_models"]
