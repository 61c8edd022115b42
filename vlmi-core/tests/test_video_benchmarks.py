"""Video-MME and MVBench in VLMEvalKit's layout: names, prompts, frames and scores, against
VLMEvalKit's own code.

data/video/expected_vlmevalkit.json was written by
scripts/video_benchmarks_from_vlmevalkit.py, which runs VLMEvalKit's dataset classes (at the
commit the file records) on the fixtures of ``vlmi_testkit.video_benchmarks``: its name table,
``build_prompt``, the frame indices its frame path samples (decord), and its ``evaluate`` of
the file ``vlmi export`` writes.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

import vlmi
from vlmi._cli import main
from vlmi._run.inputs import open_records
from vlmi._sample import TextPart, VideoPart
from vlmi._vlmevalkit.video_names import video_benchmark
from vlmi.errors import InvalidOptionError, VideoNotFoundError
from vlmi_testkit import video_benchmarks as fixtures

pytest.importorskip("av")
EXPECTED = json.loads(
    (Path(__file__).parent / "data" / "video" / "expected_vlmevalkit.json").read_text("utf-8")
)
COMMIT = "e8e78f05f3080fe28154f2130321f17951c3be94"


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp("video_benchmarks")
    return {
        "VideoMME": fixtures.write_videomme(base / "videomme"),
        "MVBench": fixtures.write_mvbench(base / "mvbench"),
    }


@pytest.mark.parametrize("name", sorted(EXPECTED["settings"]))
def test_each_vlmevalkit_name_gives_its_frame_setting(name):
    assert EXPECTED["vlmevalkit_commit"] == COMMIT
    setting, read = EXPECTED["settings"][name], video_benchmark(name)
    family = {"VideoMME": "Video-MME"}.get(setting["class"], setting["class"])
    assert read is not None and read.family == family
    assert read.nframes == (setting["nframe"] or None)
    assert read.fps == (setting["fps"] if setting["fps"] > 0 else None)
    assert read.subtitles == setting["use_subtitle"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("MVBench_1fps", "MVBench_MP4_1fps"),
        ("Video-MME-v2_64frame", "not a video benchmark"),
        ("Video-MME_8frames", "not a video benchmark"),
        ("MVBench_8frame_subs", "only Video-MME"),
        ("Video-MME_subs", "needs a frame setting"),
        ("Video-MME_0frame", "above 0"),
    ],
)
def test_a_video_name_vlmevalkit_does_not_read_is_refused(name, problem):
    with pytest.raises(InvalidOptionError, match=problem):
        video_benchmark(name)


def shown(parts):
    """Sample parts as the generator writes VLMEvalKit's messages (without their roles)."""
    return [
        ["video", "<video>"] if isinstance(p, VideoPart) else ["text", p.text]
        for p in parts
        if isinstance(p, (VideoPart, TextPart))
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED["prompts"]))
def test_prompts_and_videos_are_vlmevalkits(roots, name):
    setting = EXPECTED["settings"][name]
    _, records = open_records(roots[setting["class"]], dataset=name)
    records = list(records)
    assert all(r.error is None and r.prompt_style == f"vlmevalkit-{name}" for r in records)
    for record in records:
        parts = record.fields["sample"].parts
        theirs = [[kind, value] for kind, value, _ in EXPECTED["prompts"][name][record.id]]
        assert shown(parts) == [m for m in theirs if m != ["text", ""]]  # the empty system text
        (video,) = [p.source for p in parts if isinstance(p, VideoPart)]
        assert (video.nframes, video.fps) == (
            setting["nframe"] or None,
            None if setting["fps"] < 0 else setting["fps"],
        )
        if setting["class"] == "MVBench":
            assert video.rule == "segments"
    if setting["class"] == "MVBench":  # bounds, the frame folder's rate, the file kinds
        folder = records[4].fields["sample"].parts[1].source
        assert (folder.start, folder.end, folder.source_fps) == (2.0, 8.5, 3.0)
        assert Path(folder.source).is_dir()
        suffixes = [Path(r.fields["sample"].parts[1].source.source).suffix for r in records]
        assert {".mp4", ".webm", ".avi", ""} == set(suffixes)


def frames_shown(prediction: str) -> list[int]:
    """The painted indices of the echo model's ``<video:N:WxH:i,j,...>``."""
    word = next(w for w in prediction.split() if w.startswith("<video:"))
    return [int(i) for i in word.rstrip(">").split(":")[3].split(",")]


