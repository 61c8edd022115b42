"""`vlmi compare` with ``suite``: the OpenCompass average of eight tiny files, by hand.

The echo model (max_new_tokens = 3) answers with the row's image and the first two words of
its prompt, so each file is built to give a known figure; the average must be their mean
as the OpenCompass leaderboard takes them (HallusionBench: the mean of aAcc, fAcc, qAcc;
OCRBench: Final Score / 10; MMMU: its validation split). MathVista and MM-Vet are scored only
with a judge: the parrot test model, whose replies are known, judges them.
"""

from __future__ import annotations

import io
import json
import sys

import pytest

from vlmi._compare.layout import Pair

from .test_compare import ECHO_HERE, IMAGE, compare_here, write_tsv

pytestmark = pytest.mark.slow


def mcq(answers: str, hints: str, **extra: list[str]) -> list[dict[str, str]]:
    """Rows echo answers with the first word of the hint: right where it is the answer."""
    rows = []
    for i, (answer, hint) in enumerate(zip(answers, hints)):
        row = {"index": str(i + 1), "image": IMAGE, "question": "Which shape?"}
        row |= {"hint": f"{hint} is a guess", "A": "circle", "B": "square", "C": "triangle"}
        row |= {"D": "star", "answer": answer} | {k: v[i] for k, v in extra.items()}
        rows.append(row)
    return rows


def free(questions: list[str], answers: list[str], **extra: list[str]) -> list[dict[str, str]]:
    return [
        {"index": str(i), "image": IMAGE, "question": q, "answer": a}
        | {k: v[i] for k, v in extra.items()}
        for i, (q, a) in enumerate(zip(questions, answers))
    ]


#: each file, and the figure the average takes from it
FIGURES = {
    "MMBench_DEV_EN_V11": 75.0,  # right on 3 of 4 (each question its own circular group)
    "MMStar": 50.0,
    "MMMU_DEV_VAL": 50.0,  # validation split: 1 of 2 (dev: 2 of 2, Overall 75)
    "HallusionBench": (75.0 + 50.0 + 50.0) / 3,  # aAcc, fAcc, qAcc
    "AI2D_TEST": 100.0,
    "OCRBench": 0.2,  # Final Score 2 (of 4 rows), / 10
}


def make_suite(folder) -> None:
    write_tsv(folder / "MMBench_DEV_EN_V11.tsv", mcq("AABB", "ABBB"))
    write_tsv(folder / "MMStar.tsv", mcq("ABCD", "ABAA"))
    split = ["dev", "dev", "validation", "validation"]
    write_tsv(folder / "MMMU_DEV_VAL.tsv", mcq("ABCD", "ABCA", split=split))
    write_tsv(folder / "AI2D_TEST.tsv", mcq("ABCD", "ABCD"))
    # set 0: figure 0 asks questions 0 and 1 (right, wrong), figure 1 the same (right, right)
    hallusion = free(
        ["Yes is it red?", "Yes is it blue?", "No is it red?", "No is it blue?"],
        ["Yes", "No", "No", "No"],
    )
    for row, ids in zip(hallusion, ["0_0_0", "0_0_1", "0_1_0", "0_1_1"]):
        row["index"] = f"VS_chart_0_{ids}"
    write_tsv(folder / "HallusionBench.tsv", hallusion)
    categories = [
        "Regular Text Recognition",
        "Scene Text-centric VQA",
        "Doc-oriented VQA",
        "Handwritten Mathematical Expression Recognition",
    ]
    questions = ["hello world", "hello world", "hello world sign", "x ^ { 2 }"]
    answers = ["['hello']", "['WORLD']", "['sign']", "['x ^ { 2 }']"]  # 2 hits: the first two
    write_tsv(folder / "OCRBench.tsv", free(questions, answers, category=categories))
    # MathVista: the first row's letter is read by the rules (right), the others go to the judge
    mathvista = free(
        ["A is it a circle?", "A is it a square?", "4 plus nothing?", "What is 1 + 2?"],
        ["circle", "square", "4", "3"],
        question_type=["multi_choice"] * 2 + ["free_form"] * 2,
        answer_type=["text"] * 2 + ["integer"] * 2,
        choices=["['circle', 'square']"] * 2 + [""] * 2,
        answer_option=["A", "B", "", ""],
        task=["figure question answering"] * 4,
        skills=["['arithmetic reasoning']"] * 4,
    )
    write_tsv(folder / "MathVista_MINI.tsv", mathvista)
    mmvet = free(["What is shown?", "Which colour?"], ["a square", "red"], category=["rec"] * 2)
    write_tsv(folder / "MMVet.tsv", mmvet)


