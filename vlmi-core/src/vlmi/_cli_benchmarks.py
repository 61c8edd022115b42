"""The ``vlmi score`` and ``vlmi export`` commands (VLMEvalKit dataset files)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._score_vqa import VQA_METHODS
from ._vlmevalkit_prompts import DATASET_TYPES


def _cmd_score(args: argparse.Namespace) -> int:
    from ._scoring import format_scores, score

    result = score(
        args.predictions,
        args.dataset,
        dataset_name=args.dataset_name,
        dataset_type=args.dataset_type,
        vqa_method=args.vqa_method,
    )
    predictions = Path(args.predictions)
    target = (
        Path(args.output)
        if args.output
        else predictions.with_name(predictions.stem + "_score.json")
    )
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(format_scores(result))
    print(f"scores written to {target}", file=sys.stderr)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from ._export import export_vlmevalkit

    missing = export_vlmevalkit(args.predictions, args.dataset, args.output)
    note = f"; {missing} dataset rows have no prediction and are left out" if missing else ""
    print(f"wrote {args.output}{note}", file=sys.stderr)
    return 0


def add_dataset_arguments(parser: argparse.ArgumentParser, *, name_flag: str) -> None:
    """``--dataset-type`` and the VLMEvalKit dataset name flag."""
    parser.add_argument(
        name_flag,
        dest="dataset_name",
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


def add_benchmark_commands(commands: Any) -> None:
    """Add ``vlmi score`` and ``vlmi export`` to the ``vlmi`` command's subparsers."""
    scorer = commands.add_parser(
        "score",
        help="accuracy of a predictions file against a VLMEvalKit TSV (exact matching)",
        description="Score PREDICTIONS (a `vlmi run` output) against the dataset TSV as "
        "VLMEvalKit's evaluator does with judge exact_matching; prints overall and per-category "
        "accuracy and writes them as JSON beside PREDICTIONS.",
    )
    scorer.add_argument("predictions", help="JSON Lines file written by `vlmi run`")
    scorer.add_argument("--dataset", required=True, help="the VLMEvalKit .tsv it answered")
    add_dataset_arguments(scorer, name_flag="--dataset-name")
    scorer.add_argument(
        "--vqa-method",
        choices=VQA_METHODS,
        help="free-form scoring method (default: VLMEvalKit's for the dataset name)",
    )
    scorer.add_argument("-o", "--output", help="JSON file (default: PREDICTIONS_score.json)")
    scorer.set_defaults(func=_cmd_score)

    exporter = commands.add_parser(
        "export",
        help="write predictions as VLMEvalKit's predictions file (.xlsx or .tsv)",
        description="Write the dataset table without `image`, plus a `prediction` column, for "
        "`vlmutil eval <model>_<DATASET>.xlsx --judge exact_matching`. Needs "
        "pip install 'vlmi-core[datasets]'.",
    )
    exporter.add_argument("predictions", help="JSON Lines file written by `vlmi run`")
    exporter.add_argument("--dataset", required=True, help="the VLMEvalKit .tsv it answered")
    exporter.add_argument("--to", choices=("vlmevalkit",), default="vlmevalkit")
    exporter.add_argument(
        "-o", "--output", required=True, help="<model>_<DATASET>.xlsx or .tsv to write"
    )
    exporter.set_defaults(func=_cmd_export)


__all__ = ["add_benchmark_commands", "add_dataset_arguments"]
