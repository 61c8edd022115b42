"""Writing the results (leaderboard files, picture) and the exit status they imply."""

from __future__ import annotations

from typing import Any, TextIO

from vlmi.errors import MissingDependencyError

from . import leaderboard, picture
from .plan import Plan

#: exit statuses: some samples failed (as `vlmi run`); some pair could not run, could not be
#: scored or (rebuilding from a results folder) answered a dataset that has changed since
EXIT_SAMPLES_FAILED = 3
EXIT_PAIRS_FAILED = 4
#: `vlmi run`'s exit status when it stopped before the end (engine gone, batches failing)
EXIT_RUN_STOPPED = 5


def write_results(plan: Plan, stream: TextIO) -> dict[str, Any]:
    """Build and write the leaderboard (and its picture); print the Markdown."""
    board = leaderboard.build(plan)
    paths = leaderboard.write(board, plan.output)
    try:
        paths += picture.draw(board, plan.output, plan.picture_categories)
    except MissingDependencyError as exc:
        print(f"no picture: {exc}", file=stream)
    print(leaderboard.markdown(board))
    print("wrote " + ", ".join(str(p) for p in paths), file=stream)
    return board


def write_board(plan: Plan) -> None:
    """Write the leaderboard files as they stand (no picture, nothing printed): the board
    shows each score as it arrives while the rest runs."""
    leaderboard.write(leaderboard.build(plan), plan.output)


def exit_status(board: dict[str, Any]) -> int:
    """0: every pair done and every sample answered; else what went wrong."""
    cells = [c for row in board["models"] for c in row["datasets"].values()]
    if any(c["state"] != "done" or c.get("reason") for c in cells):
        return EXIT_PAIRS_FAILED
    if any(c.get("failed_samples") for c in cells):
        return EXIT_SAMPLES_FAILED
    return 0


__all__ = [
    "EXIT_PAIRS_FAILED",
    "EXIT_RUN_STOPPED",
    "EXIT_SAMPLES_FAILED",
    "exit_status",
    "write_board",
    "write_results",
]