NAMES = [*FIGURES, "MathVista_MINI", "MMVet"]


#: a judge that always answers "parrot: <its prompt>": MathVista's judged rows are wrong, every
#: MM-Vet grade fails to parse (0.0), as VLMEvalKit scores such replies
PARROT = 'judge = { name = "parrot-1b", plugin = "vlmi-parrot" }\n'


def plan(suite: str, judge: str = "") -> str:
    datasets = "".join(f'[[datasets]]\npath = "{name}.tsv"\n' for name in NAMES)
    return f"suite = {suite}\n{judge}{datasets}{ECHO_HERE}"


def test_the_opencompass_average_of_eight_files_and_what_is_missing(tmp_path):
    make_suite(tmp_path)
    loaded, status, _ = compare_here(tmp_path, plan('"opencompass"'))
    assert status == 4  # MathVista and MM-Vet could not be scored
    board = json.loads((loaded.output / "leaderboard.json").read_text())
    (row,) = board["models"]
    assert row["suite"]["figures"] == {k: round(v, 4) for k, v in FIGURES.items()}
    # MathVista and MM-Vet are scored only with a judge: no silent average of the other six
    assert row["suite"]["average"] is None
    missing = "missing: MathVista_MINI (needs a judge), MMVet (needs a judge)"
    text = (loaded.output / "leaderboard.md").read_text()
    assert f"| {missing} |" in text.splitlines()[4]
    assert "| model | " + " | ".join(NAMES) + " | OpenCompass avg |" in text
    assert "HallusionBench = mean of aAcc, fAcc, qAcc of HallusionBench;" in text
    assert "MMMU (val) = Overall of the validation split of MMMU_DEV_VAL;" in text
    assert "OCRBench = Final Score / 10 of OCRBench;" in text
    assert "It is not the published number" in text and "the judge is none" in text
    header = (loaded.output / "leaderboard.csv").read_text().splitlines()[0]
    assert header.endswith("OpenCompass avg,OpenCompass avg missing")

    # with a judge: every pair scored again from its predictions, and the average of eight
    loaded, status, progress = compare_here(tmp_path, plan('"opencompass"', PARROT))
    assert status == 0
    assert progress.count("scored again: the judge changed") == len(NAMES)
    (row,) = json.loads((loaded.output / "leaderboard.json").read_text())["models"]
    judged = {"MathVista_MINI": 25.0, "MMVet": 0.0}  # 1 of 4 (the rules' one); no grade
    assert row["suite"]["figures"] == {k: round(v, 4) for k, v in (FIGURES | judged).items()}
    eight = (75.0 + 50.0 + 50.0 + 25.0 + 175.0 / 3 + 100.0 + 0.2 + 0.0) / 8  # 44.8167
    assert row["suite"] == {"average": round(eight, 4), "figures": row["suite"]["figures"]} | {
        "missing": {}
    }
    text = (loaded.output / "leaderboard.md").read_text()
    assert "| 25.0 | 0.0 (2 judge failures) | 44.8 |" in text.splitlines()[4]
    assert "the judge is parrot-1b" in text

    # the six without a judge, listed: their plain mean; nothing runs again
    six = json.dumps(list(FIGURES))
    loaded, _, progress = compare_here(tmp_path, plan(six, PARROT))
    assert progress.count("done (earlier)") == len(NAMES)
    assert "scored again" not in progress
    board = json.loads((loaded.output / "leaderboard.json").read_text())
    expected = (75.0 + 50.0 + 50.0 + 175.0 / 3 + 100.0 + 0.2) / 6  # 55.5889
    assert board["models"][0]["suite"]["average"] == round(expected, 4)
    assert "| 55.6 |" in (loaded.output / "leaderboard.md").read_text()


