"""Ray is optional: a local run never imports it; the Ray executor without Ray says what to install;
vlmi-core 0.2's ``ray=`` keywords still work, with a DeprecationWarning."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings

import pytest

import vlmi
from vlmi.errors import EngineUnavailableError, MissingDependencyError
from vlmi_ray import RayPool
from vlmi_testkit.runs import run_vlmi


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": i, "query": f"q {i}"}) + "\n" for i in range(3)))
    return path


@pytest.fixture
def without_ray(monkeypatch):
    """An interpreter where `import ray` fails, as where Ray is not installed."""
    for name in list(sys.modules):
        if name == "ray" or name.startswith("ray."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "ray", None)


def test_the_pool_without_ray_names_what_to_install(without_ray, source, tmp_path):
    with pytest.raises(MissingDependencyError, match=r"pip install vlmi-ray") as caught:
        vlmi.run("echo", source, tmp_path / "out.jsonl", executor=RayPool(), progress=False)
    assert caught.value.install == "pip install vlmi-ray"
    # the class vlmi-core 0.2 raised still catches it, for one release
    assert isinstance(caught.value, EngineUnavailableError)


def test_the_old_ray_keyword_still_works_with_a_deprecation_warning(without_ray, source, tmp_path):
    with (
        pytest.warns(DeprecationWarning, match=r"executor=vlmi_ray.RayPool"),
        pytest.raises(MissingDependencyError, match=r"pip install vlmi-ray"),
    ):
        vlmi.run("echo", source, tmp_path / "out.jsonl", ray=True, progress=False)


def test_the_cli_flag_without_ray_names_what_to_install(source, tmp_path):
    script = textwrap.dedent(
        f"""
        import runpy, sys
        sys.modules["ray"] = None  # `import ray` fails, as where Ray is not installed
        sys.argv = ["vlmi", "run", "echo", {str(source)!r}, "-o", {str(tmp_path / "o.jsonl")!r},
                    "--ray", "-q"]
        runpy.run_module("vlmi", run_name="__main__")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert "pip install vlmi-ray" in done.stderr


def test_a_local_run_does_not_import_ray(source, tmp_path):
    script = textwrap.dedent(
        f"""
        import runpy, sys
        sys.argv = ["vlmi", "run", "echo", {str(source)!r}, "-o", {str(tmp_path / "o.jsonl")!r}, "-q"]
        try:
            runpy.run_module("vlmi", run_name="__main__")
        except SystemExit as stop:
            assert stop.code == 0, stop.code
        print(sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 3


def test_cluster_settings_without_a_pool_are_refused(source, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(vlmi.errors.InvalidOptionError, match="replicas take effect on a Ray"):
            vlmi.run("echo", source, tmp_path / "out.jsonl", replicas=2, progress=False)
    refused = run_vlmi(
        "run", "echo", str(source), "-o", str(tmp_path / "o.jsonl"), "--replicas", "2"
    )
    assert refused.returncode == 1
    assert "--replicas take effect on a Ray cluster only; add --ray" in refused.stderr


def test_bad_pool_settings_are_refused_before_anything_runs():
    with pytest.raises(vlmi.errors.InvalidOptionError, match="replicas must be >= 1"):
        RayPool(replicas=0)
    with pytest.raises(vlmi.errors.InvalidOptionError, match="gpus_per_replica must be >= 0"):
        RayPool(gpus_per_replica=-1)
