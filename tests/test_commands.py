"""One `vlmi` command that plugins extend: the command hook, the executor flags, and the
install hints for commands and flags whose distribution is missing."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "vllm", "lmdeploy", "transformers", "fastapi", "uvicorn", "ray", "pandas")


def test_a_plugin_adds_a_command(vlmi_cli):
    shouted = vlmi_cli("echo-shout", "hello", "there")
    assert shouted.returncode == 0, shouted.stderr
    assert shouted.stdout == "HELLO THERE\n"
    listed = vlmi_cli("--help")
    assert "echo-shout" in listed.stdout and "(vlmi-echo)" in listed.stdout


def test_disabling_every_plugin_keeps_the_core_commands(vlmi_cli):
    env = {"VLMI_DISABLE_PLUGINS": "*"}
    listed = vlmi_cli("--help", env=env)
    for command in ("models", "plugins", "eval", "run", "score", "export", "compare", "download"):
        assert f"    {command}" in listed.stdout, command
    assert "echo-shout" not in listed.stdout
    assert vlmi_cli("models", env={"VLMI_LOAD_PLUGINS": ""}).returncode == 0
    assert "No models" in vlmi_cli("models", env={"VLMI_LOAD_PLUGINS": ""}).stdout


def test_a_missing_command_or_flag_names_its_distribution(vlmi_cli, tmp_path):
    served = vlmi_cli("serve", "echo")
    assert served.returncode == 1
    assert served.stderr == "error: `vlmi serve` comes with vlmi-serve: pip install vlmi-serve\n"
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "query": "q"}) + "\n")
    for flag in ("--ray", "--ray=127.0.0.1:6379", "--replicas"):
        ran = vlmi_cli("run", "echo", str(source), "-o", str(tmp_path / "o.jsonl"), flag)
        assert ran.returncode == 1
        assert ran.stderr.startswith("error: --")
        assert "comes with vlmi-ray: pip install vlmi-ray" in ran.stderr
    assert not (tmp_path / "o.jsonl").exists()
    unknown = vlmi_cli("frobnicate")
    assert unknown.returncode == 2 and "invalid choice: 'frobnicate'" in unknown.stderr


def test_help_imports_no_engine_server_or_cluster():
    script = (
        "import sys, runpy\n"
        "sys.argv = ['vlmi', 'run', '--help']\n"
        "try:\n"
        "    runpy.run_module('vlmi', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "--batch-size" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"
