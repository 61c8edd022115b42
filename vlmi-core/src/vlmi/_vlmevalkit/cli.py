"""``vlmi score`` and ``vlmi export``: VLMEvalKit dataset files, scored and written back.

``--dataset-file`` is the VLMEvalKit ``.tsv`` the predictions answered;
``--dataset-name`` the dataset's VLMEvalKit name (it picks the type and the
scoring rules). vlmi-core 0.2's ``--dataset FILE`` still works, with a warning.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from vlmi.errors import InvalidOptionError

from .._command import Command
from .._hookspecs import hookimpl
from .prompts import DATASET_TYPES
from .score.vqa import VQA_METHODS


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """``--dataset-name`` and ``--dataset-type`` (``vlmi run``, ``vlmi score``)."""
    parser.add_argument(
        "--dataset-name",
        metavar="NAME",
        help="VLMEvalKit dataset name of a .tsv (e.g. MMBench_DEV_EN, MME, TextVQA_VAL); "
        "it picks the type and the scoring rules (default: the file's stem)",
    )
    parser.add_argument(
        "--dataset-type",
        choices=DATASET_TYPES,
        help="prompt/score a .tsv as multiple-choice, yes-or-no or free-form "
        "(default: from the name, else the columns)",
    )


def _add_dataset_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("predictions", help="JSON Lines file written by `vlmi run`")
    parser.add_argument("--dataset-file", metavar="TSV", help="the VLMEvalKit .tsv it answered")
    parser.add_argument("--dataset", dest="dataset_old", metavar="TSV", help=argparse.SUPPRESS)


def dataset_file(args: argparse.Namespace) -> str:
    """``--dataset-file``, or the deprecated ``--dataset`` (with a warning)."""
    if args.dataset_old is not None:
        print(
            "warning: --dataset is deprecated for `vlmi score` / `vlmi export`; use --dataset-file",
            file=sys.stderr,
        )
        return str(args.dataset_file or args.dataset_old)
    if args.dataset_file is None:
        raise InvalidOptionError(
            "--dataset-file TSV is required: the .tsv the predictions answered"
        )
    return str(args.dataset_file)


def add_score_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi score PREDICTIONS --dataset-file TSV``"""
    _add_dataset_file(parser)
    add_dataset_arguments(parser)
    parser.add_argument(
        "--vqa-method",
        choices=VQA_METHODS,
        help="free-form scoring method (default: VLMEvalKit's for the dataset name)",
    )
    parser.add_argument("-o", "--output", help="JSON file (default: PREDICTIONS_score.json)")


def run_score(args: argparse.Namespace) -> int:
    """Score, print, and write the scores as JSON."""
    from .score import format_scores, score
    from .targets import check_target, is_score_file

    dataset = dataset_file(args)
    predictions = Path(args.predictions)
    target = (
        Path(args.output)
        if args.output
        else predictions.with_name(predictions.stem + "_score.json")
    )
    check_target(target, (predictions, dataset), is_score_file, "a `vlmi score` file")
    result = score(
        args.predictions,
        dataset,
        dataset_name=args.dataset_name,
        dataset_type=args.dataset_type,
        vqa_method=args.vqa_method,
    )
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(format_scores(result))
    print(f"scores written to {target}", file=sys.stderr)
    return 0


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi export PREDICTIONS --dataset-file TSV -o OUT.xlsx``"""
    _add_dataset_file(parser)
    parser.add_argument("--to", choices=("vlmevalkit",), default="vlmevalkit")
    parser.add_argument(
        "-o", "--output", required=True, help="<model>_<DATASET>.xlsx or .tsv to write"
    )


def run_export(args: argparse.Namespace) -> int:
    """Write VLMEvalKit's predictions file."""
    from .export import export_vlmevalkit

    missing = export_vlmevalkit(args.predictions, dataset_file(args), args.output)
    note = f"; {missing} dataset rows have no prediction and are left out" if missing else ""
    print(f"wrote {args.output}{note}", file=sys.stderr)
    return 0


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """``vlmi score`` and ``vlmi export``."""
    register(
        Command(
            "score",
            "accuracy of a predictions file against a VLMEvalKit TSV (exact matching)",
            add_score_arguments,
            run_score,
            description="Score PREDICTIONS (a `vlmi run` output) against the dataset TSV as "
            "VLMEvalKit's evaluator does with judge exact_matching; prints overall and "
            "per-category accuracy and writes them as JSON beside PREDICTIONS.",
        )
    )
    register(
        Command(
            "export",
            "write predictions as VLMEvalKit's predictions file (.xlsx or .tsv)",
            add_export_arguments,
            run_export,
            description="Write the dataset table without `image`, plus a `prediction` column, "
            "for `vlmutil eval <model>_<DATASET>.xlsx --judge exact_matching`. Needs "
            "pip install 'vlmi-core[datasets]'.",
        )
    )


__all__ = ["add_dataset_arguments", "register_commands"]
