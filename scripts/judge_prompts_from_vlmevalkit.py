"""Write the judge prompts VLMEvalKit builds for vlmi's judge test fixtures.

    python scripts/judge_prompts_from_vlmevalkit.py /path/to/VLMEvalKit-checkout

The checkout must be at the commit below (``git -C PATH rev-parse HEAD``). The
script imports VLMEvalKit's own prompt builders from that path (its package
``__init__`` files, which pull in every model and dataset, are skipped: only
the modules that build judge prompts run), reads each fixture TSV with pandas
as VLMEvalKit does, sets each row's ``prediction`` from the fixture's
predictions file, and writes every prompt VLMEvalKit would send to the judge
for it into ``tests/data/judge/expected_prompts.json``, with the commit. The
test ``vlmi-core/tests/test_judge_prompts.py`` compares vlmi's prompts with it.
Nothing of VLMEvalKit is copied into this repository.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import types
from pathlib import Path

COMMIT = "e8e78f05f3080fe28154f2130321f17951c3be94"
DATA = Path(__file__).resolve().parent.parent / "vlmi-core" / "tests" / "data" / "judge"
#: third-party modules VLMEvalKit's helper modules import but the prompt builders never use
_UNUSED = (
    "validators",
    "sty",
    "huggingface_hub",
    "huggingface_hub.utils",
    "huggingface_hub.utils._cache_manager",
    "portalocker",
    "decord",
    "torch",
)


def _package(name: str, path: Path) -> None:
    """A package whose ``__init__`` is not run, its submodules found under ``path``."""
    module = types.ModuleType(name)
    module.__path__ = [str(path)]
    sys.modules[name] = module


def import_vlmevalkit(root: Path) -> dict[str, types.ModuleType]:
    for name in _UNUSED:
        if name not in sys.modules:
            try:
                importlib.import_module(name)
            except ImportError:
                stub = types.ModuleType(name)
                stub.__path__ = []  # type: ignore[attr-defined]
                stub.__getattr__ = lambda attr: lambda *a, **k: None  # type: ignore[method-assign]
                sys.modules[name] = stub
    base = root / "vlmeval"
    sys.path.insert(0, str(root))
    for name in ("vlmeval", "vlmeval.dataset", "vlmeval.dataset.utils", "vlmeval.utils"):
        _package(name, base.joinpath(*name.split(".")[1:]))
    matching = importlib.import_module("vlmeval.utils.matching_util")
    utils = sys.modules["vlmeval.utils"]
    for attr in ("can_infer", "can_infer_option", "can_infer_text", "can_infer_lego"):
        setattr(utils, attr, getattr(matching, attr))
    utils.track_progress_rich = None  # type: ignore[attr-defined]
    smp = types.ModuleType("vlmeval.smp")
    smp.__path__ = [str(base / "smp")]  # type: ignore[attr-defined]
    sys.modules["vlmeval.smp"] = smp
    for part in ("log", "misc", "vlm", "file"):
        module = importlib.import_module(f"vlmeval.smp.{part}")
        for attr in dir(module):
            if not attr.startswith("_"):
                setattr(smp, attr, getattr(module, attr))
    names = ("mathvista", "mmvet", "multiple_choice", "yorn")
    return {n: importlib.import_module(f"vlmeval.dataset.utils.{n}") for n in names}


def predictions(path: Path) -> dict[str, str]:
    """index -> prediction text, as `vlmi export` writes it (an empty one read back as NaN)."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            out[str(record["id"])] = record.get("prediction")
    return out


def main(root: Path) -> None:
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    if head and head != COMMIT:
        sys.exit(f"{root} is at {head}; check out {COMMIT}")
    import pandas as pd

    vk = import_vlmevalkit(root)
    expected: dict[str, dict[str, str]] = {}
    for tsv in sorted(DATA.glob("*.tsv")):
        data = pd.read_csv(tsv, sep="\t")
        preds = predictions(tsv.with_suffix(".jsonl"))
        prompts = {}
        for i in range(len(data)):
            line = data.iloc[i].copy()
            pred = preds.get(str(line["index"]))
            line["prediction"] = str(pred) if pred not in (None, "") else str(float("nan"))
            if "MathVista" in tsv.stem:
                prompts[str(line["index"])] = vk["mathvista"].build_mathvista_gpt4_prompt(line)
            elif "MMVet" in tsv.stem:
                prompts[str(line["index"])] = vk["mmvet"].build_mmvet_gpt4_prompt(line)
            elif "YORN" in tsv.stem.upper() or "Hallusion" in tsv.stem:
                prompts[str(line["index"])] = vk["yorn"].YOrN_match_prompt(line)
            else:
                mc = vk["multiple_choice"]
                if "MMMU" in tsv.stem:
                    frame = mc.MMMU_preproc(data.iloc[[i]].copy())
                    line = frame.iloc[0].copy()
                    line["prediction"] = str(pred) if pred not in (None, "") else "nan"
                choices = mc.build_choices(line)
                options = (
                    vk["multiple_choice"].build_option_str(choices)
                    if hasattr(mc, "build_option_str")
                    else sys.modules["vlmeval.smp"].build_option_str(choices)
                )
                builder = mc.build_prompt_cn if mc.cn_string(line["question"]) else mc.build_prompt
                prompts[str(line["index"])] = builder(line["question"], options, line["prediction"])
        expected[tsv.name] = prompts
    out = {"vlmevalkit_commit": COMMIT, "prompts": expected}
    target = DATA / "expected_prompts.json"
    target.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
