"""The ``vlmi`` command line (entry point ``vlmi._cli:main``).

:mod:`.main` builds the parser from the registered commands; :mod:`.options`
holds the flags several commands share; :mod:`.builtin` and :mod:`.listing`
are the core's model commands.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vlmi`` command; returns the exit status."""
    from .main import main as run_main

    return run_main(argv)


__all__ = ["main"]
