"""`pip install 'vlmi-core[serve]'`, deprecated until vlmi-core 0.4, still gives `vlmi serve`.

Wheels of vlmi-core and vlmi-serve are built from this checkout (with
hatchling, the backend pip would call); the third-party wheels they need come
from the package index; then a fresh environment installs the extra from
that folder alone, as a user's would from the index.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: the flags `vlmi serve --help` must list
SERVE_FLAGS = (
    "--host",
    "--port",
    "--served-name",
    "--max-batch-size",
    "--max-wait-ms",
    "--api-key",
    "--allow-private-urls",
    "--max-body-mb",
    "--timeout",
)


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, cwd=cwd, timeout=300
    )
    assert done.returncode == 0, (
        f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


@pytest.mark.slow
def test_the_serve_extra_installs_vlmi_serve(tmp_path):
    wheels = tmp_path / "wheels"
    for project in ("vlmi-core", "vlmi-serve"):
        run(
            sys.executable,
            "-m",
            "hatchling",
            "build",
            "-t",
            "wheel",
            "-d",
            wheels,
            cwd=ROOT / project,
        )
    built = sorted(p.name.split("-")[0] for p in wheels.glob("*.whl"))
    assert built == ["vlmi_core", "vlmi_serve"]

    fresh = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(fresh)
    python = fresh / "bin" / "python"
    pip = (python, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q")
    # the third-party wheels the extra needs (FastAPI, uvicorn, pluggy, Pillow, tqdm, ...)
    run(
        *pip,
        "download",
        "--only-binary",
        ":all:",
        "--find-links",
        wheels,
        "-d",
        wheels,
        "vlmi-core[serve]",
    )
    run(*pip, "install", "--no-compile", "--no-index", "--find-links", wheels, "vlmi-core[serve]")

    installed = run(python, "-m", "pip", "list", "--format", "freeze")
    assert "vlmi-serve==0.3" in installed and "fastapi==" in installed, installed
    helped = run(fresh / "bin" / "vlmi", "serve", "--help")
    missing = [flag for flag in SERVE_FLAGS if flag not in helped]
    assert not missing, f"`vlmi serve --help` does not list {missing}:\n{helped}"
