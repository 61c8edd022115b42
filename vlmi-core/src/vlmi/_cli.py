"""The ``vlmi`` command: models, plugins, eval, run, serve, score and export."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from vlmi.errors import VlmiError

from ._cli_benchmarks import add_benchmark_commands, add_dataset_arguments
from ._cli_options import add_generation_arguments, generation_from
from ._cli_serve import add_serve_command
from ._hints import OPEN_NAMES_PLUGIN

#: Exit status when the run finished but some samples failed.
EXIT_SAMPLES_FAILED = 3


def _cmd_models(args: argparse.Namespace) -> int:
    from ._api import list_models
    from ._registry import get_registry

    rows = list_models()
    registry = get_registry()
    if args.json:
        print(json.dumps([spec.to_dict() for spec in registry.models()], indent=2))
    elif not rows:
        print(
            "No models: install a plugin, e.g. pip install "
            f"{OPEN_NAMES_PLUGIN} (see `vlmi plugins`)."
        )
    else:
        table = [("NAME", "FAMILY", "ENGINE", "WEIGHTS", "PLUGIN", "ALIASES")]
        for row in rows:
            table.append(
                (
                    row.name,
                    row.family,
                    row.engine,
                    row.default_weights or "-",
                    f"{row.distribution} {row.version}",
                    ", ".join(row.aliases) or "-",
                )
            )
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        for line in table:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
    for name, specs in sorted(registry.conflicts.items()):
        owners = " and ".join(s.plugin.distribution if s.plugin else "?" for s in specs)
        print(
            f"warning: model name {name!r} is claimed by {owners}; it is unusable", file=sys.stderr
        )
    if registry.plugins.failures:
        print("warning: some plugins failed to load; run `vlmi plugins`", file=sys.stderr)
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    from ._registry import get_registry

    registry = get_registry()
    plugins = registry.plugins
    counts: dict[str, int] = {}
    for spec in registry.specs:
        if spec.plugin:
            counts[spec.plugin.entry_point] = counts.get(spec.plugin.entry_point, 0) + 1
    records: list[dict[str, Any]] = []
    for name, info in sorted(plugins.loaded.items()):
        failed = any(f.entry_point == name for f in plugins.failures)
        records.append(
            {
                "entry_point": name,
                "distribution": info.distribution,
                "version": info.version,
                "status": "error" if failed else "loaded",
                "models": counts.get(name, 0),
            }
        )
    for info in sorted(plugins.skipped.values(), key=lambda i: (i.entry_point, i.distribution)):
        records.append(
            {
                "entry_point": info.entry_point,
                "distribution": info.distribution,
                "version": info.version,
                "status": "disabled",
                "models": 0,
            }
        )
    for failure in plugins.failures:
        if failure.entry_point not in plugins.loaded:
            records.append(
                {
                    "entry_point": failure.entry_point,
                    "distribution": failure.distribution,
                    "version": failure.version,
                    "status": "error",
                    "models": 0,
                }
            )
    errors = [
        {
            "entry_point": f.entry_point,
            "distribution": f.distribution,
            "stage": f.stage,
            "error": f.error,
            "details": f.details,
        }
        for f in plugins.failures
    ]
    conflicts = {
        name: [s.plugin.distribution if s.plugin else "?" for s in specs]
        for name, specs in registry.conflicts.items()
    }
    if args.json:
        print(json.dumps({"plugins": records, "errors": errors, "conflicts": conflicts}, indent=2))
        return 0
    if not records:
        print(f"No vlmi plugins installed. Install one, e.g. pip install {OPEN_NAMES_PLUGIN}")
    for rec in records:
        print(
            f"{rec['distribution']} {rec['version']} (entry point {rec['entry_point']!r}): "
            f"{rec['status']}, {rec['models']} model(s)"
        )
    for err in errors:
        print(f"  error in {err['distribution']} while {err['stage']}ing: {err['error']}")
        if args.verbose:
            print("    " + err["details"].replace("\n", "\n    "))
    for name, owners in sorted(conflicts.items()):
        print(f"  conflict: model name {name!r} claimed by {' and '.join(owners)}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from ._api import load

    model = load(args.model, **dict(args.option))
    with model:
        print(model.eval(args.query, imgs=args.image or None, **generation_from(args)))
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from ._runner import run

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
        dataset=args.dataset_name,
        dataset_type=args.dataset_type,
        ray=args.ray,
        replicas=args.replicas,
        gpus_per_replica=args.gpus_per_replica,
        runtime_env=args.runtime_env,
        max_retries=args.max_retries,
        **generation_from(args),
    )
    print(summary.line(), file=sys.stderr)
    return 0 if summary.ok else EXIT_SAMPLES_FAILED


def _add_run_command(commands: Any) -> None:
    """Add ``vlmi run`` to the ``vlmi`` command's subparsers."""
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
    add_dataset_arguments(parser, name_flag="--dataset")
    add_generation_arguments(parser)
    _add_ray_arguments(parser)
    parser.set_defaults(func=_cmd_run)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def _add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi run``'s cluster flags (they need ``vlmi-core[ray]``)."""
    group = parser.add_argument_group(
        "Ray cluster (pip install 'vlmi-core[ray]')",
        "Run on a pool of model replicas on a Ray cluster; the output is the same.",
    )
    group.add_argument(
        "--ray",
        nargs="?",
        const=True,
        metavar="ADDRESS",
        help="the cluster's address (HOST:PORT, auto); alone: RAY_ADDRESS or a local cluster",
    )
    group.add_argument("--replicas", type=int, default=1, metavar="N", help="model replicas")
    group.add_argument(
        "--gpus-per-replica",
        type=float,
        default=1,
        metavar="G",
        help="GPUs each replica holds (default 1; 0 for CPU models)",
    )
    group.add_argument(
        "--runtime-env",
        type=_json_object,
        metavar="JSON",
        help="Ray runtime_env, e.g. '{\"pip\": [...]}'",
    )
    group.add_argument(
        "--max-retries",
        type=int,
        default=3,
        metavar="N",
        help="restarts of a dead replica and retries of its batch before the run stops",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``vlmi`` command."""
    from vlmi import __version__

    parser = argparse.ArgumentParser(
        prog="vlmi", description="One inference API for vision-language models."
    )
    parser.add_argument("--version", action="version", version=f"vlmi {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    models = commands.add_parser("models", help="list the models of the installed plugins")
    models.add_argument("--json", action="store_true", help="machine-readable output")
    models.set_defaults(func=_cmd_models)

    plugins = commands.add_parser("plugins", help="list plugins, versions and load errors")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")
    plugins.set_defaults(func=_cmd_plugins)

    evaluate = commands.add_parser("eval", help="answer one query, with or without images")
    evaluate.add_argument("model", help="model name or alias (see `vlmi models`)")
    evaluate.add_argument("query", nargs="?", help="the question (optional with images)")
    evaluate.add_argument(
        "-i", "--image", action="append", metavar="IMAGE", help="path, URL or data URI (repeatable)"
    )
    add_generation_arguments(evaluate)
    evaluate.set_defaults(func=_cmd_eval)

    _add_run_command(commands)
    add_benchmark_commands(commands)
    add_serve_command(commands)
    from ._download import cli as download

    command = commands.add_parser(
        "download", help="download a model's weights (resumable)", description=download.DESCRIPTION
    )
    download.add_arguments(command)
    command.set_defaults(func=download.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vlmi`` command; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "eval" and args.query is None and not extra[0].startswith("-"):
        # argparse binds an optional positional before later flags: `eval M -i x.png "q"`
        args.query, extra = extra[0], extra[1:]
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args))
    except VlmiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the output piped into `head` or the like, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
