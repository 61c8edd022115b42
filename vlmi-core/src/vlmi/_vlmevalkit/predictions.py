"""A ``vlmi run`` output read back for VLMEvalKit files: records by id, matched to TSV rows.

``vlmi score`` and ``vlmi export`` both read predictions this way, so a
failed sample is the text ``Failed to obtain answer: <error type>`` and an
empty answer ``nan`` in both, as VLMEvalKit reads them from an exported file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidSampleError

from .read import NA_VALUES, TsvRow, TsvScan, iter_rows, scan

FAILED_PREFIX = "Failed to obtain answer"


def prediction_text(record: Mapping[str, Any]) -> str:
    """The prediction as VLMEvalKit reads it back from an exported file."""
    error = record.get("error")
    if error is not None:
        kind = error.get("type", "Error") if isinstance(error, dict) else "Error"
        return f"{FAILED_PREFIX}: {kind}"
    prediction = record.get("prediction")
    if prediction is None or str(prediction) in NA_VALUES:
        return "nan"
    return str(prediction)


def load_predictions(path: str | Path) -> dict[str, dict[str, Any]]:
    """The records of a ``vlmi run`` output by id (the last one of an id wins)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidSampleError(f"predictions file {str(path)!r} does not exist")
    records: dict[str, dict[str, Any]] = {}
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if line.endswith("\n"):
                    raise InvalidSampleError(
                        f"{path.name}:{number} is not JSON; is it a `vlmi run` output?"
                    ) from None
                continue  # the last line cut off by a crash
            records[str(record.get("id"))] = record
    return records


def matched_rows(
    predictions: str | Path, dataset: str | Path, dataset_name: str | None = None
) -> tuple[TsvScan, list[tuple[TsvRow, str]], int]:
    """The dataset, its rows that have a prediction (with the prediction's text), and how many
    rows have none. No match at all is an error: the files do not belong together."""
    records = load_predictions(predictions)
    table = scan(dataset)
    rows: list[tuple[TsvRow, str]] = []
    missing = 0
    for row in iter_rows(table, dataset_name=dataset_name, with_images=False):
        record = records.get(row.index)
        if record is None:
            missing += 1
        else:
            rows.append((row, prediction_text(record)))
    if not rows:
        raise InvalidSampleError(
            f"no prediction in {Path(predictions).name} matches a row index of "
            f"{Path(dataset).name}; were they made from this file?"
        )
    return table, rows, missing


__all__ = ["FAILED_PREFIX", "load_predictions", "matched_rows", "prediction_text"]