@pytest.mark.parametrize("name", ["MVBench_8frame", "Video-MME_8frame", "Video-MME_1fps"])
def test_the_model_gets_the_frames_vlmevalkit_samples(roots, tmp_path, name):
    # MVBench: segment centres within bounds, in an .mp4, a .webm, an .avi and a frame folder
    # (numbered from 1 by VLMEvalKit); Video-MME: VLMEvalKit's count and rate rules
    setting = EXPECTED["settings"][name]
    out = tmp_path / "out.jsonl"
    vlmi.run("echo", roots[setting["class"]], out, dataset_name=name, progress=False)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == (8 if setting["class"] == "MVBench" else 7)
    for record in records:
        if setting["class"] == "MVBench":
            expected = EXPECTED["frames"][name][record["id"]]
            if record["id"] == "4":  # the frame folder: 00001.jpg is position 0
                expected = [i - 1 for i in expected]
        else:
            clip = ["vidA", "vidA", "vidB", "vidB", "vidC", "vidC", "vidA"][int(record["id"])]
            expected = EXPECTED["frames"][name][clip]
        assert frames_shown(record["prediction"]) == expected


def test_videomme_through_vlmi_run_and_vlmi_score(roots, tmp_path, capsys):
    out, scores = tmp_path / "echo.jsonl", tmp_path / "scores.json"
    tsv = str(roots["VideoMME"])
    assert main(["run", "echo", tsv, "-o", str(out), "--dataset-name", "Video-MME_8frame"]) == 0
    args = ["score", str(out), "--dataset-file", tsv, "--dataset-name", "Video-MME_8frame"]
    assert main([*args, "-o", str(scores)]) == 0
    # the echo model answers with its prompt, whose first A-D (once VLMEvalKit's answer
    # prefixes are removed) is the "(A" of "(A, B, C, or D)": rows 0 and 4 (answer A) are right
    result = json.loads(scores.read_text())
    assert result["dataset_type"] == "video-mcq" and result["rows"] == 7
    assert result["scores"]["Overall"] == 28.5714
    assert result["scores"]["duration"] == {"long": 50.0, "medium": 0.0, "short": 33.3333}
    assert result["scores"]["by_duration"]["short"]["task_type"] == {
        "OCR Problems": 0.0,
        "Spatial Perception": 0.0,
        "Temporal Perception": 100.0,
    }
    assert "Overall" in capsys.readouterr().out


def test_scores_are_vlmevalkits_on_the_exported_file(roots, tmp_path):
    ours = {}
    for key, predictions in (
        ("VideoMME", fixtures.VIDEOMME_PREDICTIONS),
        ("MVBench", fixtures.MVBENCH_PREDICTIONS),
    ):
        jsonl = fixtures.write_predictions(tmp_path / f"{key}.jsonl", predictions)
        name = "Video-MME_8frame" if key == "VideoMME" else "MVBench_8frame"
        ours[key] = vlmi.score(jsonl, roots[key], dataset_name=name, progress=False)
    theirs = EXPECTED["scores"]["Video-MME"]
    scores = ours["VideoMME"]["scores"]
    near = 0.05  # VLMEvalKit prints fractions to 3 places
    assert scores["Overall"] == pytest.approx(100 * float(theirs["overall"]["overall"]), abs=near)
    for duration in ("short", "medium", "long"):
        mine = scores["by_duration"][duration]
        assert mine["Overall"] == pytest.approx(100 * float(theirs[duration]["overall"]), abs=near)
        for column in ("domain", "sub_category", "task_type"):
            given = {k: 100 * float(v) for k, v in theirs[duration][column].items() if v != "nan"}
            assert mine[column] == pytest.approx(given, abs=near)  # nan: no rows
    mvbench = EXPECTED["scores"]["MVBench"]
    scores = ours["MVBench"]["scores"]
    assert scores["Overall"] == round(100 * mvbench["overall"][0] / mvbench["overall"][1], 4)
    assert scores["task_type"] == {
        task: round(100 * right / total, 4)
        for task, (right, total, _) in mvbench.items()
        if task != "overall"
    }
    # VLMEvalKit counts the row without an answer as right (its NaN score reads as true)
    assert ours["MVBench"]["counted_right_without_answer"] == 1


