"""Fresh environments built with uv: vlmi-core alone, and core with misbehaving plugins."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, run_vlmi

pytestmark = pytest.mark.slow


def make_env(folder: Path, *packages: str) -> str:
    uv = shutil.which("uv") or pytest.fail("uv is needed to build the isolated environments")
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(folder)], check=True)
    python = str(folder / "bin" / "python")
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", python, *packages], check=True, cwd=ROOT
    )
    return python


@pytest.fixture(scope="module")
def core_only(tmp_path_factory):
    return make_env(tmp_path_factory.mktemp("core-only"), "./vlmi-core")


def test_core_installs_alone_with_only_its_small_dependencies(core_only):
    freeze = subprocess.run(
        [shutil.which("uv"), "pip", "freeze", "--python", core_only],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {line.split("==")[0].split(" @ ")[0].lower() for line in freeze.splitlines() if line}
    assert names == {"vlmi-core", "pluggy", "pillow", "tqdm"}


def test_core_alone_lists_nothing_and_says_what_to_install(core_only):
    models = run_vlmi("models", python=core_only)
    assert models.returncode == 0
    assert "pip install vlmi-transformers" in models.stdout
    plugins = run_vlmi("plugins", python=core_only)
    assert "No vlmi plugins installed" in plugins.stdout
    missing = run_vlmi("eval", "internvl2-8b", "hi", python=core_only)
    assert missing.returncode == 1
    assert "pip install vlmi-internvl2" in missing.stderr
    minicpm = run_vlmi("eval", "minicpm-v-2.6", "hi", python=core_only)
    assert "pip install vlmi-minicpmv" in minicpm.stderr


def test_serve_without_its_extra_says_what_to_install(core_only):
    served = run_vlmi("serve", "echo", python=core_only)
    assert served.returncode == 1
    assert "pip install vlmi-serve" in served.stderr
    assert "Traceback" not in served.stderr


def test_test_pictures_need_no_pytest(core_only):
    """Benchmarks make their pictures with vlmi.testing.inputs where pytest is absent."""
    script = (
        "import sys; from vlmi.testing import make_picture; "
        "print(make_picture(8, 6).size, 'pytest' in sys.modules)"
    )
    done = subprocess.run([core_only, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "(8, 6) False", done.stderr
    kit = subprocess.run(
        [core_only, "-c", "from vlmi.testing import ModelConformance"],
        capture_output=True,
        text=True,
    )
    assert kit.returncode == 1 and "No module named 'pytest'" in kit.stderr


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    return make_env(
        tmp_path_factory.mktemp("crowded"),
        "./vlmi-core[testing]",
        "./tests/plugins/vlmi-echo",
        "./tests/plugins/vlmi-dupe",
        "./templates/vlmi-plugin",
    )


def test_misbehaving_plugins_are_reported_and_the_rest_work(crowded, tmp_path):
    data = json.loads(run_vlmi("plugins", "--json", python=crowded).stdout)
    stages = {e["entry_point"]: e["stage"] for e in data["errors"]}
    assert stages == {"badreg": "register", "typo": "validate"}
    assert sorted(data["conflicts"]["echo"]) == ["vlmi-dupe", "vlmi-echo"]
    clash = run_vlmi("eval", "echo", "hi", python=crowded)
    assert clash.returncode == 1
    assert "vlmi-echo" in clash.stderr and "vlmi-dupe" in clash.stderr
    assert (
        run_vlmi("eval", "dupe-ok", "still works", python=crowded).stdout.strip() == "still works"
    )
    # the alias is vlmi-echo's alone, so it still resolves, to vlmi-echo's model
    assert run_vlmi("eval", "echo-test", "hi", python=crowded).stdout.strip() == "hi"
    models = run_vlmi("models", python=crowded)
    assert "claimed by" in models.stderr


def test_a_plugin_made_from_the_template_is_discovered_and_evaluated(crowded, tmp_path):
    from vlmi.testing.inputs import make_picture

    make_picture(80, 60).save(tmp_path / "x.png")
    out = run_vlmi(
        "eval", "myfamily-demo", "-i", str(tmp_path / "x.png"), "what is it", python=crowded
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "<image 80x60> what is it"
    suite = subprocess.run(
        [
            crowded,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "templates/vlmi-plugin/tests"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert suite.returncode == 0, suite.stdout[-3000:]
    assert " passed" in suite.stdout


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """vlmi-echo and vlmi-twin: two distributions with one entry-point name, ``echo``."""
    return make_env(
        tmp_path_factory.mktemp("twins"),
        "./vlmi-core",
        "./tests/plugins/vlmi-echo",
        "./tests/plugins/vlmi-twin",
    )


@pytest.mark.parametrize(
    ("disabled", "kept", "model"),
    [("vlmi-echo", "vlmi-twin", "twin"), ("vlmi-twin", "vlmi-echo", "echo")],
)
def test_disabling_one_of_two_same_named_entry_points_keeps_the_other(twins, disabled, kept, model):
    env = {"VLMI_DISABLE_PLUGINS": disabled}
    data = json.loads(run_vlmi("plugins", "--json", env=env, python=twins).stdout)
    status = {p["distribution"]: (p["status"], p["models"]) for p in data["plugins"]}
    assert status[disabled] == ("disabled", 0)
    assert status[kept][0] == "loaded" and status[kept][1] >= 1
    answer = run_vlmi("eval", model, "still here", env=env, python=twins)
    assert answer.stdout.strip() == "still here", answer.stderr
