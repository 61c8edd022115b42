"""`vlmi compare` with real environments built by uv: a driver without model plugins, and two
model environments holding different plugins (vlmi-echo, vlmi-constant).

The datasets are built so that every model's score is known in advance (right on k of 8
rows); the leaderboard files and the picture must show those numbers.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vlmi._compare.driver import compare as run_compare
from vlmi._compare.layout import Pair
from vlmi._compare.pair_process import child_env, start
from vlmi._compare.plan import Plan, PlanError, load_plan
from vlmi._compare.rebuild import plan_from_manifest, rebuild
from vlmi._compare.schedule import startable
from vlmi._compare.view import View
from vlmi.testing.inputs import make_picture, png_bytes

from .conftest import ROOT

pytestmark = pytest.mark.slow

IMAGE = base64.b64encode(png_bytes(make_picture(16, 12))).decode()
#: multiple choice: the right letters, and the first word of each hint (what echo answers)
MCQ_ANSWERS = "AAABBCCD"
MCQ_HINTS = "AAABBAAA"  # echo right on rows 1-5: 62.5; "A" everywhere: 37.5; "B": 25.0
#: yes or no: the right answers, and the first word of each question (what echo answers)
YORN_ANSWERS = ["Yes"] * 3 + ["No"] * 5
YORN_FIRST = ["Yes"] * 3 + ["No"] * 3 + ["Yes"] * 2  # echo 75.0; "yes": 37.5; "no": 62.5


def write_tsv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    return path


def make_datasets(folder: Path) -> None:
    mcq = [
        {
            "index": str(i + 1),
            "image": IMAGE,
            "question": "Which shape is it?",
            "hint": f"{hint} is a guess",
            "A": "circle",
            "B": "square",
            "C": "triangle",
            "D": "star",
            "answer": answer,
            "category": "shape" if i < 4 else "color",
        }
        for i, (answer, hint) in enumerate(zip(MCQ_ANSWERS, MCQ_HINTS))
    ]
    write_tsv(folder / "shapes.tsv", mcq)
    yorn = [
        {
            "index": str(i + 1),
            "image": IMAGE,
            "question": f"{first} is the square red?",
            "answer": a,
        }
        for i, (a, first) in enumerate(zip(YORN_ANSWERS, YORN_FIRST))
    ]
    write_tsv(folder / "yesno.tsv", yorn)


def make_envs(folder: Path, specs: dict[str, list[str]]) -> dict[str, str]:
    """Build the environments at once with uv; name -> its python."""
    uv = shutil.which("uv") or pytest.fail("uv is needed to build the environments")
    pythons = {}
    for name in specs:
        subprocess.run(
            [uv, "venv", "-q", "--python", sys.executable, str(folder / name)], check=True
        )
        pythons[name] = str(folder / name / "bin" / "python")
    installs = {
        name: subprocess.Popen(
            [
                uv,
                "pip",
                "install",
                "-q",
                "--compile-bytecode",
                "--python",
                pythons[name],
                *packages,
            ],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, packages in specs.items()
    }
    for name, process in installs.items():
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, f"{name}: {err}"
    return pythons


@pytest.fixture(scope="module")
def envs(tmp_path_factory):
    return make_envs(
        tmp_path_factory.mktemp("envs"),
        {
            "driver": ["./vlmi-core[plot]"],
            "echo": ["./vlmi-core", "./tests/plugins/vlmi-echo"],
            "constant": ["./vlmi-core", "./tests/plugins/vlmi-constant"],
        },
    )


def plan_text(envs: dict[str, str], output: str = "results", extra: str = "") -> str:
    return f"""
output = "{output}"
jobs = 2
generation = {{ max_new_tokens = 16 }}
picture = {{ categories = "shapes" }}

[[datasets]]
path = "shapes.tsv"
[[datasets]]
path = "yesno.tsv"

[[models]]
name = "echo"
python = "{envs["echo"]}"
generation = {{ max_new_tokens = 3 }}
{extra}
[[models]]
name = "constant"
python = "{envs["constant"]}"

[[models]]
name = "constant"
label = "constant (B no)"
python = "{envs["constant"]}"
options = {{ answer = "B no" }}

[[models]]
name = "constant"
label = "constant (no plugin)"
python = "{envs["driver"]}"
"""


def compare(python: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [python, "-m", "vlmi", "compare", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def compared(envs, tmp_path_factory):
    """One full run of the plan, by the driver's environment."""
    folder = tmp_path_factory.mktemp("compare")
    make_datasets(folder)
    (folder / "plan.toml").write_text(plan_text(envs))
    done = compare(envs["driver"], "plan.toml", cwd=folder)
    return folder, done


