"""Accuracy tables: overall, per ``split``, per ``category`` and ``l2-category`` (percentages)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

#: A dataset row's cells (``None`` where pandas reads NaN).
Cells = Mapping[str, str | None]


def percent(values: Iterable[float]) -> float:
    """The mean of 0/1 (or fractional) hits, as a percentage rounded to 4 places."""
    items = list(values)
    return round(100 * sum(items) / len(items), 4) if items else 0.0


def by(rows: list[tuple[Cells, float]], column: str) -> dict[str, float]:
    """Accuracy per value of ``column`` (rows where it is missing left out), sorted."""
    groups: dict[str, list[float]] = defaultdict(list)
    for cells, hit in rows:
        if cells.get(column) is not None:
            groups[str(cells[column])].append(hit)
    return {key: percent(groups[key]) for key in sorted(groups)}


def report(rows: list[tuple[Cells, float]], columns: tuple[str, ...]) -> dict[str, Any]:
    """``Overall`` and, for each of ``columns`` the file has, accuracy per value."""
    table: dict[str, Any] = {"Overall": percent(hit for _, hit in rows)}
    for column in columns:
        if any(column in cells for cells, _ in rows[:1]):
            table[column] = by(rows, column)
    return table


def by_split(rows: list[tuple[Cells, float]], columns: tuple[str, ...]) -> dict[str, Any]:
    """:func:`report`, once per ``split`` value when the file has that column."""
    if not rows or "split" not in rows[0][0]:
        return report(rows, columns)
    splits: dict[str, list[tuple[Cells, float]]] = defaultdict(list)
    for cells, hit in rows:
        splits[str(cells.get("split"))].append((cells, hit))
    overall = {"Overall": percent(hit for _, hit in rows)}
    return overall | {"split": {s: report(splits[s], columns) for s in sorted(splits)}}


__all__ = ["Cells", "by", "by_split", "percent", "report"]
