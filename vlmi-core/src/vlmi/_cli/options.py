"""Flags several ``vlmi`` commands share: generation options and ``-O KEY=VALUE`` load options."""

from __future__ import annotations

import argparse
from typing import Any

from .._generation import GENERATION_OPTION_NAMES


def key_value(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` as given: the value stays text, read for the option's type by
    ``vlmi.load`` exactly as a str passed in Python is (see ``vlmi._options.from_text``)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def add_generation_arguments(parser: argparse.ArgumentParser) -> None:
    """The shared generation flags (see vlmi._generation)."""
    group = parser.add_argument_group("generation")
    group.add_argument("--max-new-tokens", type=int, metavar="N")
    group.add_argument("--temperature", type=float, metavar="T", help="0 = greedy (default)")
    group.add_argument("--top-p", type=float, metavar="P")
    group.add_argument("--top-k", type=int, metavar="K")
    group.add_argument("--seed", type=int)
    group.add_argument("--stop", action="append", metavar="TEXT", help="repeatable")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--plugin`` and ``-O KEY=VALUE``: which plugin serves the model, and the options of
    ``vlmi.load`` (weights, engine, generation defaults); read back by :func:`load_options_from`."""
    parser.add_argument(
        "--plugin",
        metavar="DISTRIBUTION",
        help="the plugin that serves MODEL, when several provide it (see `vlmi models`)",
    )
    parser.add_argument(
        "-O",
        "--option",
        action="append",
        type=key_value,
        default=[],
        metavar="KEY=VALUE",
        help="a vlmi.load option, e.g. -O tp=2 -O model_path=/models/x (repeatable); the value "
        "is read for the option's type: true/false/yes/no/1/0, numbers, none, JSON for lists "
        "and dicts",
    )


def load_options_from(args: argparse.Namespace) -> dict[str, Any]:
    """The ``vlmi.load`` options the flags of :func:`add_model_arguments` gave."""
    options: dict[str, Any] = dict(args.option)
    if getattr(args, "plugin", None):
        options["plugin"] = args.plugin
    return options


def generation_from(args: argparse.Namespace) -> dict[str, Any]:
    """The generation flags that were given, as vlmi option names."""
    return {
        name: getattr(args, name)
        for name in GENERATION_OPTION_NAMES
        if getattr(args, name, None) is not None
    }


__all__ = [
    "add_generation_arguments",
    "add_model_arguments",
    "generation_from",
    "key_value",
    "load_options_from",
]
