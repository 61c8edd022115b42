"""Flags several ``vlmi`` commands share: generation options and ``-O KEY=VALUE`` load options."""

from __future__ import annotations

import argparse
import json
from typing import Any


def _key_value(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
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
    parser.add_argument(
        "-O",
        "--option",
        action="append",
        type=_key_value,
        default=[],
        metavar="KEY=VALUE",
        help="a vlmi.load option, e.g. -O tp=2 -O model_path=/models/x (repeatable)",
    )


def generation_from(args: argparse.Namespace) -> dict[str, Any]:
    """The generation flags that were given, as vlmi option names."""
    names = ("max_new_tokens", "temperature", "top_p", "top_k", "seed", "stop")
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


__all__ = ["add_generation_arguments", "generation_from"]
