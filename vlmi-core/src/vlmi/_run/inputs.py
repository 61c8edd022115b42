"""Read benchmark inputs as a stream of records: JSON Lines and VLMEvalKit-style TSV.

JSON Lines: one object per line::

    {"id": "q1", "query": "What is shown?", "imgs": ["img/1.jpg"],
     "generation": {"max_new_tokens": 64}}

(one line in the file).

``question``/``images``/``image`` are accepted as well; ``videos`` (``video``)
hold videos (a path, or a dict of :class:`vlmi.Video`'s fields); relative image
and video paths are taken from the input file's folder; images may also be URLs, data URIs
or base64. A missing ``id`` becomes the line number.

TSV: VLMEvalKit's dataset files, read as VLMEvalKit reads them and prompted
as it prompts (:mod:`vlmi._vlmevalkit.rows`).

Anything else given to ``vlmi.run`` (a list or iterator of dicts, tuples,
strings or ``Sample`` objects) is read by :func:`records_from_items`.

A record that cannot be read becomes a :class:`Record` whose ``error`` names
the file and line; the others are read on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidSampleError

from .._record import Record
from .._sample import Sample


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
    """How many lines a JSON Lines file holds (a fast newline count)."""
    lines = 0
    last = b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return lines


def open_records(
    path: str | Path,
    *,
    model: Any = None,
    dataset: str | None = None,
    dataset_type: str | None = None,
) -> tuple[int, Iterator[Record]]:
    """The number of records of a JSONL or TSV file, and a stream of them.

    :param model: the :class:`vlmi.Model` that will answer (its plugin may prompt TSV rows).
    :param dataset: VLMEvalKit dataset name of a TSV (default: the file's stem).
    :param dataset_type: ``mcq``, ``yorn`` or ``vqa`` for a TSV (default: detected).
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidSampleError(f"input file {str(path)!r} does not exist")
    if detect_format(path) == "jsonl":
        return count_records(path), _read_jsonl(path)
    from .._vlmevalkit.rows import open_tsv

    return open_tsv(path, model=model, dataset=dataset, dataset_type=dataset_type)


def open_input(
    samples: str | Path | Iterable[Any],
    model: Any = None,
    dataset_name: str | None = None,
    dataset_type: str | None = None,
) -> tuple[Iterable[Record], int | None]:
    """Any input of ``vlmi.run`` as a stream of records, and how many there are (None: unknown)."""
    if isinstance(samples, (str, Path)):
        total, records = open_records(
            samples, model=model, dataset=dataset_name, dataset_type=dataset_type
        )
        return records, total
    items = samples if not isinstance(samples, (list, tuple)) else list(samples)
    return records_from_items(items), len(items) if isinstance(items, list) else None


def records_from_items(items: Iterable[Any]) -> Iterator[Record]:
    """Records from Python objects: a dict's ``id`` (or ``index``) names it, else its position."""
    for index, item in enumerate(items):
        if isinstance(item, dict):
            fields = dict(item)
            record_id = fields.pop("id", fields.pop("index", index))
            yield Record(str(record_id), index, fields=fields)
        elif isinstance(item, Sample):
            yield Record(item.id or str(index), index, fields={"sample": item})
        else:
            yield Record(str(index), index, fields={"item": item})


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
            for key in ("imgs", "images", "image", "videos", "video"):
                if key in data:
                    data[key] = _relative_to(base, data[key])
            yield Record(record_id, number, fields=data)


def _relative_to(base: Path, images: Any) -> Any:
    if isinstance(images, list):
        return [_relative_to(base, item) for item in images]
    if isinstance(images, dict):  # a video's fields: its source
        return {
            k: _relative_to(base, v) if k in ("source", "path") else v for k, v in images.items()
        }
    if (
        isinstance(images, str)
        and len(images) < 1024
        and not images.startswith(("http://", "https://", "data:", "/"))
    ):
        candidate = base / images
        if candidate.exists():
            return str(candidate)
    return images


__all__ = ["count_records", "detect_format", "open_input", "open_records", "records_from_items"]
