"""The leaderboard: models as rows, datasets (overall and per split/category) as columns.

Written as ``leaderboard.md`` (also printed), ``.csv`` and ``.json``. Scores
are percentages as ``vlmi score`` computes them; the Markdown shows one
decimal, the CSV and JSON the full figure. Throughput (samples/s) comes with
the chunk it was measured at (``batch_size``: the most samples the model was
handed at once), as ``12.30 @256`` in the Markdown. The plugin, engine and their
versions credited for a pair are what its own records say answered it; the
model's resolution in its environment (``model.json``) only stands in where
no record has been written yet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import suite
from .judges import identity_of, needs_judge
from .judging import PENDING
from .layout import Pair, model_file, read_json
from .plan import Plan
from .scores import ANSWERED_BY, answered_by
from .stale import changes


def flatten(scores: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """``{"category": {"x": 1.0}}`` -> ``{"category/x": 1.0}``."""
    flat: dict[str, float] = {}
    for key, value in scores.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= flatten(value, name + "/")
        else:
            flat[name] = float(value)
    return flat


def cell_of(pair: Pair) -> dict[str, Any]:
    """What the leaderboard shows of one pair."""
    status = pair.status() or {}
    state = status.get("state", "missing")
    cell: dict[str, Any] = {
        "state": state,
        "samples": status.get("samples"),
        "failed_samples": status.get("failed_samples"),
        "time_s": status.get("time_s"),
        "samples_per_s": status.get("samples_per_s"),
        "batch_size": status.get("batch_size"),
        "predictions": str(pair.predictions),
        "log": str(pair.log),
        "answered_by": answered_by(pair),
    }
    if status.get("replaced"):
        cell["replaced"] = status["replaced"]
    if state != "done":
        cell["reason"] = status.get("reason", "not run yet")
        return cell
    why = _changed(pair, status)
    if why:
        cell |= {"state": "stale", "reason": f"{why}; run the plan again"}
        return cell
    if pair.dataset.scored and status.get("scoring") == PENDING:
        cell["reason"] = (
            "not scored yet: its judge has not finished (if `vlmi compare` stopped, run the plan "
            "again: it scores the predictions, the model does not run)"
        )
        return cell
    if pair.dataset.scored and status.get("judge") != identity_of(pair.dataset.judge):
        cell |= {
            "state": "stale",
            "reason": "scored by another judge; run the plan again (it "
            "scores the predictions again, the model does not run)",
        }
        return cell
    result = read_json(pair.scores_file) if pair.dataset.scored else None
    if pair.dataset.scored and result is None:
        cell["reason"] = status.get("score_error", f"no {pair.scores_file.name}")
    if result is not None:
        flat = flatten(result["scores"])
        cell |= {"overall": flat.get("Overall"), "scores": result["scores"], "flat": flat}
        judge = result.get("judge")
        if isinstance(judge, dict) and judge.get("failures"):  # rows it could not settle
            cell["judge_failures"] = judge["failures"]
    return cell


def _changed(pair: Pair, status: Mapping[str, Any]) -> str | None:
    """Why the pair's results do not belong to its dataset now (``None``: they do, or the
    dataset is no longer at hand to tell)."""
    try:
        why = changes(status.get("identity"), pair.identity())
    except OSError:
        return None
    return "; ".join(why) or None


def build(plan: Plan) -> dict[str, Any]:
    """The whole leaderboard as data (what ``leaderboard.json`` holds)."""
    rows: list[dict[str, Any]] = []
    for model in plan.models:
        cells = {d.name: cell_of(Pair(model, d, plan.output)) for d in plan.datasets}
        who = [w for cell in cells.values() for w in cell["answered_by"]]
        if not who:  # nothing answered yet: what its environment resolved it to
            spec = read_json(model_file(plan.output, model))
            who = [{k: spec.get(k) for k in ANSWERED_BY}] if isinstance(spec, dict) else []
        rows.append(
            {
                "model": model.label,
                "name": model.name,
                "key": model.key,
                **credit(who),
                "options": model.options,
                "generation": model.generation,
                "python": model.python,
                "datasets": cells,
            }
        )
    datasets = [
        {"name": d.name, "path": str(d.path), "scored": d.scored, "judge": identity_of(d.judge)}
        for d in plan.datasets
    ]
    board: dict[str, Any] = {"datasets": datasets, "models": rows}
    if plan.suite is not None:
        board["suite"] = suite_of(plan)
        judged = {d.name: d.judge is not None for d in plan.datasets}
        for row in rows:
            row["suite"] = suite.average(plan.suite, row["datasets"], judged)
    return board


def suite_of(plan: Plan) -> dict[str, Any]:
    """The suite column: its name, what it averages, and the note that says what it is."""
    assert plan.suite is not None
    names = [d.name for d in plan.datasets]
    members = suite.groups(plan.suite, names)
    averaged = {n for group in members.values() for n in group}
    judges = {d.judge.name for d in plan.datasets if d.judge is not None and d.name in averaged}
    judged = ", ".join(sorted(judges)) or "none (MathVista and MM-Vet need one)"
    if not any(needs_judge(n) for n in averaged):
        judged = ", ".join(sorted(judges)) or "none"
    label = "OpenCompass avg" if plan.suite == suite.OPENCOMPASS else "suite avg"
    return {
        "label": label,
        "suite": plan.suite,
        "members": members,
        "judges": sorted(judges),
        "note": suite.note(plan.suite, members, judged),
    }


def credit(who: list[dict[str, Any]]) -> dict[str, str | None]:
    """``plugin``, ``version`` and ``engine`` (with its version) shown for ``who``; where the
    records differ (a run resumed after an upgrade), each value once, joined by ", "."""

    def joined(values: list[str]) -> str | None:
        return ", ".join(dict.fromkeys(v for v in values if v)) or None

    return {
        "plugin": joined([str(w.get("plugin") or "") for w in who]),
        "version": joined([str(w.get("plugin_version") or "") for w in who]),
        "engine": joined(
            [" ".join(str(w[k]) for k in ("engine", "engine_version") if w.get(k)) for w in who]
        ),
    }


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _rate(rate: float | None, batch: int | None) -> str:
    """``12.30 @256``: samples per second, and the most samples the model had at once."""
    if rate is None:
        return "-"
    return f"{rate:.2f}" if batch is None else f"{rate:.2f} @{batch}"


def _shown(cell: Mapping[str, Any]) -> str:
    if cell["state"] != "done":
        return str(cell["state"])
    shown = _number(cell.get("overall")) if "overall" in cell else "done"
    if "overall" not in cell and cell.get("reason"):
        shown = "not scored"
    notes = [f"{cell['failed_samples']} failed"] if cell.get("failed_samples") else []
    if cell.get("judge_failures"):
        notes.append(f"{cell['judge_failures']} judge failures")
    return f"{shown} ({', '.join(notes)})" if notes else shown


def _state(cell: Mapping[str, Any]) -> str:
    """The Runs table's state: why it is not scored or done, and earlier results replaced."""
    text = str(cell["state"])
    if cell.get("reason"):
        text += f": {cell['reason']}" if text != "done" else f"; not scored: {cell['reason']}"
    if cell.get("replaced"):
        text += f"; {cell['replaced']}"
    return text


