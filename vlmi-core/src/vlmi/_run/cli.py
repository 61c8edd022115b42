"""``vlmi run``: a whole benchmark file answered into JSON Lines, resumable.

The executor flags of installed extensions (``vlmi-ray``'s ``--ray`` ...)
are added here from the ``register_executors`` hook; without a flag that
asks for one, the run answers in this process.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from vlmi.errors import InvalidOptionError

from .._cli.options import (
    add_generation_arguments,
    add_model_arguments,
    generation_from,
    key_value,
    load_options_from,
)
from .._command import Command
from .._extensions import get_extensions
from .._hookspecs import hookimpl
from .._vlmevalkit.cli import add_dataset_arguments
from .executor import Executor
from .retry import DEFAULT_MAX_FAILED_BATCHES

#: Exit status when the run finished but some samples failed.
EXIT_SAMPLES_FAILED = 3
#: Exit status when the run stopped before the end: the engine is gone, or whole batches
#: kept failing (a rerun with --retry-failed answers their samples again).
EXIT_RUN_STOPPED = 5


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi run MODEL INPUT -o OUTPUT`` and its flags, executors' included."""
    parser.add_argument("model", help="model name or alias (see `vlmi models`)")
    parser.add_argument("input", help=".jsonl (id, query, imgs) or VLMEvalKit .tsv file")
    parser.add_argument("-o", "--output", required=True, help="JSON Lines file to write")
    parser.add_argument(
        "-b",
        "--batch-size",
        type=int,
        help="samples handed to the model at once (default: the model's preferred chunk, 8 "
        "for most, 256 for vlmi-vllm, 4 x concurrency for vlmi-openai)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start OUTPUT over (also replaces a file that is not a `vlmi run` output)",
    )
    parser.add_argument(
        "--force", action="store_true", help="resume even if OUTPUT used other settings"
    )
    retry = parser.add_mutually_exclusive_group()
    retry.add_argument(
        "--retry-failed",
        dest="retry_failed",
        action="store_const",
        const="retryable",
        help="answer again the samples of OUTPUT that failed for the moment (engine gone, "
        'timeout, lost connection, out of memory: records with "retryable": true)',
    )
    retry.add_argument(
        "--retry-all-failed",
        dest="retry_failed",
        action="store_const",
        const="all",
        help="answer again every failed sample of OUTPUT (e.g. after fixing a missing image)",
    )
    parser.add_argument(
        "--max-failed-batches",
        type=int,
        default=DEFAULT_MAX_FAILED_BATCHES,
        metavar="N",
        help=f"stop (exit status {EXIT_RUN_STOPPED}) after N whole batches failed in a row "
        f"(default {DEFAULT_MAX_FAILED_BATCHES}; 0: never)",
    )
    parser.add_argument(
        "--video-sampling",
        action="append",
        type=key_value,
        default=[],
        metavar="KEY=VALUE",
        help="the run's default video sampling, repeatable: nframes=8, fps=1, max_frames=64, "
        "rule=vlmevalkit|qwen|linspace|segments, start=S, end=S (a sample's own settings win; "
        "these win over the model's defaults)",
    )
    parser.add_argument(
        "--workers", type=int, help="image decoding and video sampling threads (local runs)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    add_dataset_arguments(parser)
    parser.add_argument("--dataset", dest="dataset_old", metavar="NAME", help=argparse.SUPPRESS)
    add_model_arguments(parser)
    add_generation_arguments(parser)
    for executor in get_extensions().executors.values():
        title = (
            executor.name
            if not executor.distribution
            else (f"{executor.name} ({executor.distribution})")
        )
        executor.add_arguments(parser.add_argument_group(title, executor.description or None))


def run_command(args: argparse.Namespace) -> int:
    """Run, print the summary line; exit 3 when some samples failed, 5 when it stopped."""
    from .api import run

    dataset_name = args.dataset_name
    if args.dataset_old is not None:
        print(
            "warning: --dataset is deprecated for `vlmi run`; use --dataset-name", file=sys.stderr
        )
        dataset_name = dataset_name or args.dataset_old
    summary = run(
        args.model,
        args.input,
        args.output,
        executor=_executor(args),
        batch_size=args.batch_size,
        overwrite=args.overwrite,
        force=args.force,
        workers=args.workers,
        progress=not args.quiet,
        load_options=load_options_from(args),
        dataset_name=dataset_name,
        dataset_type=args.dataset_type,
        retry_failed=args.retry_failed,
        max_failed_batches=args.max_failed_batches,
        video_sampling=dict(args.video_sampling),
        **generation_from(args),
    )
    print(summary.line(), file=sys.stderr)
    if summary.stopped:
        print(
            f"error: the run stopped before the end: {summary.stopped}. Once the engine works "
            "again, run the same command with --retry-failed: it resumes and answers the "
            "samples that failed for the moment again",
            file=sys.stderr,
        )
        return EXIT_RUN_STOPPED
    return 0 if summary.ok else EXIT_SAMPLES_FAILED


def _executor(args: argparse.Namespace) -> Executor | None:
    chosen = [
        (name, found)
        for name, executor in get_extensions().executors.items()
        if (found := executor.from_arguments(args)) is not None
    ]
    if len(chosen) > 1:
        names = " and ".join(name for name, _ in chosen)
        raise InvalidOptionError(f"the flags ask for two executors ({names}); pick one")
    return chosen[0][1] if chosen else None


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """``vlmi run``."""
    register(
        Command(
            "run",
            "answer every sample of a .jsonl/.tsv file into a JSONL file (resumable)",
            add_run_arguments,
            run_command,
            description=(
                "Answer every sample of INPUT with MODEL, appending one JSON record per sample "
                "to OUTPUT. Re-running the same command resumes: ids already in OUTPUT are "
                "skipped; --retry-failed answers again the samples that failed for the moment "
                "(engine gone, timeout, lost connection), --retry-all-failed every failed one. "
                "The run stops when the engine is gone or after --max-failed-batches whole "
                "batches failed in a row. An OUTPUT that is not a `vlmi run` output is left as "
                "it is unless --overwrite is given; INPUT is never its own OUTPUT. Exit status: "
                f"0 all answered, 1 error, {EXIT_SAMPLES_FAILED} some samples failed, "
                f"{EXIT_RUN_STOPPED} the run stopped before the end (rerun with --retry-failed)."
            ),
        )
    )


__all__ = ["EXIT_RUN_STOPPED", "EXIT_SAMPLES_FAILED", "register_commands"]
