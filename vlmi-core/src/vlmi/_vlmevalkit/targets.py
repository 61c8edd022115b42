"""The files ``vlmi score`` and ``vlmi export`` write: never an input, never another kind of file.

Writing over the dataset or the predictions (``-o MMBench_DEV_EN.tsv``) or
over a file of another kind (``-o NOTES.md``) is refused, the file left as
it is. A file of the kind the command writes (an earlier score file, an
earlier export) is replaced, as before.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from vlmi.errors import OutputFileError

#: A score file is a small JSON object; a larger file is not read to find out.
_SCORE_FILE_MAX_BYTES = 16 << 20


def check_target(
    target: Path, inputs: Iterable[str | Path], ours: Callable[[Path], bool], kind: str
) -> None:
    """Refuse ``target`` when it is one of ``inputs``, or an existing file ``ours`` rejects.

    :param kind: what the command writes, for the message (e.g. "a `vlmi score` file").
    """
    if target.is_dir():
        raise OutputFileError(f"{target} is a folder; name a file with -o")
    if not target.exists():
        return
    for given in inputs:
        if Path(given).exists() and os.path.samefile(given, target):
            raise OutputFileError(
                f"{target} is one of the input files; writing there would destroy it: name "
                "another file with -o"
            )
    if not ours(target):
        raise OutputFileError(
            f"{target} exists and is not {kind}; it is left as it is: name another file with "
            "-o, or remove it first"
        )


def is_score_file(path: Path) -> bool:
    """A JSON object as ``vlmi score`` writes it (``dataset``, ``dataset_type``, ...)."""
    if path.stat().st_size > _SCORE_FILE_MAX_BYTES:
        return False
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and {"dataset", "dataset_type"} <= data.keys()


def is_predictions_table(path: Path) -> bool:
    """A ``.tsv`` or ``.xlsx`` table whose header has a ``prediction`` column."""
    if path.suffix.lower() == ".xlsx":
        return "prediction" in _xlsx_header(path)
    with path.open("rb") as handle:
        first = handle.readline(1 << 20)
    try:
        header = first.decode("utf-8").rstrip("\r\n").split("\t")
    except UnicodeDecodeError:
        return False
    return "prediction" in (cell.strip('"') for cell in header)


def _xlsx_header(path: Path) -> list[str]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return []
    try:
        rows = book.active.iter_rows(max_row=1, values_only=True) if book.active else iter(())
        return [str(cell) for cell in next(rows, ())]
    finally:
        book.close()


__all__ = ["check_target", "is_predictions_table", "is_score_file"]