@pytest.mark.parametrize(
    "suite, message",
    [
        ('"opencompass"', "none for: MathVista (mini), MM-Vet"),
        ('["MMStar", "Nope"]', "suite names 'Nope', which is no dataset of the plan"),
        ("3", "'suite' must be \"opencompass\" or a list of dataset names"),
    ],
)
def test_a_suite_without_its_datasets_is_refused_before_anything_runs(tmp_path, suite, message):
    from vlmi._compare.plan import PlanError, load_plan

    for name in ("MMStar", "MMBench_DEV_EN_V11", "MMMU_DEV_VAL", "HallusionBench"):
        (tmp_path / f"{name}.tsv").write_text("index\tquestion\n1\tq\n")
    for name in ("AI2D_TEST", "OCRBench"):
        (tmp_path / f"{name}.tsv").write_text("index\tquestion\n1\tq\n")
    datasets = "".join(f'[[datasets]]\npath = "{p.name}"\n' for p in sorted(tmp_path.glob("*.tsv")))
    (tmp_path / "plan.toml").write_text(f"suite = {suite}\n{datasets}{ECHO_HERE}")
    with pytest.raises(PlanError, match="plan.toml:1: ") as caught:
        load_plan(tmp_path / "plan.toml")
    assert message in str(caught.value)


def test_the_judge_is_plan_wide_a_dataset_may_replace_it_and_the_manifest_keeps_both(tmp_path):
    from vlmi._compare.plan import load_plan
    from vlmi._compare.rebuild import manifest, plan_from_manifest

    for name in ("MMStar", "MMVet"):
        (tmp_path / f"{name}.tsv").write_text("index\tquestion\n1\tq\n")
    (tmp_path / "plan.toml").write_text(
        'judge = { name = "openai:gpt-4o-mini", options = { base_url = "http://h:1/v1", '
        'api_key = "sk-x" } }\nsuite = ["MMStar", "MMVet"]\n'
        '[[datasets]]\npath = "MMStar.tsv"\n[[datasets]]\npath = "MMVet.tsv"\n'
        f'judge = {{ name = "qwen3-vl-8b", plugin = "vlmi-vllm", python = "{sys.executable}", '
        'gpus = "1" }\n' + ECHO_HERE
    )
    plan = load_plan(tmp_path / "plan.toml")
    wide, own = (d.judge for d in plan.datasets)
    assert wide == plan.judge and wide.identity() == {
        "name": "openai:gpt-4o-mini",
        "plugin": None,
        "options": {"base_url": "http://h:1/v1"},  # no secret in the identity
    }
    assert (own.name, own.plugin, own.python, own.gpus) == (
        "qwen3-vl-8b",
        "vlmi-vllm",
        sys.executable,
        ("1",),
    )
    assert own.flags() == ["--judge", "qwen3-vl-8b", "--judge-plugin", "vlmi-vllm"]
    plan.output.mkdir()
    (plan.output / "compare.json").write_text(json.dumps(manifest(plan)))
    again = plan_from_manifest(plan.output)
    assert (again.judge, again.suite, again.datasets) == (plan.judge, plan.suite, plan.datasets)