def _table(head: list[str], body: list[list[str]]) -> list[str]:
    clean = [[text.replace("|", "\\|") for text in row] for row in [head, *body]]
    lines = ["| " + " | ".join(clean[0]) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(row) + " |" for row in clean[1:]]


def sub_columns(board: Mapping[str, Any], dataset: str) -> list[str]:
    """The split/category columns of ``dataset``, in first-seen order."""
    keys: dict[str, None] = {}
    for row in board["models"]:
        keys |= dict.fromkeys(k for k in row["datasets"][dataset].get("flat", {}) if k != "Overall")
    return list(keys)


def markdown(board: Mapping[str, Any]) -> str:
    """``leaderboard.md``: overall scores, then per-category tables, then the runs."""
    names = [d["name"] for d in board["datasets"]]
    lines = ["# Leaderboard", ""]
    body = [[row["model"], *(_shown(row["datasets"][n]) for n in names)] for row in board["models"]]
    head = ["model", *names]
    if "suite" in board:
        head.append(board["suite"]["label"])
        for line, row in zip(body, board["models"]):
            line.append(suite.shown(row["suite"]))
    lines += _table(head, body)
    if "suite" in board:
        lines += ["", board["suite"]["note"]]
    for name in names:
        columns = sub_columns(board, name)
        if not columns:
            continue
        lines += ["", f"## {name}", ""]
        body = [
            [
                row["model"],
                *(_number(row["datasets"][name].get("flat", {}).get(c)) for c in columns),
            ]
            for row in board["models"]
        ]
        lines += _table(["model", *columns], body)
    lines += ["", "## Runs", ""]
    body = []
    for row in board["models"]:
        for name in names:
            cell = row["datasets"][name]
            rate = cell.get("samples_per_s")
            who = credit(cell.get("answered_by") or []) if cell.get("answered_by") else row
            body.append(
                [
                    row["model"],
                    name,
                    _state(cell),
                    str(cell.get("samples") if cell.get("samples") is not None else "-"),
                    str(
                        cell.get("failed_samples")
                        if cell.get("failed_samples") is not None
                        else "-"
                    ),
                    "-" if cell.get("time_s") is None else f"{cell['time_s']:.1f}",
                    _rate(rate, cell.get("batch_size")),
                    f"{who['plugin'] or '-'} {who['version'] or ''}".strip(),
                    who["engine"] or "-",
                    json.dumps(row["options"], sort_keys=True) if row["options"] else "-",
                ]
            )
    head = ["model", "dataset", "state", "samples", "failed", "time (s)", "samples/s", "plugin"]
    lines += _table([*head, "engine", "options"], body)
    return "\n".join(lines) + "\n"