def test_check_names_the_environment_without_the_plugin_and_the_fix(envs, compared):
    folder, _ = compared
    rows = [{"index": str(i), "image": IMAGE, "question": "q", "answer": "Yes"} for i in (1, 2, 2)]
    write_tsv(folder / "twice.tsv", rows)
    repeated = plan_text(envs) + '\n[[datasets]]\npath = "twice.tsv"\n'
    (folder / "plan_check.toml").write_text(repeated)
    checked = compare(envs["driver"], "plan_check.toml", "--check", cwd=folder)
    assert checked.returncode == 1, checked.stderr
    lines = checked.stdout.splitlines()
    assert f"ok      model 'echo': vlmi-echo in {envs['echo']}" in lines
    assert f"ok      model 'constant (B no)': vlmi-constant in {envs['constant']}" in lines
    assert (
        f"PROBLEM model 'constant (no plugin)': no plugin in the environment of {envs['driver']} "
        f"provides model 'constant'; fix: {envs['driver']} -m pip install vlmi-constant "
        f"(vlmi-constant provides it in {envs['constant']}; or set python = "
        f'"{envs["constant"]}")'
    ) in lines
    assert "ok      dataset 'shapes': 8 samples" in lines
    assert "ok      dataset 'yesno': 8 samples" in lines
    (problem,) = [line for line in lines if line.startswith("PROBLEM dataset 'twice'")]
    assert "twice.tsv: index '2' is on lines 3 and 4" in problem


def test_the_leaderboard_shows_each_models_known_scores(compared):
    folder, done = compared
    assert done.returncode == 4, done.stderr  # one model could not run
    results = folder / "results"
    markdown = (results / "leaderboard.md").read_text()
    assert "| model | shapes | yesno |" in markdown
    assert "| echo | 62.5 | 75.0 |" in markdown
    assert "| constant | 37.5 | 37.5 |" in markdown
    assert "| constant (B no) | 25.0 | 62.5 |" in markdown
    assert "| constant (no plugin) | failed | failed |" in markdown
    assert "| model | category/color | category/shape |" in markdown
    assert "| echo | 25.0 | 100.0 |" in markdown
    assert "| constant | 0.0 | 75.0 |" in markdown
    assert "| constant (B no) | 25.0 | 25.0 |" in markdown
    assert markdown.split("\n## Runs")[0] in done.stdout  # printed at the end too
    runs = markdown.split("## Runs")[1]
    assert "| echo | shapes | done | 8 | 0 |" in runs
    assert " @8 | vlmi-echo" in runs  # samples/s, at the chunk it was measured at
    assert 'vlmi-constant 0.1.0 | python | {"answer": "B no"} |' in runs
    assert "provides model 'constant'; fix:" in runs

    table = list(csv.DictReader(io.StringIO((results / "leaderboard.csv").read_text())))
    by_model = {row["model"]: row for row in table}
    assert [by_model[m]["shapes"] for m in ("echo", "constant", "constant (B no)")] == [
        "62.5",
        "37.5",
        "25.0",
    ]
    assert [by_model[m]["yesno"] for m in ("echo", "constant", "constant (B no)")] == [
        "75.0",
        "37.5",
        "62.5",
    ]
    assert by_model["echo"]["shapes category/shape"] == "100.0"
    assert by_model["constant (no plugin)"]["shapes state"] == "failed"
    assert by_model["constant"]["plugin"] == "vlmi-constant"

    board = json.loads((results / "leaderboard.json").read_text())
    echo = board["models"][0]
    assert (echo["model"], echo["plugin"], echo["engine"]) == ("echo", "vlmi-echo", "python")
    assert echo["datasets"]["shapes"]["overall"] == 62.5
    assert echo["datasets"]["yesno"]["scores"] == {"Overall": 75.0}
    assert echo["datasets"]["shapes"]["samples_per_s"] > 0
    assert echo["datasets"]["shapes"]["batch_size"] == 8  # echo's preferred chunk, all 8 rows
    assert echo["datasets"]["shapes"]["time_s"] > 0
    assert board["models"][2]["options"] == {"answer": "B no"}

    svg = (results / "leaderboard.svg").read_text()
    for number in ("62.5", "75.0", "37.5", "25.0", "100.0"):
        assert f">{number}</text>" in svg
    for label in ("constant (B no)", "shapes by category", "color", "failed"):
        assert f">{label}</text>" in svg
    assert (results / "leaderboard.png").read_bytes()[:4] == b"\x89PNG"
    keep = os.environ.get("VLMI_SAVE_LEADERBOARD")  # the picture in docs/compare.md comes from here
    if keep:
        for name in ("leaderboard.svg", "leaderboard.png"):
            shutil.copy(results / name, Path(keep) / name)
    # each pair's log is kept beside its predictions
    logs = sorted(p.relative_to(results).as_posix() for p in results.glob("*/*.log"))
    assert len(logs) == 6 and all(name.endswith(("shapes.log", "yesno.log")) for name in logs)


def test_a_second_run_redoes_nothing_and_a_folder_rebuilds_the_board(envs, compared):
    folder, _ = compared
    results = folder / "results"
    logs = {p: p.read_text() for p in results.glob("*/*.log")}
    again = compare(envs["driver"], "plan.toml", cwd=folder)
    assert again.returncode == 4
    assert {p: p.read_text() for p in results.glob("*/*.log")} == logs  # no `vlmi run` started
    assert "done (earlier)" in again.stderr
    board = (results / "leaderboard.md").read_text()
    (results / "leaderboard.md").unlink()
    rebuilt = compare(envs["driver"], str(results), cwd=folder)
    assert rebuilt.returncode == 4
    assert (results / "leaderboard.md").read_text() == board
    assert "| echo | 62.5 | 75.0 |" in rebuilt.stdout


