"""`vlmi score --judge openai:NAME` against a scripted judge on loopback.

The scripted judge (vlmi_testkit.judge_server) answers each prompt from the
``JUDGE=...`` marker the fixture predictions carry, so every figure below is
worked out by hand from vlmi-core/tests/data/judge/ (its README-like comments
in each test say how). Every prompt sent is checked against VLMEvalKit's own
prompts for those rows (expected_prompts.json, written by
scripts/judge_prompts_from_vlmevalkit.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import vlmi
from vlmi.errors import JudgeUnavailableError
from vlmi_testkit.judge_server import JudgeServer

DATA = Path(__file__).resolve().parents[2] / "vlmi-core" / "tests" / "data" / "judge"
EXPECTED = json.loads((DATA / "expected_prompts.json").read_text(encoding="utf-8"))["prompts"]
#: marker values the Y/N fixture uses (a literal Yes/No in a prediction would be read by the rules)
TABLE = {"deny": "No", "third": "maybe|maybe|Yes"}


@pytest.fixture
def judge():
    with JudgeServer(table=TABLE) as server:
        yield server


def files(tmp_path: Path, name: str) -> tuple[Path, Path]:
    for suffix in (".tsv", ".jsonl"):
        shutil.copy(DATA / (name + suffix), tmp_path / (name + suffix))
    return tmp_path / f"{name}.jsonl", tmp_path / f"{name}.tsv"


def score(tmp_path: Path, name: str, server: JudgeServer, **options: object) -> dict:
    preds, tsv = files(tmp_path, name)
    return vlmi.score(
        preds,
        tsv,
        judge="openai:judge-model",
        judge_options={"base_url": server.base_url, "max_retries": 0, **options},
        progress=False,
    )


def sent(server: JudgeServer, name: str) -> list[str]:
    """The prompts sent (the first, "Hello!", checks the judge answers), each VLMEvalKit's."""
    prompts = [r.prompt for r in server.requests]
    assert prompts[0] == "Hello!"
    assert set(prompts[1:]) <= set(EXPECTED[name + ".tsv"].values())
    return prompts[1:]


def test_mathvista(tmp_path, judge):
    # rows 1 and 4 are read without the judge (14; "(B) 8/11" -> B): "Prefetch succeed"
    # 2: judge says 7 (right); 3: 0.5 for 0.6 (wrong); 5: C (right); 6: the judge fails 5
    # times (HTTP 500): '' and marked; 7: "0" prefetches 0, falsy, so VLMEvalKit asks the judge,
    # whose "Hello" is no integer; 8: a list answer, never right in VLMEvalKit; 9: empty -> 'nan'
    result = score(tmp_path, "MathVista_MINI", judge)
    assert result["scores"] == {
        "Overall": 44.4444,
        "task": {
            "figure question answering": 66.6667,
            "math word problem": 100.0,
            "geometry problem solving": 0.0,
        },
        "skill": {
            "arithmetic reasoning": 80.0,
            "algebraic reasoning": 100.0,
            "geometry reasoning": 0.0,
        },
    }
    assert result["table"][0] == {
        "Task&Skill": "Overall",
        "tot": 9,
        "prefetch": 2,
        "hit": 4,
        "prefetch_rate": 22.2222,
        "acc": 44.4444,
    }
    record = result["judge"]
    assert (record["judged"], record["failures"], record["cached"]) == (7, 1, 0)
    assert record["plugin"] == "vlmi-openai" and record["engine"] == "openai-api"
    assert record["base_url_host"] == judge.base_url.split("/")[2]
    assert "api_key" not in record["options"]
    prompts = sent(judge, "MathVista_MINI")
    assert len(prompts) == 6 + 5  # six rows asked once, row 6 five times
    failing = [r for r in judge.requests if "JUDGE=!500" in r.prompt]
    assert [r.temperature for r in failing] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert {r.max_tokens for r in judge.requests[1:]} == {128}
    audit = (tmp_path / "MathVista_MINI_score_judge.tsv").read_text()
    assert audit.count("judge failed") == 1 and "Prefetch succeed" in audit


