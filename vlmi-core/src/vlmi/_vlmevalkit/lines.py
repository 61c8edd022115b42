"""The records of a TSV file, each with its byte offset and first line number.

The reader of :mod:`vlmi._vlmevalkit.read`: a record is one line, or several
when a quoted cell holds newlines; bytes that are not UTF-8 mark their record
unreadable instead of stopping the file.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from typing import BinaryIO


class Lines:
    """Lines of a binary file as text, counting bytes and line numbers for the csv reader."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.pos = handle.tell()
        self.start = self.pos  # where the line last returned begins
        self.number = 0
        self.bad_lines: set[int] = set()

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        raw = self.handle.readline()
        if not raw:
            raise StopIteration
        self.start = self.pos
        self.pos += len(raw)
        self.number += 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.bad_lines.add(self.number)
            return raw.decode("utf-8", errors="replace")


def records(handle: BinaryIO) -> Iterator[tuple[int, int, list[str], bool]]:
    """(byte offset, first line, fields, readable) of each non-blank record from here on.

    A line without a quote is split on tabs (what the csv reader would give, only
    faster); a line with one goes through the csv reader, which reads on to the end
    of a quoted cell that holds newlines.
    """
    lines = Lines(handle)
    for line in lines:
        start, first = lines.start, lines.number
        if '"' not in line:
            fields = line.rstrip("\r\n").split("\t")
            if fields == [""]:
                continue
        else:
            try:
                fields = next(csv.reader(itertools.chain([line], lines), delimiter="\t"))
            except (csv.Error, StopIteration):
                yield start, first, [], False
                continue
        if fields:
            bad = any(first <= n <= lines.number for n in lines.bad_lines)
            lines.bad_lines.clear()
            yield start, first, fields, not bad


__all__ = ["Lines", "records"]
