"""``vlmi export --to vlmevalkit``: predictions as the file VLMEvalKit's evaluator reads.

The file is the dataset table in its own row order without the ``image``
column, plus ``prediction``; every other column is kept (the yes-or-no
scorers read ``category``, ``image_path`` and ``l2-category`` from it). A
failed sample's prediction is ``Failed to obtain answer: <error type>``
(VLMEvalKit's text for a failed local inference), an empty one is left empty.
Rows without a prediction are left out (VLMEvalKit scores a subset of a
multiple-choice file; the count is returned). ``index`` is written as
integers when every index is one. An existing file is replaced only when it
is such a table (a header with ``prediction``), never when it is the
dataset or the predictions (:mod:`vlmi._vlmevalkit.targets`).

Name the file ``<model>_<DATASET>.xlsx`` (or ``.tsv``): ``vlmutil eval``
takes the dataset name from what follows the model name. Writing needs
pandas (and openpyxl for ``.xlsx``): ``pip install 'vlmi-core[datasets]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmi.errors import InvalidOptionError, MissingDependencyError

from .predictions import matched_rows
from .targets import check_target, is_predictions_table

_INSTALL = "pip install 'vlmi-core[datasets]'"


def export_vlmevalkit(predictions: str | Path, dataset: str | Path, output: str | Path) -> int:
    """Write ``output`` (``.xlsx`` or ``.tsv``); returns how many dataset rows had no prediction."""
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".tsv"):
        raise InvalidOptionError(
            f"cannot write {output.name!r}: name it <model>_<DATASET>.xlsx or .tsv"
        )
    pandas = _require("pandas")
    if suffix == ".xlsx":
        _require("openpyxl")
    kind = "a predictions table (its header has no `prediction` column)"
    check_target(output, (predictions, dataset), is_predictions_table, kind)
    table, matched, missing = matched_rows(predictions, dataset)
    columns = [c for c in table.columns if c != "image"]
    rows: list[dict[str, Any]] = []
    for row, text in matched:
        cells: dict[str, Any] = dict(row.cells)
        if table.integer_index and "index" in cells:
            cells["index"] = int(row.index)
        rows.append(cells | {"prediction": None if text == "nan" else text})
    frame = pandas.DataFrame(rows, columns=[*columns, "prediction"])
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        frame.to_excel(output, index=False, engine="openpyxl")
    else:
        frame.to_csv(output, sep="\t", index=False)
    return missing


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"exporting for VLMEvalKit needs {module}: {_INSTALL}", install=_INSTALL
        ) from None


__all__ = ["export_vlmevalkit"]