def test_mmvet(tmp_path, judge):
    # grades 1.0, 0.5, 0.7 (after "garbage" at temperature 0), 0.0 (garbage 5 times: marked),
    # 0.2 (after 1.5, out of range), 0.0 (an empty prediction; the marker is in the question)
    result = score(tmp_path, "MMVet", judge)
    assert result["scores"] == {
        "Overall": 40.0,
        "capability": {
            "rec": 50.0,
            "ocr": 60.0,
            "know": 0.0,
            "gen": 0.0,
            "spat": 20.0,
            "math": 70.0,
        },
        "capability_combination": {
            "rec": 50.0,
            "rec_ocr": 50.0,
            "ocr_math": 70.0,
            "know_gen": 0.0,
            "spat": 20.0,
        },
    }
    assert (result["judge"]["failures"], result["judge"]["judged"]) == (1, 6)
    prompts = sent(judge, "MMVet")
    assert len(prompts) == 6 + 1 + 4 + 1
    assert any(" -1 <AND> -5 " in p for p in prompts)
    assert {r.max_tokens for r in judge.requests[1:]} == {2048}


def test_circular_mmbench(tmp_path, judge):
    # question 1: A and B read by the rules, C by the judge: right; 2: the judge reads B (right)
    # then A for C: wrong; 3: the rules read D for A: wrong, no judge asked; 4: the judge's
    # "garbage" names no option in 3 attempts: wrong and marked
    result = score(tmp_path, "MMBench_DEV_EN_V11", judge)
    assert result["questions"] == 4
    assert result["scores"] == {"Overall": 25.0, "category": {"c1": 50.0, "c2": 0.0}}
    assert (result["judge"]["judged"], result["judge"]["failures"]) == (3, 1)
    prompts = sent(judge, "MMBench_DEV_EN_V11")
    # the same prompt at the same settings is answered from the cache: 4 requests, not 6
    assert len(prompts) == 4 and not any("JUDGE=B" in p and "Answer: D" in p for p in prompts)


def test_mmmu_open_question_and_yes_no(tmp_path, judge):
    # MMMU: the open question becomes A = 42 / B = Other Answers; the judge reads A: right;
    # the judge answers Z for the other: wrong
    mmmu = score(tmp_path, "MMMU_DEV_VAL", judge)
    assert mmmu["scores"] == {"Overall": 50.0}
    assert mmmu["judge"]["failures"] == 0
    sent(judge, "MMMU_DEV_VAL")
    # Y/N: row 1 by the rules; 2: No; 3: Yes at the third attempt; 4: Unknown 5 times, marked
    judge.requests.clear()
    yorn = score(tmp_path, "judge_yorn", judge)
    assert yorn["scores"]["Overall"] == 75.0
    assert (yorn["judge"]["judged"], yorn["judge"]["failures"]) == (3, 1)
    assert len(sent(judge, "judge_yorn")) == 1 + 3 + 5


def test_without_a_judge_the_rules_alone(tmp_path):
    preds, tsv = files(tmp_path, "MMBench_DEV_EN_V11")
    assert "judge" not in vlmi.score(preds, tsv, progress=False)


def test_an_unreachable_judge_fails_before_any_row(tmp_path):
    with JudgeServer() as server:
        base_url = server.base_url  # a port that no longer answers once stopped
    preds, tsv = files(tmp_path, "MMVet")
    with pytest.raises(JudgeUnavailableError, match="base_url"):
        vlmi.score(
            preds,
            tsv,
            judge="openai:j",
            judge_options={"base_url": base_url, "max_retries": 0},
            progress=False,
        )
    assert not list(tmp_path.glob("*_judge*")) and not (tmp_path / "MMVet_score.json").exists()


def test_a_judge_down_mid_run_then_the_rerun_asks_only_what_is_missing(tmp_path, judge):
    judge.fail_after = 4  # "Hello!" and 3 rows answered, then 503 for everything
    first = score(tmp_path, "MMVet", judge, concurrency=1)
    # rows 1 and 2 graded; row 3's first reply (garbage) kept, its retries fail: 4 rows marked
    assert first["judge"]["failures"] == 4
    assert first["scores"]["Overall"] == round(150 / 6, 4)
    judge.fail_after, judge.requests[:] = None, []
    again = score(tmp_path, "MMVet", judge)
    assert again["scores"]["Overall"] == 40.0 and again["judge"]["failures"] == 1
    assert again["judge"]["cached"] == 3
    asked = sent(judge, "MMVet")
    assert len(asked) == 6 + 1 + 4 + 1 - 3  # the three answers kept are not asked again


