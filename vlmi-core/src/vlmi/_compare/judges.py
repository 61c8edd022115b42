"""The judge of a ``vlmi compare`` plan: the model that scores what a rule cannot, and where.

``judge = { name = "openai:gpt-4o-mini", options = { base_url = "..." } }`` at the
top of the plan applies to every dataset; a ``[[datasets]]`` entry's own ``judge``
replaces it there. ``plugin`` picks the distribution, as for a model. A judge
that lives in an environment of its own (a local model) takes ``python`` (that
environment's Python) and ``gpus``, as a model entry does: its pairs are scored
there, by a job of the schedule (:mod:`.judging`). Without ``python`` the
scoring runs in ``vlmi compare``'s own environment, which then needs the
judge's plugin (``pip install vlmi-openai`` for ``openai:`` judges).

A pair's scores belong to the judge that made them: the judge's identity (name,
plugin and options, less credentials and transport settings) is kept in the
pair's status. When the plan's judge of a dataset changes, ``vlmi compare``
scores its pairs again from their predictions; the models do not run again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from .._judge.spec import JudgeSpec

JUDGE_KEYS = ("name", "plugin", "options", "python", "gpus")


@dataclass(frozen=True)
class JudgeEntry:
    """A plan's judge: a model name with its plugin and options, and where it runs."""

    name: str
    plugin: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    python: str | None = None  # None: in vlmi compare's own environment
    gpus: tuple[str, ...] = ()

    def spec(self) -> JudgeSpec:
        """The judge as the scoring takes it."""
        return JudgeSpec(self.name, self.plugin, self.options)

    def identity(self) -> dict[str, Any]:
        """What the scores it makes belong to: name, plugin and options, less credentials
        and transport settings (:meth:`vlmi._judge.spec.JudgeSpec.identity`)."""
        return self.spec().identity()

    def flags(self) -> list[str]:
        """``vlmi score``'s flags for this judge."""
        flags = ["--judge", self.name]
        if self.plugin:
            flags += ["--judge-plugin", self.plugin]
        for key, value in self.options.items():
            text = value if isinstance(value, str) else json.dumps(value)
            flags += ["-J", f"{key}={text}"]
        return flags


def identity_of(judge: JudgeEntry | None) -> dict[str, Any] | None:
    """The identity of ``judge`` (``None``: no judge)."""
    return None if judge is None else judge.identity()


def needs_judge(dataset_name: str) -> bool:
    """Whether VLMEvalKit scores the dataset only with a judge (MathVista, MM-Vet)."""
    from .._vlmevalkit.score import JUDGE_ONLY

    return any(fragment in dataset_name for fragment in JUDGE_ONLY)


def judge_from(data: Any) -> JudgeEntry | None:
    """A judge from its manifest form (``None`` stays ``None``)."""
    if not isinstance(data, Mapping):
        return None
    return JudgeEntry(**{**data, "gpus": tuple(data.get("gpus") or ())})


def parse_judge(value: Any, base: Path, fail: Callable[[str, str], NoReturn]) -> JudgeEntry:
    """A plan's ``judge`` table; ``fail(message, key)`` reports what is wrong."""
    if not isinstance(value, dict):
        fail("'judge' must be a table, e.g. { name = \"openai:gpt-4o-mini\" }", "judge")
    for key in value:
        if key not in JUDGE_KEYS:
            fail(f"unknown judge key {key!r} (known: {', '.join(JUDGE_KEYS)})", "judge")
    name, plugin, options = value.get("name"), value.get("plugin"), value.get("options", {})
    if not isinstance(name, str) or not name.strip():
        fail("the judge needs a 'name' (a model name, e.g. \"openai:gpt-4o-mini\")", "judge")
    if plugin is not None and (not isinstance(plugin, str) or not plugin.strip()):
        fail("the judge's 'plugin' must be a distribution name, e.g. \"vlmi-vllm\"", "judge")
    if not isinstance(options, dict):
        fail("the judge's 'options' must be a table, e.g. { base_url = \"...\" }", "judge")
    python = None
    if "python" in value:
        given = Path(str(value["python"])).expanduser()
        path = given if given.is_absolute() else base / given
        if not path.exists():
            fail(
                f"judge python {str(path)!r} does not exist (the python of the environment "
                "that holds the judge's plugin)",
                "judge",
            )
        python = str(path.absolute())
    gpus = value.get("gpus", ())
    items: Any = gpus.split(",") if isinstance(gpus, str) else gpus
    items = [items] if isinstance(items, int) and not isinstance(items, bool) else items
    if not isinstance(items, (list, tuple)) or not all(
        re.fullmatch(r"\d+", str(g).strip()) for g in items
    ):
        fail("the judge's 'gpus' must be GPU numbers, e.g. \"0,1\" or [0, 1]", "judge")
    plugin = plugin.strip() if isinstance(plugin, str) else None
    gpu_list = tuple(str(g).strip() for g in items)
    return JudgeEntry(name.strip(), plugin, dict(options), python, gpu_list)


__all__ = [
    "JUDGE_KEYS",
    "JudgeEntry",
    "identity_of",
    "judge_from",
    "needs_judge",
    "parse_judge",
]