def csv_text(board: Mapping[str, Any]) -> str:
    """``leaderboard.csv``: one row per model, every figure a column."""
    names = [d["name"] for d in board["datasets"]]
    head = ["model", "name", "plugin", "version", "engine", "options"]
    for name in names:
        head += [name, *(f"{name} {c}" for c in sub_columns(board, name))]
        head += [f"{name} state", f"{name} failed", f"{name} time_s", f"{name} samples/s"]
        head.append(f"{name} batch_size")
    if "suite" in board:
        head += [board["suite"]["label"], f"{board['suite']['label']} missing"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    for row in board["models"]:
        line: list[Any] = [row["model"], row["name"], row["plugin"], row["version"], row["engine"]]
        line.append(json.dumps(row["options"], sort_keys=True))
        for name in names:
            cell = row["datasets"][name]
            flat = cell.get("flat", {})
            line += [cell.get("overall"), *(flat.get(c) for c in sub_columns(board, name))]
            line += [cell["state"], cell.get("failed_samples"), cell.get("time_s")]
            line += [cell.get("samples_per_s"), cell.get("batch_size")]
        if "suite" in board:
            missing = row["suite"]["missing"]
            line += [row["suite"]["average"], "; ".join(f"{n}: {w}" for n, w in missing.items())]
        writer.writerow(["" if v is None else v for v in line])
    return out.getvalue()


def write(board: Mapping[str, Any], folder: Path) -> list[Path]:
    """Write the .md, .csv and .json files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"leaderboard.{suffix}" for suffix in ("md", "csv", "json")]
    paths[0].write_text(markdown(board), encoding="utf-8")
    paths[1].write_text(csv_text(board), encoding="utf-8")
    paths[2].write_text(json.dumps(board, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths


__all__ = ["build", "credit", "csv_text", "flatten", "markdown", "sub_columns", "write"]
