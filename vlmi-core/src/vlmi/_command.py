"""A command of the ``vlmi`` command line, as a plugin (or the core) registers it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One ``vlmi`` command: ``vlmi NAME ...``.

    :param name: the command's name (``serve``).
    :param help: one line for ``vlmi --help``.
    :param add_arguments: declares its arguments on its ``argparse`` parser.
    :param run: does the work with the parsed arguments; returns the exit status.
    :param description: the text above its own ``--help`` (default: ``help``).
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str = ""


__all__ = ["Command"]
