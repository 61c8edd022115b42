"""Stream a VLMEvalKit dataset TSV row by row, reading it as VLMEvalKit's loader does.

VLMEvalKit writes its TSVs with ``DataFrame.to_csv(sep="\\t")``: tab-separated,
``"``-quoted where a cell holds a tab, a quote or a newline (``QUOTE_ALL`` in
its own dumps), quotes doubled inside. The :mod:`csv` module reads exactly
that, so pandas is not needed here. The rules followed (``image_base.py``):

- a cell equal to one of pandas' default NA strings (``""``, ``"nan"``,
  ``"NA"``, ``"None"``, ...) is missing;
- a list cell is a Python list repr (``['iVBOR...', '/9j/...']``), read with
  :func:`ast.literal_eval` (never ``eval``);
- an ``image`` cell of 1 to 64 characters is the ``index`` of another row,
  whose image it reuses;
- with an ``image`` column, rows without an image are dropped and
  ``image_path`` only names files (it is not read); without one,
  ``image_path`` is read: absolute, else relative to the TSV's folder, else
  to ``$LMUData/images/<dataset name>``;
- ``index`` values are strings, or integers when every one is an integer; two
  kept rows with one index refuse the file (:mod:`vlmi._vlmevalkit.indices`);
- an all-number column reads as pandas reads it: integers (``"007"`` is
  ``"7"``), or floats when some are decimals or missing (``"3"`` is ``"3.0"``).

Memory: a first pass counts rows and notes the indices other rows refer to;
the second yields rows one at a time, keeping the byte offsets of referenced
rows (and the 16 referenced images used last; another is re-read from its
offset). Only the referenced indices and offsets grow with the file, and,
during the first pass only, the set of every kept row's index (a repeated
index refuses the file before any row is yielded).
"""

from __future__ import annotations

import ast
import csv
import os
import re
import sys
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .indices import IndexCheck, repeated_index_error
from .lines import records as _records

#: The strings pandas' ``read_csv`` reads as missing by default.
_NA_TEXT = "|#N/A|#N/A N/A|#NA|-1.#IND|-1.#QNAN|-NaN|-nan|1.#IND|1.#QNAN|<NA>|N/A|NA|NULL|NaN"
_NA_TEXT += "|None|n/a|nan|null"
NA_VALUES = frozenset(_NA_TEXT.split("|"))
#: ``image`` cells up to this length name another row's index.
REFERENCE_MAX_CHARS = 64
_INTEGER = re.compile(r"[+-]?\d+")
_BASE64 = re.compile(r"[A-Za-z0-9+/=_\-\s]+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def parse_list_cell(cell: str) -> list[str]:
    """A cell as a list of strings: a Python list repr, or the cell alone.

    :raises ValueError: a cell in brackets that is not a list literal.
    """
    if len(cell) > 1 and cell[0] == "[" and cell[-1] == "]":
        value = ast.literal_eval(cell)
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"expected a list, got {type(value).__name__}")
        return [str(item) for item in value]
    return [cell]


@dataclass(frozen=True)
class TsvRow:
    """One row: its index, line, every cell but ``image``, and its images (or an error)."""

    index: str
    line: int
    cells: dict[str, str | None]
    images: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class TsvScan:
    """What the first pass learned about a file."""

    path: Path
    columns: list[str]
    rows: int = 0
    dropped: int = 0
    integer_index: bool = True
    referenced: set[str] = field(default_factory=set)
    answers: int = 0
    yes_no: bool = True
    has_markers: bool = False
    kinds: dict[str, str] = field(default_factory=dict)

    @property
    def has_options(self) -> bool:
        """Option columns ``A`` and ``B`` (VLMEvalKit's test for a multiple-choice file)."""
        return "A" in self.columns and "B" in self.columns

    def canonical_index(self, cell: str | None, line: int) -> str:
        """The row's index as VLMEvalKit holds it (``"007"`` is ``"7"`` in an integer column)."""
        if cell is None or cell == "":
            return str(line)
        return str(int(cell)) if self.integer_index else cell

    def as_pandas_reads(self, column: str, cell: str | None) -> str | None:
        """A cell as the text of the value pandas reads (numbers re-printed)."""
        kind = self.kinds.get(column)
        if cell is None or kind is None or kind == "str":
            return cell
        return str(int(cell)) if kind == "int" else str(float(cell))

    def _note_kind(self, column: str, cell: str | None) -> None:
        kind = self.kinds.get(column, "int")
        if kind == "str":
            return
        if cell is None:
            kind = "float"
        elif not _INTEGER.fullmatch(cell):
            kind = "float" if _FLOAT.fullmatch(cell) else "str"
        self.kinds[column] = kind


