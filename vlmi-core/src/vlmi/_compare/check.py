"""``vlmi compare --check``: every environment has its plugin and model, every dataset reads,
every judge resolves where it scores."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from vlmi.errors import VlmiError

from .environments import ModelCheck, resolve_models
from .judges import JudgeEntry
from .layout import Pair
from .plan import ModelEntry, Plan
from .scores import count_rows


@dataclass
class Checked:
    """What ``--check`` found: each model's environment, each dataset's rows."""

    models: dict[str, ModelCheck]
    rows: dict[str, int | None]
    problems: dict[str, str] = field(default_factory=dict)  # dataset name -> why unreadable
    #: each judge the plan names (by name and where it scores) -> why it does not resolve there
    judges: dict[str, str | None] = field(default_factory=dict)
    #: each judge (as ``judges``) -> whether it needs a GPU (True where it did not resolve)
    judge_needs_gpu: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        models_ok = all(c.ok for c in self.models.values())
        return not self.problems and models_ok and not any(self.judges.values())


def judge_label(judge: JudgeEntry) -> str:
    """A judge as ``--check`` names it: its name, plugin and the Python it scores with."""
    plugin = f" ({judge.plugin})" if judge.plugin else ""
    return f"{judge.name}{plugin} in {judge.python or sys.executable}"


def _judges(plan: Plan) -> dict[str, ModelCheck]:
    """Every judge of the plan resolved where it scores (``vlmi models --resolve``), as a model."""
    used = {judge_label(d.judge): d.judge for d in plan.datasets if d.judge is not None}
    if plan.judge is not None:
        used.setdefault(judge_label(plan.judge), plan.judge)
    entries = {
        label: ModelEntry(
            judge.name,
            label,
            judge.python or sys.executable,
            dict(judge.options),
            plugin=judge.plugin,
        )
        for label, judge in used.items()
    }
    found = resolve_models(list(entries.values()))
    return {label: found[entry.key] for label, entry in entries.items()}


def check(plan: Plan) -> Checked:
    """Resolve every model and judge in its own environment; read every dataset."""
    models = resolve_models(plan.models)
    rows: dict[str, int | None] = {}
    problems: dict[str, str] = {}
    for dataset in plan.datasets:
        try:
            rows[dataset.name] = count_rows(Pair(plan.models[0], dataset, plan.output))
        except (VlmiError, OSError, ValueError) as exc:
            rows[dataset.name] = None
            problems[dataset.name] = f"cannot read {dataset.path}: {exc}"
    judges = _judges(plan)
    problems_of = {label: found.problem for label, found in judges.items()}
    gpus = {label: found.needs_gpu for label, found in judges.items()}
    return Checked(models, rows, problems, problems_of, gpus)


def report_check(plan: Plan, checked: Checked, stream: TextIO) -> int:
    """Print what ``--check`` found; 0 when everything can run."""
    for model in plan.models:
        result = checked.models[model.key]
        if result.ok:
            source = (result.spec or {}).get("plugin") or "?"
            print(f"ok      model {model.label!r}: {source} in {model.python}", file=stream)
        else:
            print(f"PROBLEM model {model.label!r}: {result.problem}", file=stream)
    for dataset in plan.datasets:
        if dataset.name in checked.problems:
            print(
                f"PROBLEM dataset {dataset.name!r}: {checked.problems[dataset.name]}", file=stream
            )
        else:
            rows = checked.rows[dataset.name]
            print(f"ok      dataset {dataset.name!r}: {rows} samples", file=stream)
    for label, problem in checked.judges.items():
        if problem is None:
            print(f"ok      judge {label}", file=stream)
        else:
            print(f"PROBLEM judge {label}: {problem}", file=stream)
    return 0 if checked.ok else 1


__all__ = ["Checked", "check", "judge_label", "report_check"]
