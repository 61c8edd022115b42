"""Read benchmark inputs as a stream of records: JSON Lines and VLMEvalKit-style TSV.

JSON Lines: one object per line::

    {"id": "q1", "query": "What is shown?", "imgs": ["img/1.jpg"],
     "generation": {"max_new_tokens": 64}}

(one line in the file).

``question``/``images``/``image`` are accepted as well; relative image paths
are taken from the input file's folder; images may also be URLs, data URIs
or base64. A missing ``id`` becomes the line number.

TSV (VLMEvalKit benchmark files): a header row with ``index``, ``question``
and image column(s): ``image`` (base64, or a JSON list of base64 for several
images), ``image_path`` (paths, or a JSON list of them) or ``image_1``,
``image_2`` ... When option columns ``A``, ``B``, ... are present, the query
lists them (with ``hint`` first, if present) and asks for the letter.

A record that cannot be read becomes a :class:`Record` whose ``error`` names
the file and line; the others are read on.
"""

from __future__ import annotations

import csv
import json
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidSampleError, VlmiError

MCQ_INSTRUCTION = "Answer with the option's letter from the given choices directly."


@dataclass
class Record:
    """One input record: its id and sample fields, or the error that made it unreadable."""

    id: str
    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    error: VlmiError | None = None


def detect_format(path: Path) -> str:
    """``"jsonl"`` or ``"tsv"`` from the file name."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    raise InvalidSampleError(
        f"cannot tell the format of {path.name!r}: name it .jsonl (JSON Lines) or .tsv "
        "(VLMEvalKit layout)"
    )


def count_records(path: Path) -> int:
    """How many records the file holds (a fast newline count; TSV minus its header)."""
    lines = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(0, lines - 1) if detect_format(path) == "tsv" else lines


def read_records(path: str | Path) -> Iterator[Record]:
    """Stream the records of a JSONL or TSV file (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidSampleError(f"input file {str(path)!r} does not exist")
    reader = _read_jsonl if detect_format(path) == "jsonl" else _read_tsv
    yield from reader(path)


def _read_jsonl(path: Path) -> Iterator[Record]:
    base = path.parent
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Record(
                    str(number),
                    number,
                    error=InvalidSampleError(
                        f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); "
                        "fix or remove the line"
                    ),
                )
                continue
            if not isinstance(data, dict):
                yield Record(
                    str(number),
                    number,
                    error=InvalidSampleError(
                        f"{where}: expected a JSON object, got {type(data).__name__}"
                    ),
                )
                continue
            record_id = data.pop("id", data.pop("index", None))
            record_id = str(number) if record_id is None else str(record_id)
            for key in ("imgs", "images", "image"):
                if key in data:
                    data[key] = _relative_to(base, data[key])
            yield Record(record_id, number, fields=data)


def _relative_to(base: Path, images: Any) -> Any:
    if isinstance(images, list):
        return [_relative_to(base, item) for item in images]
    if (
        isinstance(images, str)
        and len(images) < 1024
        and not images.startswith(("http://", "https://", "data:", "/"))
    ):
        candidate = base / images
        if candidate.exists():
            return str(candidate)
    return images


def _read_tsv(path: Path) -> Iterator[Record]:
    csv.field_size_limit(sys.maxsize)
    base = path.parent
    with path.open("r", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        columns = reader.fieldnames or []
        if "question" not in columns:
            raise InvalidSampleError(
                f"{path.name}: the TSV header has no 'question' column (columns: {columns})"
            )
        options = [c for c in string.ascii_uppercase if c in columns]
        for row in reader:
            number = reader.line_num
            record_id = row.get("index") or str(number)
            try:
                images = _tsv_images(row, base)
                query = _tsv_query(row, options)
            except VlmiError as exc:
                yield Record(
                    record_id, number, error=InvalidSampleError(f"{path.name}:{number}: {exc}")
                )
                continue
            yield Record(record_id, number, fields={"query": query, "imgs": images})


def _tsv_images(row: dict[str, str], base: Path) -> list[str]:
    images: list[str] = []
    for column in sorted(row, key=_image_column_order):
        value = (row.get(column) or "").strip()
        if not value or not (column in ("image", "image_path") or column.startswith("image_")):
            continue
        items = json.loads(value) if value.startswith("[") else [value]
        if column == "image" and any(len(item) <= 64 and item.isdigit() for item in items):
            raise InvalidSampleError(
                "the image column refers to another row's image by index; expand the file with "
                "VLMEvalKit first (its TSV loader resolves these references)"
            )
        if column == "image_path":
            items = [str(_relative_to(base, item)) for item in items]
        images.extend(items)
    return images


def _image_column_order(column: str) -> tuple[int, str]:
    suffix = column.rpartition("_")[2]
    return (int(suffix) if suffix.isdigit() else 0, column)


def _tsv_query(row: dict[str, str], options: list[str]) -> str:
    question = (row.get("question") or "").strip()
    choices = [
        (c, row[c].strip()) for c in options if row.get(c) and row[c].strip() not in ("", "nan")
    ]
    if not choices:
        return question
    hint = (row.get("hint") or "").strip()
    lines = [f"Hint: {hint}"] if hint and hint != "nan" else []
    lines.append(f"Question: {question}")
    lines.append("Options:")
    lines.extend(f"{letter}. {text}" for letter, text in choices)
    lines.append(MCQ_INSTRUCTION)
    return "\n".join(lines)


__all__ = ["MCQ_INSTRUCTION", "Record", "count_records", "detect_format", "read_records"]
