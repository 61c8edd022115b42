"""Small Video-MME and MVBench datasets in VLMEvalKit's layout, for the video benchmark tests.

Each writer lays out a data root as VLMEvalKit's dataset classes expect it
(``videomme.py``, ``mvbench.py``) and returns its TSV, written as pandas'
``to_csv(sep="\\t")`` writes VLMEvalKit's (list cells as Python list reprs,
``"``-quoted where needed, missing cells empty). The clips are painted with
their frame indices (:mod:`vlmi_testkit.clips`), so the frames a model gets
can be read back.

- :func:`write_videomme`: three H.264 clips under ``video/`` (``vidA`` 40 frames at
  10 fps, ``vidB`` 30 at 6, ``vidC`` 24 at 8), SubRip subtitles for two of them under
  ``subtitle/``, seven questions over the three durations.
- :func:`write_mvbench`: MVBench's kinds of task: an H.264 clip sampled within bounds
  (Charades), a VP9 ``.webm`` (ssv2), an MPEG-4 ``.avi`` (NTU RGB+D), a folder of 30
  frames at 3 fps sampled within bounds (TVQA's episodic reasoning), and a clip with two
  questions (CLEVRER); eight questions.

:data:`VIDEOMME_PREDICTIONS` and :data:`MVBENCH_PREDICTIONS` are answers that exercise
each benchmark's answer extraction (``None``: an empty answer; a dict: a failed sample),
written as a ``vlmi run`` output by :func:`write_predictions`.
``scripts/video_benchmarks_from_vlmevalkit.py`` runs VLMEvalKit's own code on these
files; the tests compare vlmi with what it wrote.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vlmi_testkit.clips import write_clip, write_frame_folder

SIZE = (96, 48)

VIDEOMME_COLUMNS = [
    "index",
    "video",
    "video_path",
    "duration",
    "domain",
    "candidates",
    "sub_category",
    "task_type",
    "subtitle_path",
    "question",
    "answer",
]
_OPTIONS = ["A. apples.", "B. candles.", "C. the dog's bowl.", "D. stars."]
#: (video, duration, domain, sub_category, task_type, question, answer)
_VIDEOMME_ROWS = (
    (
        "vidA",
        "short",
        "Knowledge",
        "Humanity & History",
        "Temporal Perception",
        "What is first?",
        "A",
    ),
    ("vidA", "short", "Knowledge", "Literature & Art", "OCR Problems", "Which word shows?", "C"),
    ("vidB", "medium", "Film & Television", "Animation", "Action Recognition", "Who runs?", "B"),
    ("vidB", "medium", "Film & Television", "Documentary", "Counting Problem", "How many?", "D"),
    ("vidC", "long", "Sports Competition", "Basketball", "Temporal Reasoning", "When?", "A"),
    ("vidC", "long", "Sports Competition", "Football", "Object Reasoning", "Why?", "D"),
    (
        "vidA",
        "short",
        "Knowledge",
        "Humanity & History",
        "Spatial Perception",
        "Which colour?\nA. red\nB. blue",
        "B",
    ),
)
_SUBTITLES = {
    "vidA": (
        "1\n00:00:00,500 --> 00:00:01,500\nHello there\n\n"
        "2\n00:00:01,500 --> 00:00:02,600\nTwo lines\nof text\n\n"
        "3\n00:00:03,000 --> 00:00:03,900\n<i>Italic</i> end\n"
    ),
    "vidB": "1\n00:00:00,000 --> 00:00:05,000\nAlways here\n",
}
VIDEOMME_PREDICTIONS: dict[str, Any] = {
    "0": "A",
    "1": "The best answer is C.",
    "2": "I believe it is Blue",
    "3": "none of them",
    "4": None,
    "5": {"type": "VideoNotFoundError", "message": "gone"},
    "6": "blue",
}

MVBENCH_COLUMNS = [
    "task_type",
    "prefix",
    "data_type",
    "bound",
    "start",
    "end",
    "video",
    "question",
    "answer",
    "candidates",
    "index",
]
_CHARADES = "video/star/Charades_v1_480/"
_CLEVRER = "video/clevrer/video_validation/"
_ACTIONS = ["walking", "sitting", "jumping"]
#: prefix, data_type, bound, start, end, video
_S1 = (_CHARADES, "video", True, 1.0, 3.5, "S1.mp4")
_E1 = (_CLEVRER, "video", False, None, None, "E1.mp4")
#: (task_type, prefix, data_type, bound, start, end, video, question, answer, candidates)
_MVBENCH_ROWS: tuple[tuple[Any, ...], ...] = (
    ("Action Sequence", *_S1, "What did he do first?", "walking", _ACTIONS),
    ("Object Interaction", *_S1[:3], 0.3, 4.8, "S1.mp4", "What did he take?", "the cup",
     ["the box", "the cup", "the towel", "the book"]),
    ("Action Antonym", "video/ssv2_video/", "video", False, None, None, "W1.webm",
     "What is shown?", "jumping", _ACTIONS),
    ("Fine-grained Pose", "video/nturgbd/", "video", False, None, None, "V1.avi",
     "Which pose?", "kneeling", ["kneeling", "standing", "squatting", "lying"]),
    ("Episodic Reasoning", "video/tvqa/frames_fps3_hq/", "frame", True, 2.0, 8.5, "F1",
     "Why does she leave?", "she is late", ["she is late", "she is tired", "it rains"]),
    ("Object Existence", *_E1, "Is there a cube?", "no", ["yes", "no", "maybe"]),
    ("Counterfactual Inference", *_E1, "What if the ball stops?", "nothing",
     ["a collision", "nothing", "a fall"]),
    ("Action Sequence", *_S1, "What came next?", "jumping", _ACTIONS),
)  # fmt: skip
MVBENCH_PREDICTIONS: dict[str, Any] = {
    "0": "(A) walking",
    "1": "B",
    "2": "The answer is (C) jumping.",
    "3": None,
    "4": "she is tired",
    "5": "(D) something",
    "6": {"type": "VideoDecodeError", "message": "broken"},
    "7": "c. jumping",
}


def _write_tsv(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> Path:
    """``DataFrame(rows).to_csv(path, sep="\\t", index=False)``, without pandas."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row[c] is None else str(row[c]) for c in columns])
    return path