def _header(records: Iterator[tuple[int, int, list[str], bool]], path: Path) -> list[str]:
    from vlmi.errors import InvalidSampleError

    for _, _, fields, _ in records:
        if "question" not in fields:
            raise InvalidSampleError(
                f"{path.name}: the header has no 'question' column (columns: {fields}); "
                "a VLMEvalKit TSV has index, image, question, ..."
            )
        return fields
    raise InvalidSampleError(f"{path.name} is empty: a VLMEvalKit TSV starts with a header row")


def scan(path: str | Path) -> TsvScan:
    """First pass: columns, row count, integer index, referenced indices, answer values.

    :raises DuplicateIndexError: two kept rows have the same index.
    """
    path = Path(path)
    csv.field_size_limit(sys.maxsize)
    with path.open("rb") as handle:
        records = _records(handle)
        columns = _header(records, path)
        result = TsvScan(path, columns)
        at = {name: i for i, name in enumerate(columns)}
        typed = [c for c in columns if c not in ("image", "index")]
        indices = IndexCheck() if "index" in at else None
        for _, line, fields, _ in records:
            cell = _cell(fields, at, "index")
            if cell is not None and result.integer_index and not _INTEGER.fullmatch(cell):
                result.integer_index = False
            for column in typed:  # pandas types a column from every row, dropped or not
                result._note_kind(column, _cell(fields, at, column))
            if len(typed) > 8:
                typed = [c for c in typed if result.kinds.get(c) != "str"]
            if not _has_image(fields, at):
                result.dropped += 1
                continue
            result.rows += 1
            if indices is not None:
                indices.add(cell, line)
            image = _cell(fields, at, "image")
            if image is not None and len(image) <= REFERENCE_MAX_CHARS:
                result.referenced.add(image)
            answer = _cell(fields, at, "answer")
            if answer is not None:
                result.answers += 1
                result.yes_no = result.yes_no and answer.lower() in ("yes", "no")
            question = _cell(fields, at, "question") or ""
            result.has_markers = result.has_markers or "<image " in question
    if indices is not None and indices.repeated(result.integer_index):
        raise repeated_index_error(path.name, _kept_indices(result, at))
    return result


def _kept_indices(table: TsvScan, at: dict[str, int]) -> Iterator[tuple[str, int]]:
    """(index, line) of every kept row, read again (to name a repeated index's lines)."""
    with table.path.open("rb") as handle:
        records = _records(handle)
        _header(records, table.path)
        for _, line, fields, _ in records:
            if _has_image(fields, at):
                yield table.canonical_index(_cell(fields, at, "index"), line), line


def _cell(fields: list[str], at: dict[str, int], column: str) -> str | None:
    i = at.get(column)
    if i is None or i >= len(fields):
        return None
    value = fields[i]
    return None if value in NA_VALUES else value


def _has_image(fields: list[str], at: dict[str, int]) -> bool:
    if "image" in at:
        return _cell(fields, at, "image") is not None
    if "image_path" in at:
        return _cell(fields, at, "image_path") is not None
    return True  # a text-only file: every row is kept


def iter_rows(
    table: TsvScan, *, dataset_name: str | None = None, with_images: bool = True
) -> Iterator[TsvRow]:
    """Second pass: every kept row, in file order (see the module docstring)."""
    path = table.path
    name = dataset_name or path.stem
    csv.field_size_limit(sys.maxsize)
    at = {column: i for i, column in enumerate(table.columns)}
    resolver = _References(table, at) if with_images and "image" in at else None
    with path.open("rb") as handle, _References.closing(resolver):
        records = _records(handle)
        _header(records, path)
        for offset, line, fields, readable in records:
            if fields and not _has_image(fields, at):
                continue
            index = table.canonical_index(_cell(fields, at, "index"), line) if fields else ""
            if resolver is not None and index in table.referenced:
                resolver.remember(index, offset, _cell(fields, at, "image"))
            if not readable or len(fields) > len(table.columns):
                problem = (
                    "not UTF-8 text"
                    if not readable
                    else f"{len(fields)} cells for {len(table.columns)} columns (a stray tab?)"
                )
                yield TsvRow(index or str(line), line, {}, error=f"{path.name}:{line}: {problem}")
                continue
            cells = {
                c: table.as_pandas_reads(c, _cell(fields, at, c))
                for c in table.columns
                if c != "image"
            }
            if "index" in at:
                cells["index"] = index
            images: tuple[str, ...] = ()
            error = None
            if with_images:
                try:
                    images = _images(fields, at, resolver, path, name)
                except _CellError as exc:
                    error = f"{path.name}:{line}: column {exc.column!r}: {exc}"
            yield TsvRow(index, line, cells, images, error)


