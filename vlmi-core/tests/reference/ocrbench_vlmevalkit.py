"""Make ``ocrbench_vlmevalkit.json``: VLMEvalKit's own ``OCRBench.evaluate`` on the test's rows.

Usage (from the repository root, in an environment with vlmi-core[datasets])::

    git -C VLMEVALKIT show COMMIT:vlmeval/dataset/image_vqa.py > /tmp/image_vqa.py
    python vlmi-core/tests/reference/ocrbench_vlmevalkit.py /tmp/image_vqa.py COMMIT

The rows of ``test_scoring_opencompass.ROWS`` are exported with ``vlmi export --to
vlmevalkit`` (the .xlsx VLMEvalKit's evaluator reads); the method ``evaluate`` of
the class ``OCRBench`` is taken from the given ``image_vqa.py`` as it is and run
with VLMEvalKit's way of reading that file (``pandas.read_excel``). Nothing of
VLMEvalKit is kept here but the numbers it gives.
"""

from __future__ import annotations

import ast
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def vlmevalkit_evaluate(source: str) -> Any:
    """The function ``OCRBench.evaluate`` of VLMEvalKit's ``image_vqa.py`` source."""
    import pandas as pd

    tree = ast.parse(source)
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "OCRBench"]
    (function,) = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "evaluate"]
    function.decorator_list = []
    namespace: dict[str, Any] = {
        "load": pd.read_excel,
        "dump": lambda data, path: None,
        "get_intermediate_file_path": lambda *args: None,
        "tqdm": lambda items: items,
    }
    exec(compile(ast.Module([function], []), "image_vqa.py", "exec"), namespace)
    return namespace["evaluate"]


def main(image_vqa: str, commit: str) -> None:
    sys.path.insert(0, str(HERE.parent))
    from test_scoring_opencompass import write_fixture

    from vlmi._vlmevalkit.export import export_vlmevalkit

    evaluate = vlmevalkit_evaluate(Path(image_vqa).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        out, tsv = write_fixture(Path(folder))
        table = Path(folder) / "model_OCRBench.xlsx"
        export_vlmevalkit(out, tsv, table)
        result = evaluate(None, str(table))
    data = {
        "vlmevalkit_commit": commit,
        "function": "vlmeval/dataset/image_vqa.py: OCRBench.evaluate",
        "rows": "test_scoring_opencompass.ROWS",
        "result": result,
    }
    target = HERE / "ocrbench_vlmevalkit.json"
    target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
