"""`vlmi compare` resolves each model in its own environment (`vlmi models --resolve`): the
plugin a plan names, case, hub ids and folders (next to the plan), install hints; the
leaderboard credits what the records say answered; models needing a GPU hold every GPU.

The environment here is the tests' own (sys.executable): vlmi-parrot, a family plugin that
needs no GPU, and vlmi-mimic, an engine plugin that does, both provide parrot-3b (vlmi-mimic
by default).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from vlmi._compare.check import check
from vlmi._compare.driver import compare
from vlmi._compare.layout import Pair
from vlmi._compare.plan import load_plan
from vlmi._compare.schedule import startable

PY = sys.executable


@pytest.fixture(autouse=True)
def _offline_hub(tmp_path, monkeypatch):
    # a hub id's config.json is not in this empty cache and may not be fetched
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def write_plan(folder: Path, models: str, dataset: str = "a.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"id": str(i), "query": f"q{i}"} for i in range(2)]
    (folder / dataset).write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "plan.toml").write_text(f'[[datasets]]\npath = "{dataset}"\n{models}')
    return folder / "plan.toml"


def entry(label: str, name: str, more: str = "") -> str:
    return f'[[models]]\nlabel = "{label}"\nname = "{name}"\npython = "{PY}"\n{more}\n'


def test_each_model_resolves_in_its_environment_as_vlmi_run_would(tmp_path, monkeypatch):
    plans = tmp_path / "plans"
    folder = plans / "ckpt" / "parrot"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"architectures": ["ParrotForCausalLM"]}))
    (plans / "bert").mkdir()
    (plans / "bert" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    models = "".join(
        [
            entry("default", "parrot-3b"),
            entry("plugin key", "Parrot-3B", 'plugin = "vlmi-parrot"'),
            entry("plugin option", "parrot-3b", 'options = { plugin = "vlmi-parrot" }'),
            entry("folder", "ckpt/parrot"),
            entry("other folder", "./bert"),
            entry("hub id", "parrot-org/Not-Here"),
            entry("missing", "InternVL2-8B"),
            entry("missing plugin", "parrot-1b", 'plugin = "vlmi-nowhere"'),
            entry("bad option", "parrot-1b", "options = { bogus = 1 }"),
        ]
    )
    plan = load_plan(write_plan(plans, models))
    monkeypatch.chdir(tmp_path)  # not the plan's folder: paths are the plan's
    checked = check(plan)
    found = {m.label: checked.models[m.key] for m in plan.models}
    resolved = {
        label: (c.spec["name"], c.spec["plugin"], c.needs_gpu)
        for label, c in found.items()
        if c.ok and c.spec
    }
    assert resolved == {
        "default": ("parrot-3b", "vlmi-mimic", True),
        "plugin key": ("parrot-3b", "vlmi-parrot", False),
        "plugin option": ("parrot-3b", "vlmi-parrot", False),
        "folder": ("parrot-checkpoint", "vlmi-parrot", False),
    }
    problem = {label: c.problem for label, c in found.items()}
    assert "config.json" in problem["other folder"] and "'bert'" in problem["other folder"]
    assert "parrot-org/Not-Here's config.json could not be fetched" in problem["hub id"]
    assert problem["missing"] == (
        f"no plugin in the environment of {PY} provides model 'InternVL2-8B'; "
        f"fix: {PY} -m pip install vlmi-internvl2"
    )
    assert problem["missing plugin"] == (
        f"the plugin 'vlmi-nowhere' is not installed in the environment of {PY}; "
        f"fix: {PY} -m pip install vlmi-nowhere"
    )
    assert "bogus" in problem["bad option"]


def test_the_leaderboard_credits_what_the_records_say_answered(tmp_path):
    plan = load_plan(write_plan(tmp_path, entry("parrot", "parrot-3b", 'plugin = "vlmi-parrot"')))
    assert compare(plan, stream=io.StringIO(), live=False) == 0
    pair = Pair(plan.models[0], plan.datasets[0], plan.output)
    assert [json.loads(line)["prediction"] for line in pair.predictions.open()] == [
        "parrot: q0",
        "parrot: q1",
    ]
    board = json.loads((plan.output / "leaderboard.json").read_text())
    row = board["models"][0]
    assert (row["plugin"], row["engine"]) == ("vlmi-parrot", "python")
    # the pair was answered by another version than the one installed today: a rerun
    # finds it finished and credits what its records say, not today's resolution
    records = [json.loads(line) for line in pair.predictions.open()]
    pair.predictions.write_text(
        "".join(json.dumps(r | {"plugin_version": "0.0.1"}) + "\n" for r in records)
    )
    assert compare(plan, stream=io.StringIO(), live=False) == 0
    row = json.loads((plan.output / "leaderboard.json").read_text())["models"][0]
    assert (row["plugin"], row["version"]) == ("vlmi-parrot", "0.0.1")
    runs = (plan.output / "leaderboard.md").read_text().split("## Runs")[1]
    assert "| vlmi-parrot 0.0.1 | python |" in runs


def test_models_without_gpus_hold_every_gpu_unless_they_need_none(tmp_path):
    models = "".join(
        [
            entry("gpu a", "parrot-3b"),  # vlmi-mimic: needs a GPU
            entry("gpu b", "parrot-3b", 'options = { plugin = "vlmi-mimic" }'),
            entry("cpu a", "parrot-1b"),  # vlmi-parrot: needs none
            entry("cpu b", "parrot-3b", 'plugin = "vlmi-parrot"'),
            entry("on 1", "parrot-3b", 'gpus = "1"'),
        ]
    )
    plan = load_plan(write_plan(tmp_path, models))
    needs = {key: c.needs_gpu for key, c in check(plan).models.items()}
    pairs = [Pair(m, plan.datasets[0], plan.output) for m in plan.models]

    def labels(queued: list[Pair], running: list[Pair], visible: str | None = None) -> list[str]:
        return [p.model.label for p in startable(queued, running, 8, needs, visible)]

    # every GPU: one such model at a time, none beside an entry with gpus; the others freely
    assert labels(pairs, []) == ["gpu a", "cpu a", "cpu b"]
    assert labels(pairs[1:], pairs[:1]) == ["cpu a", "cpu b"]
    assert labels(pairs[:2] + pairs[3:], pairs[2:3]) == ["gpu a", "cpu b"]
    assert labels(pairs[:2], pairs[4:]) == []
    # the driver sees GPU 0 only: that is all such a model holds
    assert labels(pairs, [], visible="0") == ["gpu a", "cpu a", "cpu b", "on 1"]
    assert labels(pairs, [], visible="GPU-5d1e") == ["gpu a", "cpu a", "cpu b"]


def test_folders_and_model_paths_are_the_plans_and_hashed_as_such(tmp_path, monkeypatch):
    first, second = tmp_path / "one", tmp_path / "two"
    for folder in (first, second):
        (folder / "ckpt").mkdir(parents=True)
        (folder / "weights").mkdir()
        (folder / "ckpt" / "config.json").write_text("{}")  # a checkpoint, not a model name
    text = entry("m", "ckpt", 'options = { model_path = "weights", revision = "main" }')
    monkeypatch.chdir(tmp_path)
    one = load_plan(write_plan(first, text)).models[0]
    two = load_plan(write_plan(second, text)).models[0]
    assert one.name == str((first / "ckpt").resolve())
    assert one.options == {"model_path": str((first / "weights").resolve()), "revision": "main"}
    assert one.label == "m" and one.key != two.key  # other folders, other results
    same = entry("m", "./ckpt/", 'options = { model_path = "./weights", revision = "main" }')
    assert load_plan(write_plan(first, same)).models[0].key == one.key
    hub = load_plan(write_plan(first, entry("m", "org/model"))).models[0]
    assert hub.name == "org/model"  # no such folder next to the plan: a hub id
