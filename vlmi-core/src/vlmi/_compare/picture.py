"""The leaderboard as a picture: grouped bars, models side by side, numbers on the bars.

``leaderboard.svg`` keeps its text as text (the numbers can be searched and
read by a screen reader); ``leaderboard.png`` is the same picture. The left
panel shows each dataset's overall score, the right one the categories of
one dataset. Needs matplotlib (``pip install 'vlmi-core[plot]'``), imported
only here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vlmi.errors import MissingDependencyError

from .leaderboard import sub_columns

PLOT_EXTRA = "pip install 'vlmi-core[plot]'"


def _panels(board: Mapping[str, Any], categories: str | None) -> list[tuple[str, list[str], Any]]:
    names = [d["name"] for d in board["datasets"] if d["scored"]]
    panels: list[tuple[str, list[str], Any]] = [
        ("overall", names, lambda row, n: row["datasets"][n].get("overall"))
    ]
    chosen = categories or next(
        (n for n in names if any(c.startswith("category/") for c in sub_columns(board, n))), None
    )
    if chosen is not None:
        columns = [c for c in sub_columns(board, chosen) if c.startswith("category/")]
        if columns:
            panels.append(
                (
                    f"{chosen} by category",
                    columns,
                    lambda row, c, d=chosen: row["datasets"][d].get("flat", {}).get(c),
                )
            )
    return panels


def _label(row: Mapping[str, Any], column: str, height: float | None, title: str) -> str:
    """The number on a bar; a pair without one says why (``failed``, ``missing``)."""
    if height is not None:
        return f"{height:.1f}"
    dataset = column if title == "overall" else title.removesuffix(" by category")
    state = row["datasets"].get(dataset, {}).get("state", "missing")
    return "n/a" if state == "done" else str(state)


def draw(board: Mapping[str, Any], folder: Path, categories: str | None = None) -> list[Path]:
    """Write ``leaderboard.svg`` and ``.png`` into ``folder``; returns their paths."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependencyError(
            f"the leaderboard picture needs matplotlib: {PLOT_EXTRA}"
        ) from None
    models = [row["model"] for row in board["models"]]
    panels = _panels(board, categories)
    with plt.rc_context({"svg.fonttype": "none", "font.size": 9}):
        widths = [max(len(cols), 1) + 1 for _, cols, _ in panels]
        bars_in_all = sum(len(cols) for _, cols, _ in panels) * max(len(models), 1)
        figure, axes = plt.subplots(
            1,
            len(panels),
            figsize=(min(16.0, max(6.0, 3.0 + 0.4 * bars_in_all)), 4.2),
            gridspec_kw={"width_ratios": widths},
            squeeze=False,
        )
        bar = 0.8 / max(len(models), 1)
        for axis, (title, columns, value) in zip(axes[0], panels):
            for m, row in enumerate(board["models"]):
                xs = [i + (m - (len(models) - 1) / 2) * bar for i in range(len(columns))]
                heights = [value(row, c) for c in columns]
                bars = axis.bar(
                    xs, [h or 0.0 for h in heights], bar, label=row["model"], color=f"C{m % 10}"
                )
                labels = [_label(row, c, h, title) for c, h in zip(columns, heights)]
                axis.bar_label(bars, labels=labels, padding=2, fontsize=7)
            axis.set_xticks(range(len(columns)))
            axis.set_xticklabels([c.removeprefix("category/") for c in columns])
            axis.set_ylim(0, 110)
            axis.set_ylabel("score (%)")
            axis.set_title(title)
            axis.spines[["top", "right"]].set_visible(False)
        axes[0][0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.12), ncol=3)
        figure.tight_layout()
        paths = [folder / "leaderboard.svg", folder / "leaderboard.png"]
        figure.savefig(paths[0], metadata={"Date": None})
        figure.savefig(paths[1], dpi=120)
        plt.close(figure)
    return paths


__all__ = ["PLOT_EXTRA", "draw"]
