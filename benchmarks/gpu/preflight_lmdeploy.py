"""Check the LMDeploy bundle on a CPU: everything up to LMDeploy's first CUDA call.

    PYTHONPATH=SITE python benchmarks/gpu/preflight_lmdeploy.py --site SITE [--json OUT.json]

Run it with the GPU machine's Python and packages (3.12, torch 2.11,
transformers 5.17, no pydantic) and the bundle installed with
``pip install --no-index --no-deps --target SITE``. It prints one line per
step and exits non-zero on any ``ModuleNotFoundError``:

1. every module of ``lmdeploy.pytorch`` and ``lmdeploy.vl`` imports, except
   the optional backends InternVL2 never uses (:data:`OPTIONAL`);
2. vlmi's entry points are found from SITE (``vlmi.list_models()``);
3. ``vlmi.load("internvl2-1b", model_path=<tiny>, backend="pytorch")`` through
   the real engine: LMDeploy's start-up checks must stop at CUDA (a typed
   ``EngineUnavailableError``), and with the checks off the engine must get
   to its first CUDA call;
4. ``eval_batch`` through LMDeploy's real pipeline (chat template, InternVL
   tiling, tokens) with only the GPU engine scripted;
5. which bundled distributions were imported, and by which module first.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

#: missing modules that only optional LMDeploy back ends import (not InternVL2 on CUDA)
OPTIONAL = (
    "dlinfer",
    "tilelang",
    "ray",
    "deep_gemm",
    "deep_ep",
    "flash_attn_interface",
    "flash_mla",
    "fla",
    "dlblas",
    "flashinfer",
    "fastapi",
    "uvicorn",
    "openai",
    "partial_json_parser",
    "openai_harmony",
    "prometheus_client",
    "dlslime",
    "mooncake",
    "torch_npu",
    "lmdeploy.turbomind._turbomind",
)
#: lmdeploy modules of those optional back ends (TurboMind's AWQ kernels for the PyTorch engine)
OPTIONAL_MODULES = ("lmdeploy.pytorch.backends.cuda.turbomind_awq_modules",)


class FirstImporter:
    """A meta-path finder that records which module first imported each top-level name."""

    def __init__(self, site: Path) -> None:
        self.site = str(site.resolve())
        self.first: dict[str, str] = {}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        top = name.split(".", maxsplit=1)[0]
        if top in self.first or top in sys.modules:
            return None
        frame = sys._getframe(1)
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            if not module.startswith(("importlib", "_frozen_importlib")) and module != __name__:
                break
            frame = frame.f_back  # type: ignore[assignment]
        self.first[top] = frame.f_globals.get("__name__", "?") if frame is not None else "?"
        return None

    def from_site(self) -> dict[str, str]:
        found = {}
        for top, importer in self.first.items():
            module = sys.modules.get(top)
            origin = str(getattr(module, "__file__", "") or "")
            if origin.startswith(self.site):
                found[top] = importer
        return found


def step(results: dict[str, Any], name: str, ok: bool, detail: str) -> None:
    results[name] = {"ok": ok, "detail": detail}
    print(f"[{'PASS' if ok else 'FAIL'}] {name}: {detail}", flush=True)


def import_everything(results: dict[str, Any]) -> None:
    import lmdeploy
    from lmdeploy import ChatTemplateConfig, GenerationConfig, PytorchEngineConfig, pipeline

    api = [pipeline, PytorchEngineConfig, GenerationConfig, ChatTemplateConfig]
    print("lmdeploy API:", ", ".join(item.__name__ for item in api))
    names = []
    for package in ("lmdeploy.pytorch", "lmdeploy.vl"):
        root = importlib.import_module(package)
        names += [m.name for m in pkgutil.walk_packages(root.__path__, f"{package}.")]
    failed: dict[str, str] = {}
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            failed[name] = str(exc.name)
        except Exception as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"[:120]
    needed = {
        n: why
        for n, why in failed.items()
        if not str(why).startswith(OPTIONAL) and not n.startswith(OPTIONAL_MODULES)
    }
    step(
        results,
        "imports",
        not needed,
        f"lmdeploy {lmdeploy.__version__}: {len(names) - len(failed)} of {len(names)} modules of "
        f"lmdeploy.pytorch and lmdeploy.vl import; the others need optional back ends: "
        f"{sorted(set(failed.values()) - set(needed.values()))}; others failing: {needed}",
    )


def entry_points(results: dict[str, Any]) -> None:
    import vlmi

    names = {info.name for info in vlmi.list_models()}
    ok = {"internvl2-1b", "internvl2-8b"} <= names
    families = sorted({info.family for info in vlmi.list_models()})
    step(results, "entry points", ok, f"{len(names)} models, families {families}")


def load_until_cuda(results: dict[str, Any], tiny: Path) -> None:
    from lmdeploy.pytorch import envs

    import vlmi
    import vlmi_internvl2.model as model_module

    # vlmi's own CUDA check would stop first; let LMDeploy go as far as it can
    model_module._require_cuda = lambda: None  # type: ignore[attr-defined]
    try:
        vlmi.load("internvl2-1b", model_path=str(tiny), backend="pytorch", max_batch_size=8)
        step(results, "load with checks", False, "loaded on a CPU: unexpected")
    except vlmi.errors.EngineUnavailableError as exc:
        step(results, "load with checks", "start-up check" in str(exc), str(exc)[:300])
    envs.enable_check_env = False
    try:
        vlmi.load("internvl2-1b", model_path=str(tiny), backend="pytorch", max_batch_size=8)
        step(results, "load without checks", False, "loaded on a CPU: unexpected")
    except ModuleNotFoundError as exc:
        step(results, "load without checks", False, f"ModuleNotFoundError: {exc}")
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        text = f"{type(exc).__name__}: {exc}"[:200]
        cuda = "cuda" in text.lower() or "nvidia" in text.lower() or "cuda" in where.filename
        step(
            results,
            "load without checks",
            cuda,
            f"stopped at {where.filename.split('site-packages/')[-1].split(str(Path.cwd()))[-1]}"
            f":{where.lineno} ({where.name}): {text}",
        )
    finally:
        envs.enable_check_env = True


def scripted_batch(results: dict[str, Any], tiny: Path, picture: Path) -> None:
    import vlmi
    from vlmi_testkit import scripted_engine

    with scripted_engine() as engines:
        model = vlmi.load("internvl2-1b", model_path=str(tiny), backend="pytorch")
        answers = model.eval_batch(["Hi", ("Describe.", [str(picture)])], max_new_tokens=16)
        model.close()
    ok = answers == ["0 images 0 tokens", "1 images 256 tokens"]
    tokens = [len(r.input_ids) for r in engines[0].requests]
    step(results, "pipeline preprocessing", ok, f"answers {answers}, prompt tokens {tokens}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, required=True, help="the --target install folder")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    tracker = FirstImporter(args.site)
    sys.meta_path.insert(0, tracker)  # type: ignore[arg-type]
    results: dict[str, Any] = {}
    import torch
    import transformers

    print(
        f"python {sys.version.split()[0]}, torch {torch.__version__}, "
        f"transformers {transformers.__version__}, CUDA {torch.cuda.is_available()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        from vlmi.testing.inputs import make_picture
        from vlmi_testkit import make_tiny_internvl2

        tiny = make_tiny_internvl2(Path(tmp) / "tiny-internvl2")
        picture = Path(tmp) / "picture.png"
        make_picture(200, 200, seed=1).save(picture)
        for run in (
            lambda: import_everything(results),
            lambda: entry_points(results),
            lambda: load_until_cuda(results, tiny),
            lambda: scripted_batch(results, tiny, picture),
        ):
            try:
                run()
            except Exception as exc:
                step(results, "error", False, "".join(traceback.format_exception(exc))[-800:])
    bundled = tracker.from_site()
    print("imported from the bundle (top-level module <- first importer):")
    for top, importer in sorted(bundled.items()):
        print(f"  {top:18} <- {importer}")
    results["bundled_imports"] = bundled
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    failed = [name for name, r in results.items() if isinstance(r, dict) and r.get("ok") is False]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