def test_a_changed_option_is_a_new_entry(envs, compared):
    folder, _ = compared
    plan = load_plan(folder / "plan.toml")
    constant, b_no = plan.models[1], plan.models[2]
    assert constant.key != b_no.key
    changed = plan_text(envs).replace('answer = "B no"', 'answer = "C no"')
    (folder / "changed.toml").write_text(changed)
    assert load_plan(folder / "changed.toml").models[2].key != b_no.key


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a dead child nobody has reaped yet is a zombie: not alive)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def start_driver(python: str, folder: Path) -> subprocess.Popen[bytes]:
    """``vlmi compare plan.toml`` in ``folder``, in the background."""
    return subprocess.Popen(
        [python, "-m", "vlmi", "compare", "plan.toml"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ids_of(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_driver_killed_mid_run_then_rerun_answers_every_id_once(envs, tmp_path):
    make_datasets(tmp_path)
    slow = "options = { latency = 0.25 }\nbatch_size = 1\n"
    text = plan_text(envs, extra=slow).replace("jobs = 2", "jobs = 1")
    text = text.split('[[models]]\nname = "constant"\nlabel = "constant (no plugin)"')[0]
    (tmp_path / "plan.toml").write_text(text)
    plan = load_plan(tmp_path / "plan.toml")
    echo = plan.models[0]
    first, second = (Pair(echo, d, plan.output) for d in plan.datasets)
    driver = start_driver(envs["driver"], tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = second.status() or {}
        if (
            first.finished()
            and status.get("state") == "running"
            and second.predictions.exists()
            and len(second.predictions.read_text().splitlines()) >= 2
        ):
            break
        time.sleep(0.05)
    else:
        driver.kill()
        pytest.fail("the second pair never got going")
    child = (second.status() or {})["pid"]
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    for _ in range(100):  # the child dies with its driver
        if not alive(child):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"`vlmi run` (pid {child}) outlived its driver")
    half = len(ids_of(second.predictions))
    assert 2 <= half < 8
    first_log = first.log.read_text()

    again = compare(envs["driver"], "plan.toml", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert first.log.read_text() == first_log  # the finished pair was not redone
    assert second.log.read_text().count("== ") == 2  # the half-done one resumed
    for model in plan.models:
        for dataset in plan.datasets:
            ids = ids_of(Pair(model, dataset, plan.output).predictions)
            assert sorted(ids, key=int) == [str(i) for i in range(1, 9)]
    board = (plan.output / "leaderboard.md").read_text()
    assert "| echo | 62.5 | 75.0 |" in board


def test_sigterm_ends_the_runs_before_the_driver(envs, tmp_path):
    make_datasets(tmp_path)
    (tmp_path / "plan.toml").write_text(
        f'[[datasets]]\npath = "shapes.tsv"\n[[models]]\nname = "echo"\n'
        f'python = "{envs["echo"]}"\noptions = {{ latency = 2.0 }}\nbatch_size = 1\n'
    )
    plan = load_plan(tmp_path / "plan.toml")
    pair = Pair(plan.models[0], plan.datasets[0], plan.output)
    driver = start_driver(envs["driver"], tmp_path)
    deadline = time.monotonic() + 60
    while (pair.status() or {}).get("state") != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    child = (pair.status() or {})["pid"]
    driver.terminate()
    assert driver.wait(timeout=30) == 128 + signal.SIGTERM
    assert not alive(child)  # ended (and reaped) before the driver exited
    assert not pair.predictions.exists() or len(ids_of(pair.predictions)) < 8


def write_mmvet(path: Path, rows: int = 4) -> Path:
    """An MM-Vet-layout file: every row is judged (a judge-only benchmark)."""
    return write_tsv(
        path,
        [
            {"index": str(i), "image": IMAGE, "question": f"What is shown {i}?", "answer": "a"}
            | {"category": "rec"}
            for i in range(1, rows + 1)
        ],
    )


def events_of(output: Path) -> list[dict]:
    return [json.loads(line) for line in (output / "schedule.jsonl").read_text().splitlines()]


def jobs_of(events: list[dict]) -> list[dict]:
    """Each job with its start and end time (the scheduler's own records)."""
    started: dict[tuple, dict] = {}
    jobs = []
    for event in events:
        key = (event["job"], tuple(event["pairs"]))
        if event["event"] == "start":
            started[key] = event | {"start": event["time"]}
        else:
            jobs.append(
                started.pop(key) | {"end": event["time"], "exit_status": event["exit_status"]}
            )
    assert not started, f"jobs that never ended: {started}"
    return jobs


def judge_entry(python: str, gpus: str, latency: float) -> str:
    options = f"options = {{ latency = {latency} }}"
    return f'judge = {{ name = "echo", python = "{python}", gpus = "{gpus}", {options} }}\n'


def test_a_judge_waits_for_its_gpus_and_judges_beside_pairs_on_others(envs, tmp_path):
    write_mmvet(tmp_path / "MMVet.tsv")
    slow = "options = { latency = 0.25 }\nbatch_size = 1\n"
    (tmp_path / "plan.toml").write_text(
        "jobs = 4\n"
        '[[datasets]]\npath = "MMVet.tsv"\n'  # judged on GPU 1, which the slow model holds
        + judge_entry(envs["echo"], "1", 0.1)
        + '[[datasets]]\npath = "MMVet.tsv"\nname = "MMVet_again"\n'  # judged on GPU 2
        + judge_entry(envs["echo"], "2", 0.1)
        + f'[[models]]\nname = "echo"\nlabel = "fast"\npython = "{envs["echo"]}"\ngpus = "0"\n'
        + f'[[models]]\nname = "echo"\nlabel = "slow"\npython = "{envs["echo"]}"\ngpus = "1"\n'
        + slow
    )
    done = compare(envs["driver"], "plan.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    jobs = jobs_of(events_of(tmp_path / "results"))
    # no GPU is ever given to two jobs at once
    for i, one in enumerate(jobs):
        for other in jobs[i + 1 :]:
            if set(one["gpus"]) & set(other["gpus"]):
                assert one["end"] <= other["start"] or other["end"] <= one["start"], (one, other)
    runs = {job["pairs"][0]: job for job in jobs if job["job"] == "run"}
    judged = [job for job in jobs if job["job"] == "judge"]
    assert len(runs) == 4 and all(job["exit_status"] == 0 for job in jobs)
    # the GPU-1 judge: ready when the fast model's pair was done, but the slow model held GPU 1
    # (its two pairs, one after the other); it waited, then judged both pairs in one job
    (on_1,) = [job for job in judged if job["gpus"] == ["1"]]
    assert on_1["pairs"] == ["fast / MMVet", "slow / MMVet"]
    ready = runs["fast / MMVet"]["end"]
    held = [r for r in runs.values() if r["gpus"] == ["1"] and r["start"] < ready < r["end"]]
    assert held and on_1["start"] >= max(r["end"] for r in runs.values() if r["gpus"] == ["1"])
    # the GPU-2 judge started as soon as the fast model's pair was done, beside the slow model
    first_on_2 = min((job for job in judged if job["gpus"] == ["2"]), key=lambda j: j["start"])
    assert first_on_2["pairs"] == ["fast / MMVet_again"]
    assert any(
        r["gpus"] == ["1"] and r["start"] < first_on_2["start"] < r["end"] for r in runs.values()
    )
    assert first_on_2["start"] - runs["fast / MMVet_again"]["end"] < 5.0
    # every pair scored by its own judge; the models ran once each
    board = json.loads((tmp_path / "results" / "leaderboard.json").read_text())
    for row in board["models"]:
        for cell in row["datasets"].values():
            assert (cell["state"], cell.get("reason"), cell.get("overall")) == ("done", None, 0.0)
    logs = [log for log in (tmp_path / "results").glob("*/*.log") if log.parent.name != "judges"]
    assert len(logs) == 4 and all(log.read_text().count("== ") == 1 for log in logs)


def test_a_killed_driver_rerun_only_scores_what_its_judge_left(envs, tmp_path):
    make_datasets(tmp_path)
    write_mmvet(tmp_path / "MMVet.tsv")
    (tmp_path / "plan.toml").write_text(
        '[[datasets]]\npath = "shapes.tsv"\n[[datasets]]\npath = "MMVet.tsv"\n'
        + judge_entry(envs["echo"], "0", 0.3)
        + f'[[models]]\nname = "echo"\npython = "{envs["echo"]}"\n'
        + "generation = { max_new_tokens = 3 }\n"
    )
    plan = load_plan(tmp_path / "plan.toml")
    shapes, mmvet = (Pair(plan.models[0], d, plan.output) for d in plan.datasets)
    cache = mmvet.judge_files[0]
    driver = start_driver(envs["driver"], tmp_path)
    deadline = time.monotonic() + 120
    while not (cache.exists() and cache.read_text().count("\n") >= 4):  # a first round
        if time.monotonic() > deadline or driver.poll() is not None:
            driver.kill()
            pytest.fail("the judge never answered a round")
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    answered = cache.read_text().count("\n")
    assert answered < 4 * 5  # the judge was stopped with attempts to go
    # the leaderboard was written as scores arrived: the rules' score is on it already
    board = json.loads((plan.output / "leaderboard.json").read_text())
    cells = board["models"][0]["datasets"]
    assert cells["shapes"]["overall"] == 62.5
    assert cells["MMVet"]["reason"].startswith("not scored yet: its judge has not finished")
    assert mmvet.status()["scoring"] == "pending"
    before = len(events_of(plan.output))
    logs = [pair.log.read_text() for pair in (shapes, mmvet)]

    again = compare(envs["driver"], "plan.toml", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "echo / MMVet: scoring: waits for the judge echo on GPUs 0" in again.stderr
    assert [pair.log.read_text() for pair in (shapes, mmvet)] == logs  # no model ran
    rerun = jobs_of(events_of(plan.output)[before:])
    assert [(job["job"], job["pairs"]) for job in rerun] == [("judge", ["echo / MMVet"])]
    scores = json.loads(mmvet.scores_file.read_text())
    assert scores["judge"]["cached"] >= answered  # every finished answer kept
    assert "scoring" not in mmvet.status()
    assert (
        json.loads((plan.output / "leaderboard.json").read_text())["models"][0]["datasets"][
            "MMVet"
        ]["overall"]
        == 0.0
    )


# --- without environments ------------------------------------------------------------


BAD_PLANS = [
    ('outptu = "r"\n', "plan.toml:1: unknown key 'outptu'"),
    (
        '[[datasets]]\npath = "a.tsv"\n\n[[models]]\nname = "echo"\npyhton = "x"\n',
        "plan.toml:6: [[models]] #1, unknown key 'pyhton'",
    ),
    ('[[datasets]]\npath = "missing.tsv"\n', "plan.toml:2: [[datasets]] #1, dataset "),
    (
        '[[datasets]]\npath = "a.tsv"\n[[models]]\nname = "echo"\npython = "nowhere/bin/python"\n',
        "plan.toml:5: [[models]] #1, python ",
    ),
    (
        '[[datasets]]\npath = "a.tsv"\n[[models]]\nname = "echo"\n[[models]]\nname = "echo"\n',
        "plan.toml:6: [[models]] #2, 'echo' is already [[models]] #1; the same model twice with "
        "the same options: remove one, or give it a 'label'",
    ),
    (
        '[[datasets]]\npath = "a.tsv"\n[[models]]\nname = "echo"\n'
        '[[models]]\nname = "echo"\noptions = { latency = 1 }\n',
        "plan.toml:6: [[models]] #2, 'echo' is already [[models]] #1; give one of them a 'label'",
    ),
    (
        '[[datasets]]\npath = "a.tsv"\n[[models]]\nname = "echo"\ngeneration = { max_tokens = 3 }\n',
        "plan.toml:5: [[models]] #1, unknown generation option 'max_tokens'",
    ),
    ('[[datasets]]\npath = "a.tsv"\n[[models]]\nname = "echo"\ngpus = "0,x"\n', "plan.toml:5"),
    ("output = \n", "plan.toml: not valid TOML"),
    (
        '[[datasets]]\npath = "a.tsv"\nname = "MMBench_DEV_EN"\n'
        '[[datasets]]\npath = "a.tsv"\nname = "MMBench DEV EN"\n'
        '[[models]]\nname = "m"\n',
        "plan.toml:6: [[datasets]] #2, 'MMBench DEV EN' and [[datasets]] #1 'MMBench_DEV_EN' "
        "would share one file ('MMBench_DEV_EN', letter case aside); give one a different 'name'",
    ),
    (
        '[[datasets]]\npath = "a.tsv"\nname = "mme"\n[[datasets]]\npath = "a.tsv"\nname = "MME"\n'
        '[[models]]\nname = "m"\n',
        "plan.toml:6: [[datasets]] #2, 'MME' and [[datasets]] #1 'mme' would share one file",
    ),
    (
        '[[datasets]]\npath = "a.tsv"\n[[models]]\nname = "echo"\nlabel = "echo 3"\n'
        '[[models]]\nname = "echo"\nlabel = "Echo_3"\n',
        "plan.toml:8: [[models]] #2, 'Echo_3' and [[models]] #1 'echo 3' would share one file name",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_PLANS)
def test_bad_plans_are_refused_naming_the_line_and_key(tmp_path, text, message):
    (tmp_path / "a.tsv").write_text("index\tquestion\n1\tq\n")
    (tmp_path / "plan.toml").write_text(text)
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path / "plan.toml")
    assert message in str(caught.value)


def test_bad_plan_is_an_error_line_before_anything_runs(tmp_path, vlmi_cli):
    (tmp_path / "plan.toml").write_text('output = "r"\ncolour = 1\n')
    done = vlmi_cli("compare", "plan.toml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: plan.toml:2: unknown key 'colour'")
    assert not (tmp_path / "r").exists()


def test_pairs_on_disjoint_gpu_sets_run_together(tmp_path):
    (tmp_path / "a.tsv").write_text("index\tquestion\n1\tq\n")
    models = "".join(
        f'[[models]]\nname = "m"\nlabel = "{label}"\ngpus = "{gpus}"\n'
        for label, gpus in [("01", "0,1"), ("2", "2"), ("1", "1"), ("3", "3")]
    )
    (tmp_path / "plan.toml").write_text(f'[[datasets]]\npath = "a.tsv"\n{models}')
    plan = load_plan(tmp_path / "plan.toml")
    pairs = [Pair(m, plan.datasets[0], plan.output) for m in plan.models]
    assert [p.model.label for p in startable(pairs, [], jobs=4)] == ["01", "2", "3"]
    assert [p.model.label for p in startable(pairs[2:], pairs[:1], jobs=4)] == ["3"]
    assert [p.model.label for p in startable(pairs[1:], [], jobs=1)] == ["2"]
    assert child_env(pairs[0], {"PATH": "/bin"})["CUDA_VISIBLE_DEVICES"] == "0,1"


def test_a_judge_job_takes_every_pair_waiting_for_it_once_its_gpus_are_free(tmp_path):
    from vlmi._compare.judging import judge_key
    from vlmi._compare.schedule import held_gpus, judge_batches

    (tmp_path / "a.tsv").write_text("index\tquestion\n1\tq\n")
    judged = "".join(
        f'[[datasets]]\npath = "a.tsv"\nname = "{name}"\njudge = {{ name = "j", gpus = "{gpus}" }}\n'
        for name, gpus in [("on1", "1"), ("on2", "2"), ("on1b", "1")]
    )
    models = '[[models]]\nname = "m"\ngpus = "0"\n[[models]]\nname = "n"\ngpus = "1"\n'
    (tmp_path / "plan.toml").write_text(judged + models)
    plan = load_plan(tmp_path / "plan.toml")
    waiting = [Pair(m, d, plan.output) for d in plan.datasets for m in plan.models]

    def batches(busy, judging=(), room=4):
        chosen = judge_batches(
            waiting, busy, list(judging), room, lambda j: held_gpus(j.gpus, True, None)
        )
        return [(judge.gpus, [p.name for p in pairs]) for judge, pairs in chosen]

    # GPU 1 is busy: only the judge on GPU 2 starts, with both of its pairs
    assert batches([frozenset({"1"})]) == [(("2",), ["m / on2", "n / on2"])]
    # free: one job per judge, each with every pair waiting for it (two datasets share one)
    assert batches([]) == [
        (("1",), ["m / on1", "n / on1", "m / on1b", "n / on1b"]),
        (("2",), ["m / on2", "n / on2"]),
    ]
    assert batches([], room=1) == [(("1",), ["m / on1", "n / on1", "m / on1b", "n / on1b"])]
    assert batches([None]) == []  # a job holding every GPU
    assert batches([], [judge_key(plan.datasets[0].judge)]) == [(("2",), ["m / on2", "n / on2"])]


def test_a_model_without_batch_size_runs_in_its_preferred_chunk(tmp_path):
    from vlmi._compare.leaderboard import build, markdown
    from vlmi._compare.pair_process import run_command
    from vlmi._compare.scores import largest_batch

    (tmp_path / "a.tsv").write_text("index\tquestion\n1\tq\n")
    models = '[[models]]\nname = "m"\n[[models]]\nname = "m"\nlabel = "b4"\nbatch_size = 4\n'
    (tmp_path / "plan.toml").write_text(f'[[datasets]]\npath = "a.tsv"\n{models}')
    plan = load_plan(tmp_path / "plan.toml")
    own, given = (Pair(m, plan.datasets[0], plan.output) for m in plan.models)
    assert own.model.batch_size is None and "-b" not in run_command(own)
    command = run_command(given)
    assert command[command.index("-b") + 1] == "4"
    # the chunk used is read from the records, and shown with the samples/s
    own.predictions.parent.mkdir(parents=True)
    own.predictions.write_text(
        "".join(
            json.dumps({"id": str(i), "time": {"batch_s": 0.1, "batch_size": size}}) + "\n"
            for i, size in enumerate([256, 256, 100])
        )
    )
    assert largest_batch(own) == 256 and largest_batch(given) is None
    own.status_file.write_text(
        json.dumps({"state": "done", "samples": 3, "samples_per_s": 12.3, "batch_size": 256})
    )
    assert "| 12.30 @256 |" in markdown(build(plan))


def test_progress_redraws_one_line_per_pair_on_a_terminal_and_logs_changes_elsewhere(tmp_path):
    (tmp_path / "a.tsv").write_text("index\tquestion\n1\tq\n")
    (tmp_path / "plan.toml").write_text(
        '[[datasets]]\npath = "a.tsv"\n[[models]]\nname = "m"\n[[models]]\nname = "n"\n'
    )
    plan = load_plan(tmp_path / "plan.toml")
    first, second = (Pair(m, plan.datasets[0], plan.output) for m in plan.models)
    screen = io.StringIO()
    live = View([first, second], screen, live=True)
    live.set(first, "running 3/8 2.0 samples/s ETA 2s")
    live.draw()
    live.set(second, "failed: " + "x" * 500)
    live.draw()
    frames = screen.getvalue().split("\x1b[2F")
    assert len(frames) == 2  # the second frame went back up over the first
    lines = frames[1].split("\n")[:2]
    assert lines[0] == "\x1b[2Km / a  running 3/8 2.0 samples/s ETA 2s"
    assert len(lines[1]) < 200  # cut to the terminal: a wrapped line would break the redraw
    log = io.StringIO()
    plain = View([first, second], log, live=False)
    plain.set(first, "running 1/8")
    plain.set(first, "running 2/8")  # the same state: no new line
    plain.set(first, "done 8 samples")
    plain.draw()
    assert log.getvalue().splitlines() == ["m / a: running 1/8", "m / a: done 8 samples"]


# --- in this environment (the echo plugin is installed here) ---------------------------


#: echo by an alias (vlmi-dupe, installed beside it, claims the name "echo" too)
ECHO_HERE = '[[models]]\nname = "echo-test"\nlabel = "echo"\ngeneration = { max_new_tokens = 3 }\n'


def compare_here(folder: Path, plan: str) -> tuple[Plan, int, str]:
    """Run ``vlmi compare`` in this process; (plan, exit status, progress)."""
    (folder / "plan.toml").write_text(plan)
    loaded = load_plan(folder / "plan.toml")
    progress = io.StringIO()
    return loaded, run_compare(loaded, stream=progress, live=False), progress.getvalue()


def test_a_changed_dataset_type_or_content_is_run_afresh(tmp_path):
    make_datasets(tmp_path)
    plan = '[[datasets]]\npath = "shapes.tsv"\n{}\n'
    loaded, status, _ = compare_here(tmp_path, plan.format("") + ECHO_HERE)
    assert status == 0
    pair = Pair(loaded.models[0], loaded.datasets[0], loaded.output)
    first = pair.predictions.read_text()
    assert "| echo | 62.5 |" in (loaded.output / "leaderboard.md").read_text()

    loaded, status, progress = compare_here(tmp_path, plan.format('type = "vqa"') + ECHO_HERE)
    assert status == 0
    pair = Pair(loaded.models[0], loaded.datasets[0], loaded.output)
    note = "earlier results moved to "
    assert f"echo / shapes: {note}" in progress
    assert "(the dataset's type changed (from the name -> vqa))" in progress
    assert "done (earlier)" not in progress
    (moved,) = (pair.folder / pair.model.key / "replaced").iterdir()
    assert sorted(p.name for p in moved.iterdir()) == [
        "shapes.jsonl",
        "shapes.log",
        "shapes.status.json",
        "shapes_score.json",
    ]
    assert (moved / "shapes.jsonl").read_text() == first
    assert json.loads(pair.scores_file.read_text())["dataset_type"] == "vqa"
    assert pair.log.read_text().count("== ") == 1  # a fresh run, its own log
    runs = (loaded.output / "leaderboard.md").read_text().split("## Runs")[1]
    assert f"| echo | shapes | done; {note}{moved} (the dataset's type changed" in runs

    # every hint is now the right letter: echo is right on every row
    rows = (tmp_path / "shapes.tsv").read_text().splitlines()
    for i, answer in enumerate(MCQ_ANSWERS, start=1):
        cells = rows[i].split("\t")
        cells[rows[0].split("\t").index("hint")] = f"{answer} is a guess"
        rows[i] = "\t".join(cells)
    (tmp_path / "shapes.tsv").write_text("\n".join(rows) + "\n")
    loaded, status, progress = compare_here(tmp_path, plan.format("") + ECHO_HERE)
    assert status == 0
    assert "the dataset's type changed (vqa -> from the name); the dataset's content changed" in (
        progress
    )
    assert "| echo | 100.0 |" in (loaded.output / "leaderboard.md").read_text()
    assert len(list((pair.folder / pair.model.key / "replaced").iterdir())) == 2
    hashes = json.loads((loaded.output / "dataset_hashes.json").read_text())
    assert list(hashes) == [str(tmp_path / "shapes.tsv")]


def test_results_of_0_3_on_the_same_file_are_kept_and_others_run_afresh(tmp_path):
    make_datasets(tmp_path)
    plan = '[[datasets]]\npath = "shapes.tsv"\n' + ECHO_HERE
    loaded, status, _ = compare_here(tmp_path, plan)
    assert status == 0
    pair = Pair(loaded.models[0], loaded.datasets[0], loaded.output)
    dataset = tmp_path / "shapes.tsv"

    def as_0_3_wrote_it():  # 0.3 recorded the file's path, size and mtime, no identity
        old = json.loads(pair.status_file.read_text())
        del old["identity"]
        stat = dataset.stat()
        old["dataset"] = {"path": str(dataset), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        pair.status_file.write_text(json.dumps(old))

    as_0_3_wrote_it()
    loaded, status, progress = compare_here(tmp_path, plan)
    assert status == 0 and "done (earlier)" in progress and "moved to" not in progress
    assert not (pair.folder / pair.model.key / "replaced").exists()
    assert "identity" in json.loads(pair.status_file.read_text())  # recorded from now on

    as_0_3_wrote_it()
    os.utime(dataset, ns=(dataset.stat().st_atime_ns, dataset.stat().st_mtime_ns + 10**9))
    loaded, status, progress = compare_here(tmp_path, plan)
    assert status == 0 and "nothing records which dataset they answer" in progress
    assert len(list((pair.folder / pair.model.key / "replaced").iterdir())) == 1


def test_failed_samples_show_beside_the_score_and_a_failed_rescore_says_why(tmp_path):
    make_datasets(tmp_path)
    plan = (
        '[[datasets]]\npath = "shapes.tsv"\n'
        + ECHO_HERE
        + 'options = { fail_on = "B is a guess" }\n'
    )
    loaded, status, _ = compare_here(tmp_path, plan)
    assert status == 3  # samples failed
    assert "| echo | 37.5 (2 failed) |" in (loaded.output / "leaderboard.md").read_text()
    pair = Pair(loaded.models[0], loaded.datasets[0], loaded.output)
    assert pair.scores_file.is_file()
    with pair.predictions.open("a") as handle:
        handle.write("not a record\n")
    assert rebuild(plan_from_manifest(loaded.output), io.StringIO()) == 4
    assert not pair.scores_file.exists()  # no scores of other predictions shown
    board = json.loads((loaded.output / "leaderboard.json").read_text())
    cell = board["models"][0]["datasets"]["shapes"]
    assert cell["reason"] == "shapes.jsonl:9 is not JSON; is it a `vlmi run` output?"
    markdown = (loaded.output / "leaderboard.md").read_text()
    assert "| echo | not scored (2 failed) |" in markdown
    assert "| echo | shapes | done; not scored: shapes.jsonl:9 is not JSON;" in markdown


SPAWNER = """
import os, signal, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
with open(sys.argv[1] + ".part", "w") as handle:
    handle.write(str(grandchild.pid))
os.replace(sys.argv[1] + ".part", sys.argv[1])
if sys.argv[2] == "die":
    os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer does
time.sleep(60)
"""


def one_pair(folder: Path) -> Pair:
    (folder / "a.tsv").write_text("index\tquestion\n1\tq\n")
    (folder / "plan.toml").write_text('[[datasets]]\npath = "a.tsv"\n[[models]]\nname = "m"\n')
    plan = load_plan(folder / "plan.toml")
    return Pair(plan.models[0], plan.datasets[0], plan.output)


def wait_for_pid(path: Path) -> int:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, "the child never started its own child"
        time.sleep(0.02)
    return int(path.read_text())


def gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def test_what_a_killed_run_started_ends_with_its_pair(tmp_path):
    pair = one_pair(tmp_path)
    run = start(pair, None, [sys.executable, "-c", SPAWNER, str(tmp_path / "pid"), "die"])
    grandchild = wait_for_pid(tmp_path / "pid")
    try:
        deadline = time.monotonic() + 30
        while (code := run.poll()) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert code == -signal.SIGKILL
        assert gone(grandchild), "a process the killed run started outlived its pair"
    finally:
        run.stop()


def test_what_a_run_started_dies_with_a_killed_driver(tmp_path):
    pair = one_pair(tmp_path)
    driver_code = (
        "import sys, time\n"
        "from vlmi._compare.layout import Pair\n"
        "from vlmi._compare.pair_process import start\n"
        "from vlmi._compare.plan import load_plan\n"
        "plan = load_plan(sys.argv[1])\n"
        "pair = Pair(plan.models[0], plan.datasets[0], plan.output)\n"
        "start(pair, None, [sys.executable, '-c', sys.argv[2], sys.argv[3], 'live'])\n"
        "time.sleep(60)\n"
    )
    driver = subprocess.Popen(
        [
            sys.executable,
            "-c",
            driver_code,
            str(tmp_path / "plan.toml"),
            SPAWNER,
            str(tmp_path / "pid"),
        ]
    )
    try:
        grandchild = wait_for_pid(tmp_path / "pid")
    finally:
        driver.kill()
        driver.wait()
    assert gone(grandchild), "a process the run started outlived its driver"
    assert "vlmi compare runs:" in pair.log.read_text()


def test_an_output_folder_of_other_files_is_refused_untouched(tmp_path):
    from vlmi.errors import OutputFileError

    make_datasets(tmp_path)
    mine = tmp_path / "leaderboard.md"
    mine.write_text("# my own notes\n")
    plan = 'output = "."\n[[datasets]]\npath = "shapes.tsv"\n' + ECHO_HERE
    (tmp_path / "plan.toml").write_text(plan)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(OutputFileError, match="holds files but no `vlmi compare` results"):
        compare_here(tmp_path, plan)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert mine.read_text() == "# my own notes\n"
    _, status, _ = compare_here(  # an empty or new folder, or earlier results, is fine
        tmp_path, 'output = "results"\n[[datasets]]\npath = "shapes.tsv"\n' + ECHO_HERE
    )
    assert status == 0
    assert compare_here(tmp_path, (tmp_path / "plan.toml").read_text())[1] == 0


def test_a_video_benchmark_is_a_dataset_of_a_plan(tmp_path):
    # Video-MME by its VLMEvalKit name: the frame setting from the name, scored by its rules
    pytest.importorskip("av")
    from vlmi_testkit.video_benchmarks import write_videomme

    write_videomme(tmp_path)
    plan = (
        'suite = ["Video-MME_8frame"]\n[[datasets]]\npath = "Video-MME.tsv"\n'
        'name = "Video-MME_8frame"\n[[models]]\nname = "echo-test"\nlabel = "echo"\n'
    )
    loaded, status, _ = compare_here(tmp_path, plan)
    assert status == 0
    pair = Pair(loaded.models[0], loaded.datasets[0], loaded.output)
    scores = json.loads(pair.scores_file.read_text())
    assert scores["dataset_type"] == "video-mcq" and scores["scores"]["Overall"] == 28.5714
    assert "<video:8:" in pair.predictions.read_text()
    assert "| echo | 28.6 |" in (loaded.output / "leaderboard.md").read_text()
