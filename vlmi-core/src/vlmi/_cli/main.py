"""The ``vlmi`` command: one parser, whose commands come from the ``register_commands`` hook.

``vlmi --help`` imports no engine, FastAPI, Ray or torch: a command's
parser is built from its ``add_arguments``, and its modules are imported
when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from vlmi.errors import VlmiError

from .._extensions import get_extensions
from .._install_hints import distribution_for_command, distribution_for_flag


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``vlmi`` command, with every registered command."""
    from vlmi import __version__

    parser = argparse.ArgumentParser(
        prog="vlmi", description="One inference API for vision-language models."
    )
    parser.add_argument("--version", action="version", version=f"vlmi {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (command, owner) in get_extensions().commands.items():
        sub = commands.add_parser(
            name,
            help=command.help if owner == "vlmi-core" else f"{command.help} ({owner})",
            description=command.description or command.help,
        )
        command.add_arguments(sub)
        sub.set_defaults(func=command.run)
    return parser


def missing_command(argv: Sequence[str]) -> str | None:
    """The install hint when ``argv`` asks for a command or flag whose distribution is missing."""
    known = get_extensions().commands
    positional = [word for word in argv if not word.startswith("-")]
    if positional and positional[0] not in known:
        distribution = distribution_for_command(positional[0])
        if distribution is not None:
            return f"`vlmi {positional[0]}` comes with {distribution}: pip install {distribution}"
        return None
    installed = {executor.distribution for executor in get_extensions().executors.values()}
    for word in argv:
        distribution = distribution_for_flag(word) if word.startswith("--") else None
        if distribution is not None and distribution not in installed:
            flag = word.split("=", 1)[0]
            return f"{flag} comes with {distribution}: pip install {distribution}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vlmi`` command; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    hint = missing_command(words)
    if hint is not None:
        print(f"error: {hint}", file=sys.stderr)
        return 1
    parser = build_parser()
    args, extra = parser.parse_known_args(words)
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


__all__ = ["build_parser", "main", "missing_command"]
