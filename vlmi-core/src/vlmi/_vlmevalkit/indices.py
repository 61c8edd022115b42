"""Every row of a VLMEvalKit TSV needs an index of its own: a repeated one refuses the file.

Answers are matched to rows by index (``vlmi score``, ``vlmi export``, a
resumed ``vlmi run``), so a repeated index would give one row's answer to
another. VLMEvalKit's datasets never repeat one. The first pass over a file
(:func:`vlmi._vlmevalkit.read.scan`) notes each kept row's index cell in a
set; only when one repeats is the file read again for the lines to name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from vlmi.errors import DuplicateIndexError

_INTEGER = re.compile(r"[+-]?\d+")
#: Repeated indices named in the message; the error's ``repeated`` holds them all.
SHOWN = 3


class IndexCheck:
    """The index cells of a file's kept rows, to tell whether one repeats."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.again = False
        self.padded = False  # an integer cell not as pandas prints it ("007", "+7")

    def add(self, cell: str | None, line: int) -> None:
        """Note a kept row's index cell (``None``: missing, so its line number stands in)."""
        key = str(line) if cell is None else cell
        if key in self.seen:
            self.again = True
        self.seen.add(key)
        if not self.padded and cell is not None and _INTEGER.fullmatch(cell):
            self.padded = str(int(cell)) != cell

    def repeated(self, integer_index: bool) -> bool:
        """Whether some index repeats (``"007"`` is ``"7"`` in an integer index)."""
        if self.again:
            return True
        if integer_index and self.padded:
            return len({str(int(key)) for key in self.seen}) < len(self.seen)
        return False


def repeated_index_error(file: str, rows: Iterable[tuple[str, int]]) -> DuplicateIndexError:
    """The error naming each repeated index of ``rows`` ((index, line) of every kept row)."""
    lines: dict[str, list[int]] = {}
    for index, line in rows:
        lines.setdefault(index, []).append(line)
    repeated = {index: tuple(found) for index, found in lines.items() if len(found) > 1}
    shown = [
        f"index {index!r} is on lines {', '.join(map(str, found[:-1]))} and {found[-1]}"
        for index, found in list(repeated.items())[:SHOWN]
    ]
    more = f" (and {len(repeated) - SHOWN} more repeated)" if len(repeated) > SHOWN else ""
    return DuplicateIndexError(
        f"{file}: {'; '.join(shown)}{more}; every row of a VLMEvalKit TSV needs an index of its "
        "own (answers are matched to rows by it): fix the file, or fetch it again",
        repeated,
    )


__all__ = ["SHOWN", "IndexCheck", "repeated_index_error"]