@pytest.mark.parametrize(
    "judge, message",
    [
        ('"gpt"', "'judge' must be a table"),
        ("{ model = 'x' }", "unknown judge key 'model'"),
        ("{ options = {} }", "the judge needs a 'name'"),
        ('{ name = "x", python = "nowhere/bin/python" }', "judge python"),
        ('{ name = "x", gpus = "a" }', "the judge's 'gpus' must be GPU numbers"),
    ],
)
def test_a_bad_judge_is_refused_naming_the_line(tmp_path, judge, message):
    from vlmi._compare.plan import PlanError, load_plan

    (tmp_path / "a.tsv").write_text("index\tquestion\n1\tq\n")
    (tmp_path / "plan.toml").write_text(
        f'[[datasets]]\npath = "a.tsv"\njudge = {judge}\n' + ECHO_HERE
    )
    with pytest.raises(PlanError, match=r"plan\.toml:3: \[\[datasets\]\] #1, ") as caught:
        load_plan(tmp_path / "plan.toml")
    assert message in str(caught.value)


def test_another_judge_scores_the_predictions_again_and_never_runs_the_model(tmp_path):
    write_tsv(tmp_path / "MMStar.tsv", mcq("ABCD", "ABAA"))
    write_tsv(tmp_path / "MMVet.tsv", free(["What is shown?", "Which colour?"], ["a", "red"]))
    datasets = '[[datasets]]\npath = "MMStar.tsv"\n[[datasets]]\npath = "MMVet.tsv"\nOWN'
    loaded, status, _ = compare_here(tmp_path, datasets.replace("OWN", "") + ECHO_HERE)
    assert status == 4  # MM-Vet is scored by a judge only
    mmstar, mmvet = (Pair(loaded.models[0], d, loaded.output) for d in loaded.datasets)
    assert "--judge" in mmvet.status()["score_error"]

    # a judge for the whole plan (any vlmi model: the echo model here): both scored again
    judged = 'judge = { name = "echo-test" }\n' + datasets + ECHO_HERE
    loaded, status, progress = compare_here(tmp_path, judged.replace("OWN", ""))
    assert status == 0
    assert progress.count("scored again: the judge changed") == 2
    for pair in (mmstar, mmvet):
        assert pair.log.read_text().count("== ") == 1  # the model ran once, at the start
        assert pair.status()["judge"] == {"name": "echo-test", "plugin": None, "options": {}}
    assert json.loads(mmvet.scores_file.read_text())["judge"]["name"] == "echo-test"
    assert all(path.is_file() for path in mmvet.judge_files)  # moved with the rest if stale
    board = json.loads((loaded.output / "leaderboard.json").read_text())
    assert board["models"][0]["datasets"]["MMStar"]["overall"] == 50.0

    # MM-Vet's own judge, in an environment of its own: only that pair is scored again, there
    own = f'judge = {{ name = "echo-test", python = "{sys.executable}", options = {{ latency = 0.0 }} }}\n'
    loaded, status, progress = compare_here(tmp_path, judged.replace("OWN", own))
    assert status == 0
    assert progress.count("scored again: the judge changed") == 1
    assert "echo / MMVet: done (earlier); scored again" in progress
    assert mmvet.status()["judge"]["options"] == {"latency": 0.0}
    assert mmvet.log.read_text().count("== ") == 1


def test_check_resolves_every_judge_where_it_scores(tmp_path):
    from vlmi._compare.check import check, report_check
    from vlmi._compare.plan import load_plan

    for name in ("MMStar", "MMVet"):
        write_tsv(tmp_path / f"{name}.tsv", mcq("AB", "AB"))
    (tmp_path / "plan.toml").write_text(
        'judge = { name = "echo-test" }\n[[datasets]]\npath = "MMStar.tsv"\n'
        '[[datasets]]\npath = "MMVet.tsv"\njudge = { name = "openai:gpt-4o-mini" }\n' + ECHO_HERE
    )
    plan = load_plan(tmp_path / "plan.toml")
    report = io.StringIO()
    assert report_check(plan, check(plan), report) == 1  # this environment has no vlmi-openai
    lines = report.getvalue().splitlines()
    assert f"ok      judge echo-test in {sys.executable}" in lines
    (problem,) = [line for line in lines if line.startswith("PROBLEM judge openai:gpt-4o-mini")]
    assert f"{sys.executable} -m pip install vlmi-openai" in problem
