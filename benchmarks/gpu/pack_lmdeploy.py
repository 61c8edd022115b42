"""Build the offline bundle that runs vlmi-internvl2 on LMDeploy's PyTorch engine on the GPU box.

    python benchmarks/gpu/pack_lmdeploy.py [--out .whl] [--download-dir DIR]

The GPU machine (Python 3.12, torch 2.11, triton 3.6, transformers 5.17, no
internet, no lmdeploy, no pydantic) gets, in ``OUT/lmdeploy/``:

- lmdeploy 0.18.0's cp312 wheel, slimmed: TurboMind's native module
  (``_turbomind*.so``, 364 MB unpacked) and ``libxgrammar.a`` dropped,
  repacked with ``wheel pack`` (which rewrites RECORD). The PyTorch engine
  never loads either;
- exactly the wheels LMDeploy's PyTorch engine imports for InternVL2 that the
  GPU machine lacks (:data:`BUNDLED`, each with the module that needs it),

and in ``OUT/vlmi/`` vlmi's own wheels (build_wheels.sh). The total must stay
under 60 MiB (64 MiB travel with one run). Install there with
``pip install --no-index --no-deps --target DIR OUT/vlmi/*.whl OUT/lmdeploy/*.whl``
and ``PYTHONPATH=DIR``: ``--no-deps`` is needed, the slim wheel still lists
fastapi, ray, ... which the PyTorch engine does not import for InternVL2.

Needs pip and wheel in the Python that runs it (``python3 -m pip install wheel``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LMDEPLOY = "lmdeploy==0.18.0"
#: what the slim wheel leaves out (TurboMind's binaries)
DROPPED = ("lmdeploy/turbomind/_turbomind", "lmdeploy/turbomind/lib64/libxgrammar.a")
#: requirement -> the module that imports it on the PyTorch-engine path for InternVL2
BUNDLED = {
    "pydantic==2.14.4": "lmdeploy.messages (the engine configs are pydantic dataclasses)",
    "pydantic-core==2.50.5": "pydantic",
    "annotated-types==0.8.0": "pydantic",
    "typing-inspection==0.4.5": "pydantic",
    "mmengine-lite==0.10.7": "lmdeploy.model (from mmengine import Registry)",
    "addict==2.4.0": "mmengine.config",
    "yapf==0.43.0": "mmengine.config",
    "platformdirs==4.14.8": "yapf",
    "termcolor==3.3.0": "mmengine.utils",
    "pybase64==1.5.1": "lmdeploy.vl.media.image",
    "pyzmq==27.3.0": "lmdeploy.pytorch.disagg.conn.engine_conn (imported by the engine)",
    "xgrammar==0.2.8": "lmdeploy.pytorch.engine.guided_process (top of model_agent/agent.py)",
    "apache-tvm-ffi==0.1.11": "xgrammar (lmdeploy's own pin)",
    "shortuuid==1.0.13": "lmdeploy.serve.openai.protocol (imported by model_agent/agent.py)",
}
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
)
LIMIT_MIB = 60.0


def pip_download(requirements: list[str], folder: Path) -> None:
    """cp312 manylinux wheels of exactly these requirements, no dependencies."""
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
            *("--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp"),
            *(*platforms, "--dest", str(folder), *requirements),
        ],
        check=True,
    )


def slim_lmdeploy(wheel: Path, out: Path) -> Path:
    """The lmdeploy wheel without TurboMind's binaries, repacked into ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "wheel", "unpack", "--dest", tmp, str(wheel)], check=True
        )
        (unpacked,) = Path(tmp).iterdir()
        removed = []
        for path in sorted(unpacked.rglob("*")):
            relative = path.relative_to(unpacked).as_posix()
            if path.is_file() and relative.startswith(DROPPED):
                removed.append(f"{relative} ({path.stat().st_size / 2**20:.1f} MiB)")
                path.unlink()
        if len(removed) != len(DROPPED):
            raise SystemExit(f"expected to drop {DROPPED}, dropped {removed}: wheel layout changed")
        print("dropped from lmdeploy:", *removed, sep="\n  ")
        subprocess.run(
            [sys.executable, "-m", "wheel", "pack", "--dest-dir", str(out), str(unpacked)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    (slim,) = out.glob("lmdeploy-*.whl")
    return slim


def check_wheel(wheel: Path) -> None:
    """The repacked wheel opens and holds no TurboMind binary."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    if any(name.startswith(DROPPED) for name in names):
        raise SystemExit(f"{wheel.name} still holds TurboMind's binaries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".whl", help="bundle folder")
    parser.add_argument(
        "--download-dir", type=Path, help="keep downloaded wheels here (default: a temp folder)"
    )
    args = parser.parse_args()
    engine_folder = args.out / "lmdeploy"
    shutil.rmtree(engine_folder, ignore_errors=True)
    engine_folder.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        downloads = args.download_dir or Path(tmp)
        downloads.mkdir(parents=True, exist_ok=True)
        pip_download([LMDEPLOY, *BUNDLED], downloads)
        (full,) = downloads.glob("lmdeploy-0.18.0-cp312-*.whl")
        check_wheel(slim_lmdeploy(full, engine_folder))
        for requirement in BUNDLED:
            name, version = requirement.split("==")
            stem = f"{name.replace('-', '_')}-{version}-"
            (wheel,) = [w for w in downloads.glob("*.whl") if w.name.lower().startswith(stem)]
            shutil.copy2(wheel, engine_folder / wheel.name)
    subprocess.run(
        ["bash", str(ROOT / "benchmarks/gpu/build_wheels.sh"), str(args.out)],
        check=True,
        env={**os.environ, "PYTHON": sys.executable},
        stdout=subprocess.DEVNULL,
    )
    report(args.out)


def report(out: Path) -> None:
    """List the bundle with sizes and reasons; refuse one over the limit."""
    total = 0
    lines = []
    for wheel in sorted(out.glob("*/*.whl")):
        size = wheel.stat().st_size
        total += size
        name = wheel.name.split("-")[0].replace("_", "-").lower()
        why = next((w for r, w in BUNDLED.items() if r.split("==")[0] == name), "")
        if name == "lmdeploy":
            why = "the engine (TurboMind's binaries dropped)"
        elif wheel.parent.name == "vlmi":
            why = "vlmi's own, built here (the GPU machine has no hatchling)"
        lines.append(f"{size / 2**20:7.2f} MiB  {wheel.parent.name}/{wheel.name}  {why}")
    lines.append(f"{total / 2**20:7.2f} MiB  total ({len(lines)} wheels)")
    text = "\n".join(lines)
    (out / "MANIFEST.txt").write_text(text + "\n")
    print(text)
    if total / 2**20 > LIMIT_MIB:
        raise SystemExit(f"the bundle is {total / 2**20:.1f} MiB, over {LIMIT_MIB} MiB")


if __name__ == "__main__":
    main()
