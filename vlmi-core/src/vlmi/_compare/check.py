"""``vlmi compare --check``: every environment has its plugin and model, every dataset reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from vlmi.errors import VlmiError

from .environments import ModelCheck, resolve_models
from .layout import Pair
from .plan import Plan
from .scores import count_rows


@dataclass
class Checked:
    """What ``--check`` found: each model's environment, each dataset's rows."""

    models: dict[str, ModelCheck]
    rows: dict[str, int | None]
    problems: dict[str, str] = field(default_factory=dict)  # dataset name -> why unreadable

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.models.values())


def check(plan: Plan) -> Checked:
    """Resolve every model in its own environment; read every dataset."""
    models = resolve_models(plan.models)
    rows: dict[str, int | None] = {}
    problems: dict[str, str] = {}
    for dataset in plan.datasets:
        try:
            rows[dataset.name] = count_rows(Pair(plan.models[0], dataset, plan.output))
        except (VlmiError, OSError, ValueError) as exc:
            rows[dataset.name] = None
            problems[dataset.name] = f"cannot read {dataset.path}: {exc}"
    return Checked(models, rows, problems)


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
    return 0 if checked.ok else 1


__all__ = ["Checked", "check", "report_check"]
