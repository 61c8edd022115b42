"""`pip install 'vlmi-core[ray]'` (vlmi-core 0.2's way) still pulls in vlmi-ray, for one release."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def build_wheel(folder: Path, into: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(into)],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    name = folder.name.replace("-", "_")
    (wheel,) = into.glob(f"{name}-*.whl")
    return wheel


def test_the_ray_extra_of_a_built_core_wheel_installs_vlmi_ray(tmp_path):
    wheels = tmp_path / "wheels"
    core = build_wheel(ROOT / "vlmi-core", wheels)
    build_wheel(ROOT / "vlmi-ray", wheels)
    with zipfile.ZipFile(core) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        requires = archive.read(metadata).decode().splitlines()
    assert "Requires-Dist: vlmi-ray<0.4,>=0.3; extra == 'ray'" in requires
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = str(env / "bin" / "python")
    # vlmi-core's own small dependencies join the folder (from the package index)
    subprocess.run(
        [python, "-m", "pip", "download", "-q", "--dest", str(wheels), "pluggy>=1.3",
         "pillow>=10.0", "tqdm>=4.66"],
        check=True,
    )  # fmt: skip
    # offline, from the folder alone: pip takes vlmi-core and, for the extra, vlmi-ray from
    # it, and then stops at Ray itself, which is not in it (Ray's wheels are hundreds of MB;
    # vlmi-ray's own session installs them)
    done = subprocess.run(
        [python, "-m", "pip", "install", "--no-index", "--find-links",
         str(wheels), "vlmi-core[ray]"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode != 0
    assert "ray[data]" in done.stderr and "(from vlmi-ray" in done.stderr, done.stderr
