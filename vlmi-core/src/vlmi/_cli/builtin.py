"""The core's own commands that are about models: ``models``, ``plugins`` and ``eval``.

Registered through the ``register_commands`` hook like any plugin's
(``vlmi run`` registers from :mod:`vlmi._run.cli`, ``score`` and ``export``
from :mod:`vlmi._vlmevalkit.cli`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .._command import Command
from .._hookspecs import hookimpl
from .listing import add_models_arguments, add_plugins_arguments, run_models, run_plugins
from .options import (
    add_generation_arguments,
    add_model_arguments,
    generation_from,
    load_options_from,
)


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """``vlmi eval MODEL [QUERY] -i IMAGE ... --video VIDEO ...``"""
    parser.add_argument("model", help="model name or alias (see `vlmi models`)")
    parser.add_argument("query", nargs="?", help="the question (optional with images or videos)")
    parser.add_argument(
        "-i", "--image", action="append", metavar="IMAGE", help="path, URL or data URI (repeatable)"
    )
    parser.add_argument(
        "--video",
        action="append",
        metavar="VIDEO",
        help="a video file, URL or frame folder, sampled as the model's default (repeatable)",
    )
    add_model_arguments(parser)
    add_generation_arguments(parser)


def run_eval(args: argparse.Namespace) -> int:
    """Load the model, answer the one query, print the answer."""
    from .._api import load

    model = load(args.model, **load_options_from(args))
    with model:
        answer = model.eval(
            args.query, imgs=args.image or None, videos=args.video or None, **generation_from(args)
        )
        print(answer)
    return 0


@hookimpl
def register_commands(register: Callable[[Command], None]) -> None:
    """``vlmi models``, ``vlmi plugins``, ``vlmi eval``."""
    register(
        Command(
            "models", "list the models of the installed plugins", add_models_arguments, run_models
        )
    )
    register(
        Command(
            "plugins", "list plugins, versions and load errors", add_plugins_arguments, run_plugins
        )
    )
    register(
        Command(
            "eval",
            "answer one query, with or without images",
            add_eval_arguments,
            run_eval,
            description="Load MODEL and print its answer to QUERY about the images given with -i. "
            "Example: vlmi eval internvl2-8b 'What is shown?' -i cat.jpg --max-new-tokens 64",
        )
    )


__all__ = ["register_commands"]
