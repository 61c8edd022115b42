"""``vlmi score`` and ``vlmi export``: VLMEvalKit dataset files, scored and written back.

``--dataset-file`` is the VLMEvalKit ``.tsv`` the predictions answered;
``--dataset-name`` the dataset's VLMEvalKit name (it picks the type and the
scoring rules). vlmi-core 0.2's ``--dataset FILE`` still works, with a warning.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vlmi.errors import InvalidOptionError

from .._cli.options import key_value
from .._command import Command
from .._hookspecs import hookimpl
from .prompts import DATASET_TYPES
from .score.vqa import VQA_METHODS

if TYPE_CHECKING:
    from .api import ScoreEntry


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """``--dataset-name`` and ``--dataset-type`` (``vlmi run``, ``vlmi score``)."""
    parser.add_argument(
        "--dataset-name",
        metavar="NAME",
        help="VLMEvalKit dataset name of a .tsv (e.g. MMBench_DEV_EN, MME, TextVQA_VAL; "
        "Video-MME_8frame, Video-MME_1fps_subs, MVBench_8frame: the frame setting too); "
        "it picks the type and the scoring rules (default: the file's stem)",
    )
    parser.add_argument(
        "--dataset-type",
        choices=DATASET_TYPES,
        help="prompt/score a .tsv as multiple-choice, yes-or-no or free-form "
        "(default: from the name, else the columns)",
    )


def _add_dataset_file(parser: argparse.ArgumentParser, optional: bool = False) -> None:
    parser.add_argument(
        "predictions", nargs="?" if optional else None, help="JSON Lines file written by `vlmi run`"
    )
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
    """``vlmi score PREDICTIONS --dataset-file TSV`` (or ``--list LIST.jsonl``)"""
    _add_dataset_file(parser, optional=True)
    add_dataset_arguments(parser)
    parser.add_argument(
        "--vqa-method",
        choices=VQA_METHODS,
        help="free-form scoring method (default: VLMEvalKit's for the dataset name)",
    )
    parser.add_argument("-o", "--output", help="JSON file (default: PREDICTIONS_score.json)")
    parser.add_argument(
        "--list",
        metavar="LIST.jsonl",
        help="score every predictions file LIST names, the judge loaded once for all: one JSON "
        'object a line, e.g. {"predictions": "a.jsonl", "dataset_file": "MMVet.tsv"} (and '
        "optionally dataset_name, dataset_type, output); one that cannot be scored prints "
        "`PREDICTIONS: not scored: WHY` and the others are scored",
    )
    group = parser.add_argument_group("judge (MathVista and MM-Vet need one; see docs/judges.md)")
    group.add_argument(
        "--judge",
        metavar="MODEL",
        help="a vlmi model that judges, e.g. openai:gpt-4o-mini (pip install vlmi-openai) or "
        "any local model; MCQ / yes-or-no: asked only where the rules cannot read the answer",
    )
    group.add_argument("--judge-plugin", metavar="DISTRIBUTION", help="the plugin serving it")
    group.add_argument(
        "-J",
        "--judge-option",
        action="append",
        type=key_value,
        default=[],
        metavar="KEY=VALUE",
        help="a vlmi.load option of the judge, e.g. -J base_url=http://host:8000/v1 "
        "-J concurrency=32 (repeatable)",
    )
    group.add_argument(
        "--rejudge", action="store_true", help="forget the cached judge answers first"
    )


def run_score(args: argparse.Namespace) -> int:
    """Score, print, and write the scores as JSON."""
    from .api import score
    from .score import format_scores

    if not args.judge and (args.judge_option or args.judge_plugin or args.rejudge):
        raise InvalidOptionError("-J, --judge-plugin and --rejudge need --judge MODEL")
    if args.list is not None:
        return _score_list(args)
    if args.predictions is None:
        raise InvalidOptionError("name the PREDICTIONS file to score (or --list LIST.jsonl)")
    target = args.output or Path(args.predictions).with_name(
        Path(args.predictions).stem + "_score.json"
    )
    result = score(
        args.predictions,
        dataset_file(args),
        dataset_name=args.dataset_name,
        dataset_type=args.dataset_type,
        vqa_method=args.vqa_method,
        judge=args.judge,
        judge_options=dict(args.judge_option),
        judge_plugin=args.judge_plugin,
        rejudge=args.rejudge,
        output=target,
        progress=sys.stderr.isatty(),
    )
    print(format_scores(result))
    print(f"scores written to {target}", file=sys.stderr)
    return 0


def _score_list(args: argparse.Namespace) -> int:
    """``--list``: every entry scored with one judge model; 1 when any could not be."""
    from vlmi.errors import JudgeUnavailableError, VlmiError

    from .._judge.runner import JudgeModel
    from .._judge.spec import JudgeSpec
    from .api import score_entry
    from .score import format_scores

    if args.predictions is not None or args.dataset_file or args.output or args.dataset_old:
        raise InvalidOptionError(
            "--list names the predictions, dataset files and outputs: give no PREDICTIONS, "
            "--dataset-file or -o beside it"
        )
    entries = read_score_list(Path(args.list))
    spec = JudgeSpec(args.judge, args.judge_plugin, dict(args.judge_option)) if args.judge else None
    model = JudgeModel(spec) if spec else None
    failed = 0
    try:
        for entry in entries:
            try:
                result = score_entry(
                    entry,
                    spec,
                    vqa_method=args.vqa_method,
                    rejudge=args.rejudge,
                    progress=sys.stderr.isatty(),
                    judge_model=model,
                )
            except JudgeUnavailableError:
                raise  # the others would fail alike
            except (VlmiError, OSError, ValueError) as exc:
                failed += 1
                print(f"{entry.predictions}: not scored: {exc}", file=sys.stderr, flush=True)
                continue
            print(format_scores(result), flush=True)
            print(f"scores written to {entry.target()}", file=sys.stderr, flush=True)
    finally:
        if model is not None:
            model.close()
    return 1 if failed else 0


def read_score_list(path: Path) -> list[ScoreEntry]:
    """The entries of a ``--list`` file (one JSON object a line)."""
    import json

    from .api import ScoreEntry

    keys = ("predictions", "dataset_file", "dataset_name", "dataset_type", "output")
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            data = None
        if (
            not isinstance(data, dict)
            or not {"predictions", "dataset_file"} <= set(data)
            or not set(data) <= set(keys)
            or not all(isinstance(v, str) or v is None for v in data.values())
        ):
            raise InvalidOptionError(
                f"{path}:{number}: each line must be a JSON object with predictions and "
                f"dataset_file (and optionally dataset_name, dataset_type, output), as text"
            )
        entries.append(ScoreEntry(**data))
    return entries


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
            "accuracy of a predictions file against a VLMEvalKit TSV (exact matching, or a judge)",
            add_score_arguments,
            run_score,
            description="Score PREDICTIONS (a `vlmi run` output) against the dataset TSV as "
            "VLMEvalKit's evaluator does with judge exact_matching; prints overall and "
            "per-category accuracy and writes them as JSON beside PREDICTIONS. With --judge, "
            "an LLM judge scores MathVista and MM-Vet and reads the multiple-choice / yes-or-no "
            "answers the rules cannot, as VLMEvalKit does (docs/judges.md).",
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
