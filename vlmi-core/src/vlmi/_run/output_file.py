"""What an existing ``vlmi run`` output may be, so that a run never writes into another file.

A line of a ``vlmi run`` output is a JSON object with ``id``, ``prediction``
and ``error`` (every version wrote them). A file whose first line is not one
is no ``vlmi run`` output: the run refuses it, untouched, unless told to
``overwrite`` it; the input file is never its own output. Only an
unterminated last line that is a record cut off while it was written (a torn
write) may be dropped on resume.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vlmi.errors import OutputFileError

#: How every line ``vlmi run`` writes begins (``json.dumps`` of a record, ``id`` first).
RECORD_START = b'{"id": '


def refuse_unwritable_output(samples: Any, path: Path, overwrite: bool = False) -> None:
    """Refuse, before any model loads, an output the run must not write into.

    The input file itself is refused even with ``overwrite``; a folder, and an
    existing file whose first line is not a ``vlmi run`` record, unless
    ``overwrite`` (:func:`prepare_output` checks every line later).
    """
    if not path.exists():
        return
    if path.is_dir():
        raise OutputFileError(f"{path} is a folder; name a file with -o")
    named = isinstance(samples, (str, Path)) and Path(samples).exists()
    if named and os.path.samefile(samples, path):
        raise OutputFileError(
            f"{path} is the input file itself; writing the answers there would destroy it: "
            "name another file with -o"
        )
    if overwrite:
        return
    with path.open("rb") as handle:
        number = 0
        while raw := handle.readline(_FIRST_LINE_LIMIT):  # a huge file without lines: one part
            number += 1
            if not raw.strip():
                continue
            cut = not raw.endswith(b"\n")
            if record_of(raw) is None and not (cut and is_torn(raw, None)):
                raise not_a_record(path, number, False)
            return


#: the most of an existing output's first line read before any model loads
_FIRST_LINE_LIMIT = 1 << 20


def record_of(raw: bytes) -> dict[str, Any] | None:
    """The line as a ``vlmi run`` record, or ``None`` when it is not one."""
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or not UTF-8
        return None
    if isinstance(record, dict) and {"id", "prediction", "error"} <= record.keys():
        return record
    return None


def is_torn(raw: bytes, record: dict[str, Any] | None) -> bool:
    """Whether an unterminated last line is a record cut off while it was written."""
    if record is not None:
        return True
    if not raw.startswith(RECORD_START):
        return False
    try:  # complete JSON that is no record was not cut off: another program wrote it
        json.loads(raw)
    except (ValueError, RecursionError):
        return True
    return False


def not_a_record(path: Path, number: int, after_records: bool) -> OutputFileError:
    if after_records:
        return OutputFileError(
            f"{path}:{number} is not a `vlmi run` record, though the lines before it are; the "
            "file is left as it is: fix or remove that line, or pass --overwrite "
            "(overwrite=True) to start it over"
        )
    return OutputFileError(
        f"{path} is not a `vlmi run` output (line {number} is not one of its records); it is "
        "left as it is: name another file with -o, or pass --overwrite (overwrite=True) to "
        "replace it"
    )


__all__ = ["RECORD_START", "is_torn", "not_a_record", "record_of", "refuse_unwritable_output"]
