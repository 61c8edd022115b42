"""``vlmi run MODEL INPUT -o OUTPUT``: the command-line face of :func:`vlmi.runner.run`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

#: Exit status when the run finished but some samples failed.
EXIT_SAMPLES_FAILED = 3


def _cmd_run(args: argparse.Namespace) -> int:
    from vlmi.cli import generation_from
    from vlmi.runner import run

    summary = run(
        args.model,
        args.input,
        args.output,
        batch_size=args.batch_size,
        overwrite=args.overwrite,
        force=args.force,
        workers=args.workers,
        progress=not args.quiet,
        load_options=dict(args.option),
        **generation_from(args),
    )
    print(summary.line(), file=sys.stderr)
    return 0 if summary.ok else EXIT_SAMPLES_FAILED


def add_run_command(commands: Any) -> None:
    """Add ``vlmi run`` to the ``vlmi`` command's subparsers."""
    from vlmi.cli import add_generation_arguments

    parser = commands.add_parser(
        "run",
        help="answer every sample of a .jsonl/.tsv file into a JSONL file (resumable)",
        description=(
            "Answer every sample of INPUT with MODEL, appending one JSON record per sample to "
            "OUTPUT. Re-running the same command resumes: ids already in OUTPUT are skipped. "
            f"Exit status: 0 all answered, 1 error, {EXIT_SAMPLES_FAILED} some samples failed."
        ),
    )
    parser.add_argument("model", help="model name or alias (see `vlmi models`)")
    parser.add_argument("input", help=".jsonl (id, query, imgs) or VLMEvalKit .tsv file")
    parser.add_argument("-o", "--output", required=True, help="JSON Lines file to write")
    parser.add_argument("-b", "--batch-size", type=int, default=8, help="samples per eval_batch")
    parser.add_argument("--overwrite", action="store_true", help="start OUTPUT over")
    parser.add_argument(
        "--force", action="store_true", help="resume even if OUTPUT used other settings"
    )
    parser.add_argument("--workers", type=int, help="image decoding threads")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    add_generation_arguments(parser)
    parser.set_defaults(func=_cmd_run)