def write_videomme(root: Path, name: str = "Video-MME") -> Path:
    """A Video-MME data root at ``root``; returns its ``<name>.tsv``."""
    (root / "video").mkdir(parents=True, exist_ok=True)
    for video, frames, fps in (("vidA", 40, 10), ("vidB", 30, 6), ("vidC", 24, 8)):
        write_clip(root / "video" / f"{video}.mp4", frames, fps, size=SIZE)
    (root / "subtitle").mkdir(exist_ok=True)
    for video, text in _SUBTITLES.items():
        (root / "subtitle" / f"{video}.srt").write_text(text, encoding="utf-8")
    rows = [
        {
            "index": i,
            "video": video,
            "video_path": f"./video/{video}.mp4",
            "duration": duration,
            "domain": domain,
            "candidates": _OPTIONS,
            "sub_category": sub_category,
            "task_type": task_type,
            "subtitle_path": f"./subtitle/{video}.srt",
            "question": question,
            "answer": answer,
        }
        for i, (video, duration, domain, sub_category, task_type, question, answer) in enumerate(
            _VIDEOMME_ROWS
        )
    ]
    return _write_tsv(root / f"{name}.tsv", VIDEOMME_COLUMNS, rows)


def write_mvbench(root: Path, name: str = "MVBench") -> Path:
    """An MVBench data root at ``root``; returns its ``<name>.tsv``."""
    clips = (
        (_CHARADES + "S1.mp4", 60, 12, "libx264"),
        ("video/ssv2_video/W1.webm", 36, 12, "libvpx-vp9"),
        ("video/nturgbd/V1.avi", 45, 15, "mpeg4"),
        (_CLEVRER + "E1.mp4", 48, 16, "libx264"),
    )
    for relative, frames, fps, codec in clips:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        write_clip(root / relative, frames, fps, codec=codec, size=SIZE)
    write_frame_folder(root / "video/tvqa/frames_fps3_hq/F1", 30, size=SIZE)
    rows = [dict(zip(MVBENCH_COLUMNS, (*row, i))) for i, row in enumerate(_MVBENCH_ROWS)]
    return _write_tsv(root / f"{name}.tsv", MVBENCH_COLUMNS, rows)


def write_predictions(path: Path, predictions: Mapping[str, Any]) -> Path:
    """``predictions`` (index -> answer, ``None``, or an error dict) as a ``vlmi run`` output."""
    with path.open("w", encoding="utf-8") as handle:
        for index, answer in predictions.items():
            record: dict[str, Any] = {"id": index, "prediction": answer, "error": None}
            if isinstance(answer, dict):
                record = {"id": index, "prediction": None, "error": answer}
            handle.write(json.dumps(record) + "\n")
    return path


__all__ = [
    "MVBENCH_PREDICTIONS",
    "VIDEOMME_PREDICTIONS",
    "write_mvbench",
    "write_predictions",
    "write_videomme",
]