def test_video_predictions_export_for_vlmevalkit(roots, tmp_path):
    jsonl = fixtures.write_predictions(tmp_path / "p.jsonl", fixtures.MVBENCH_PREDICTIONS)
    target = tmp_path / "echo_MVBench_8frame.tsv"
    assert (
        main(["export", str(jsonl), "--dataset-file", str(roots["MVBench"]), "-o", str(target)])
        == 0
    )
    header, *rows = target.read_text().splitlines()
    assert header.split("\t")[-1] == "prediction" and "candidates" in header and len(rows) == 8


def test_a_judge_reads_the_answers_the_rules_cannot(roots, tmp_path):
    # (the row without an answer, counted right, is not in it) MVBench's rules read no option in rows 5 ("(D) something", with three candidates) and
    # 6 (a failed sample, asked too, as VLMEvalKit asks); the echo judge replies with the
    # prompt itself
    jsonl = fixtures.write_predictions(tmp_path / "p.jsonl", fixtures.MVBENCH_PREDICTIONS)
    result = vlmi.score(
        jsonl, roots["MVBench"], dataset_name="MVBench_8frame", judge="echo", progress=False
    )
    assert result["judge"]["judged"] == 2
    # Video-MME: the unread rows (3, 4, 5) have no option lines: "Z" whatever a judge says
    jsonl = fixtures.write_predictions(tmp_path / "v.jsonl", fixtures.VIDEOMME_PREDICTIONS)
    plain = vlmi.score(jsonl, roots["VideoMME"], dataset_name="Video-MME_8frame", progress=False)
    judged = vlmi.score(
        jsonl, roots["VideoMME"], dataset_name="Video-MME", judge="echo", progress=False
    )
    assert judged["judge"]["judged"] == 0 and judged["scores"] == plain["scores"]
    with (tmp_path / "p_score_judge.tsv").open(newline="") as handle:
        audit = list(csv.DictReader(handle, delimiter="\t"))
    assert len(audit) == 7 and [r["index"] for r in audit if r["settled_by"] != "rules"] == [
        "5",
        "6",
    ]


def test_a_row_whose_files_are_missing_is_an_error_in_its_slot(roots, tmp_path):
    root = tmp_path / "videomme"
    shutil.copytree(roots["VideoMME"].parent, root)
    (root / "video" / "vidA.mp4").unlink()  # its subtitles are placed by its frames
    _, records = open_records(root / "Video-MME.tsv", dataset="Video-MME_8frame_subs")
    errors = {r.id: r.error for r in records}
    assert all(isinstance(errors[i], VideoNotFoundError) for i in ("0", "1", "6"))
    assert [i for i, e in errors.items() if e is None] == ["2", "3", "4", "5"]
    out = tmp_path / "out.jsonl"
    vlmi.run("echo", root / "Video-MME.tsv", out, dataset_name="Video-MME_8frame", progress=False)
    records = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert records["0"]["error"]["type"] == "VideoNotFoundError"
    assert records["2"]["error"] is None


def test_a_video_benchmark_refuses_another_dataset_type(roots, tmp_path):
    with pytest.raises(InvalidOptionError, match="drop --dataset-type"):
        open_records(roots["MVBench"], dataset="MVBench_8frame", dataset_type="mcq")
    jsonl = fixtures.write_predictions(tmp_path / "p.jsonl", fixtures.MVBENCH_PREDICTIONS)
    with pytest.raises(InvalidOptionError, match="drop --dataset-type"):
        vlmi.score(jsonl, roots["MVBench"], dataset_name="MVBench_8frame", dataset_type="mcq")


def test_rows_mvbench_cannot_read_are_errors_naming_the_column(roots, tmp_path):
    lines = roots["MVBench"].read_text().splitlines()
    lines[1] = lines[1].replace("\tvideo\tTrue\t1.0\t3.5\t", "\tgif\tTrue\t1.0\t3.5\t")
    lines[2] = lines[2].replace("\tTrue\t0.3\t4.8\t", "\tTrue\t\t4.8\t")
    tsv = roots["MVBench"].parent / "broken.tsv"
    tsv.write_text("\n".join(lines) + "\n")
    try:
        _, records = open_records(tsv, dataset="MVBench_8frame")
        errors = [str(r.error) for r in records]
    finally:
        tsv.unlink()
    assert "MVBench_8frame:2: column 'data_type': 'gif'" in errors[0]
    assert "MVBench_8frame:3: columns 'start'/'end'" in errors[1]
    assert errors[2:] == ["None"] * 6