class _CellError(ValueError):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def _as_list(column: str, cell: str) -> list[str]:
    try:
        return parse_list_cell(cell)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise _CellError(column, f"not a Python list literal ({exc})") from None


def _images(
    fields: list[str],
    at: dict[str, int],
    resolver: _References | None,
    path: Path,
    name: str,
) -> tuple[str, ...]:
    if resolver is not None:
        image = _cell(fields, at, "image") or ""
        if len(image) <= REFERENCE_MAX_CHARS:
            image = resolver.resolve(image)
        images = _as_list("image", image)
        for item in images:  # the ends only: a stray list bracket or quote shows there
            if not (_BASE64.fullmatch(item[:64]) and _BASE64.fullmatch(item[-64:])):
                raise _CellError("image", f"not base64 image data: {item[:40]!r}...")
        return tuple(images)
    paths = _cell(fields, at, "image_path")
    if paths is None:
        return ()
    return tuple(_find_file(p, path, name) for p in _as_list("image_path", paths))


def _find_file(given: str, tsv: Path, name: str) -> str:
    lmu_data = os.environ.get("LMUData", str(Path.home() / "LMUData"))  # noqa: SIM112
    root = Path(lmu_data) / "images" / name
    candidates = [Path(given)] if Path(given).is_absolute() else [tsv.parent / given, root / given]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    raise _CellError(
        "image_path",
        f"file {given!r} not found (looked at {', '.join(str(c) for c in candidates)}); "
        "set $LMUData or fix the path",
    )


class _References:
    """Finds the image of the row an ``image`` cell refers to, by byte offset."""

    #: Referenced images kept in memory (the most recently met or used).
    CACHED = 16

    def __init__(self, table: TsvScan, at: dict[str, int]) -> None:
        self.table = table
        self.at = at
        self.offsets: dict[str, int] = {}
        self.cache: OrderedDict[str, str | None] = OrderedDict()
        self.handle: BinaryIO | None = None

    @staticmethod
    @contextmanager
    def closing(resolver: _References | None) -> Iterator[None]:
        try:
            yield
        finally:
            if resolver is not None and resolver.handle is not None:
                resolver.handle.close()

    def remember(self, index: str, offset: int, image: str | None) -> None:
        self.offsets.setdefault(index, offset)
        self._cache(index, image)

    def _cache(self, index: str, image: str | None) -> None:
        self.cache[index] = image
        self.cache.move_to_end(index)
        if len(self.cache) > self.CACHED:
            self.cache.popitem(last=False)

    def resolve(self, target: str) -> str:
        image = self.cache[target] if target in self.cache else self._read(target)
        if image is None or len(image) <= REFERENCE_MAX_CHARS:
            raise _CellError(
                "image",
                f"refers to the image of the row with index {target!r}, but no row has that "
                "index with an image of its own",
            )
        self._cache(target, image)
        return image

    def _read(self, target: str) -> str | None:
        if self.handle is None:
            self.handle = self.table.path.open("rb")
        start = self.offsets.get(target)
        self.handle.seek(start or 0)
        records = _records(self.handle)
        if start is None:  # a reference to a later row: look ahead once
            _header(records, self.table.path)
        for offset, line, fields, readable in records:
            if not readable:
                continue
            index = self.table.canonical_index(_cell(fields, self.at, "index"), line)
            if index in self.table.referenced:
                self.offsets.setdefault(index, offset)
            if index == target:
                return _cell(fields, self.at, "image")
        return None


__all__ = [
    "NA_VALUES",
    "REFERENCE_MAX_CHARS",
    "TsvRow",
    "TsvScan",
    "iter_rows",
    "parse_list_cell",
    "scan",
]
