"""Ray is optional: a local run never imports it; --ray without it says what to install."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import vlmi
from vlmi._cli import main
from vlmi.errors import EngineUnavailableError


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": i, "query": f"q {i}"}) + "\n" for i in range(3)))
    return path


@pytest.fixture
def without_ray(monkeypatch):
    """An interpreter where `import ray` fails, as where the extra is not installed."""
    for name in list(sys.modules):
        if name == "ray" or name.startswith("ray."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "ray", None)


def test_ray_without_the_extra_names_what_to_install(without_ray, source, tmp_path):
    with pytest.raises(EngineUnavailableError, match=r"pip install 'vlmi-core\[ray\]'"):
        vlmi.run("echo", source, tmp_path / "out.jsonl", ray=True, progress=False)
    assert not (tmp_path / "out.jsonl").exists()


def test_the_cli_flag_without_the_extra_names_what_to_install(
    without_ray, source, tmp_path, capsys
):
    status = main(["run", "echo", str(source), "-o", str(tmp_path / "o.jsonl"), "--ray", "-q"])
    assert status == 1
    assert "pip install 'vlmi-core[ray]'" in capsys.readouterr().err


def test_a_local_run_does_not_import_ray(source, tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        from vlmi._cli import main
        status = main(["run", "echo", {str(source)!r}, "-o", {str(tmp_path / "o.jsonl")!r}, "-q"])
        assert status == 0, status
        print(sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 3


def test_cluster_settings_without_ray_are_refused(source, tmp_path):
    with pytest.raises(vlmi.errors.InvalidOptionError, match="replicas take effect on a Ray"):
        vlmi.run("echo", source, tmp_path / "out.jsonl", replicas=2, progress=False)