def test_kill_9_while_judging_keeps_every_finished_answer(tmp_path, judge):
    preds, tsv = files(tmp_path, "MMVet")
    script = (
        "import sys, vlmi; vlmi.score(sys.argv[1], sys.argv[2], judge='openai:j', "
        "judge_options={'base_url': sys.argv[3], 'concurrency': 1, 'timeout': 60}, progress=False)"
    )
    slow = JudgeServer(table=TABLE).start()
    original = slow.handle

    def handle(body):  # each answer takes 0.2 s, so the kill lands mid-run
        time.sleep(0.2)
        return original(body)

    slow.handle = handle  # type: ignore[method-assign]
    try:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        process = subprocess.Popen(
            [sys.executable, "-c", script, str(preds), str(tsv), slow.base_url], env=env
        )
        cache = tmp_path / "MMVet_score_judge_cache.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not cache.exists() or len(cache.read_text().splitlines()) < 3
        ):
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        kept = cache.read_text().splitlines()
        answered = len(slow.requests) - 1  # less "Hello!"
        assert len(kept) >= 3 and answered - 1 <= len(kept) <= answered
        slow.handle = original  # type: ignore[method-assign]
        again = vlmi.score(
            preds, tsv, judge="openai:j", judge_options={"base_url": slow.base_url}, progress=False
        )
    finally:
        slow.stop()
    assert again["judge"]["cached"] == len(kept)
    assert again["scores"]["Overall"] == 40.0


def test_the_command_line(tmp_path, judge):
    preds, tsv = files(tmp_path, "judge_yorn")
    args = ["score", str(preds), "--dataset-file", str(tsv), "--judge", "openai:judge-model"]
    args += ["-J", f"base_url={judge.base_url}", "-J", "max_retries=0", "-J", "concurrency=2"]
    done = subprocess.run([sys.executable, "-m", "vlmi", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Overall" in done.stdout and "75.00" in done.stdout
    assert "judge: openai:judge-model (3 rows judged, 1 judge failures, 0 answers" in done.stdout
    saved = json.loads((tmp_path / "judge_yorn_score.json").read_text())
    assert saved["judge"]["options"]["concurrency"] == "2"
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "vlmi",
            "score",
            str(preds),
            "--dataset-file",
            str(tsv),
            "--rejudge",
        ],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "need --judge" in refused.stderr


def test_a_list_of_files_is_scored_with_the_judge_loaded_once(tmp_path, judge):
    yorn, yorn_tsv = files(tmp_path, "judge_yorn")
    mmvet, mmvet_tsv = files(tmp_path, "MMVet")
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("not a record\n")
    entries = [
        {"predictions": str(yorn), "dataset_file": str(yorn_tsv)},
        {"predictions": str(damaged), "dataset_file": str(yorn_tsv), "dataset_name": "x"},
        {
            "predictions": str(mmvet),
            "dataset_file": str(mmvet_tsv),
            "output": str(tmp_path / "m.json"),
        },
    ]
    listing = tmp_path / "list.jsonl"
    listing.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    args = ["score", "--list", str(listing), "--judge", "openai:judge-model"]
    args += ["-J", f"base_url={judge.base_url}", "-J", "max_retries=0"]
    done = subprocess.run([sys.executable, "-m", "vlmi", *args], capture_output=True, text=True)
    assert done.returncode == 1  # one entry could not be scored; the others are
    assert f"{damaged}: not scored: damaged.jsonl:1 is not JSON" in done.stderr
    assert json.loads((tmp_path / "judge_yorn_score.json").read_text())["scores"]["Overall"] == 75.0
    assert json.loads((tmp_path / "m.json").read_text())["judge"]["judged"] == 6
    assert not (tmp_path / "damaged_score.json").exists()
    assert [r.prompt for r in judge.requests].count("Hello!") == 1  # the judge loaded once
