"""The ``vlmi compare`` command (``add_arguments`` and ``run``, as every command)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from .._command import Command
from .._hookspecs import hookimpl

NAME = "compare"
HELP = "run many models (each in its own environment) on many datasets; score; leaderboard"
DESCRIPTION = (
    "Run every (model, dataset) pair of PLAN that is not finished yet, each as a resumable "
    "`vlmi run` in the model's own Python environment, score them as `vlmi score` does and "
    "write OUTPUT/leaderboard.md, .csv, .json and a picture (.svg, .png; needs "
    "pip install 'vlmi-core[plot]'). Given the output folder of an earlier run instead of a "
    "plan, rebuild the leaderboard without running anything. A pair whose `vlmi run` "
    "stopped before the end (exit status 5: its engine was gone, or whole batches kept "
    "failing) is not done: the next `vlmi compare` runs it again and answers its samples that "
    "failed for the moment again; --retry-failed does that for every pair. Exit status: "
    "0 all done, 1 error, 3 some samples failed, 4 some pair could not run or be scored (or "
    "is stale)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi compare``'s arguments."""
    parser.add_argument("plan", help="plan.toml, or the output folder of an earlier run")
    parser.add_argument(
        "--check",
        action="store_true",
        help="only check: every model resolves in its environment (plugin, options), every "
        "dataset reads",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="rebuild the leaderboard from what the output folder holds; run nothing",
    )
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="answer again, in every pair (finished ones too), the samples that failed for the "
        "moment (engine gone, timeout, lost connection): `vlmi run --retry-failed`",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``vlmi compare``; returns the exit status."""
    from .check import check, report_check
    from .driver import compare
    from .plan import load_plan
    from .rebuild import plan_from_manifest, rebuild

    given = Path(args.plan).expanduser()
    if given.is_dir():
        return rebuild(plan_from_manifest(given))
    plan = load_plan(given)
    if args.check:
        return report_check(plan, check(plan), sys.stdout)
    if args.report:
        return rebuild(plan)
    return compare(plan, retry_failed=args.retry_failed)


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """``vlmi compare``."""
    register(Command(NAME, HELP, add_arguments, run, description=DESCRIPTION))


__all__ = ["DESCRIPTION", "HELP", "NAME", "add_arguments", "register_commands", "run"]
