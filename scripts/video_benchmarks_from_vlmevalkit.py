"""Write what VLMEvalKit makes of vlmi's Video-MME and MVBench test fixtures.

    python scripts/video_benchmarks_from_vlmevalkit.py /path/to/VLMEvalKit-checkout

Run it in a throwaway environment with pandas, numpy<2, openpyxl, decord, pysubs2,
portalocker, filelock, av, pluggy and tqdm (VLMEvalKit's own readers; vlmi and its test
kit are imported from this repository). The checkout must be at the commit below. The
script writes the fixtures of ``vlmi_testkit.video_benchmarks`` into a temporary folder
and runs VLMEvalKit's own code on them (its package ``__init__`` files are skipped, as
in ``judge_prompts_from_vlmevalkit.py``; torch and cv2 are stand-ins, never called):

- ``settings``: each Video-MME / MVBench name of ``video_dataset_config.py`` with its
  ``nframe``, ``fps`` and ``use_subtitle`` (read from the file's syntax tree);
- ``prompts``: ``build_prompt(line, video_llm=True)`` of each row, per name (the video
  part's path replaced by ``<video>``; Video-MME's subtitles read with decord and pysubs2);
- ``frames``: the frame indices VLMEvalKit's frame path samples (``save_video_frames`` of
  Video-MME per video; MVBench's ``get_index`` per row, frame folders numbered from 1);
- ``scores``: ``VideoMME.evaluate`` and ``MVBench.evaluate`` (exact matching) of the file
  ``vlmi export`` writes from the fixture predictions.

into ``vlmi-core/tests/data/video/expected_vlmevalkit.json``, with the commit. The test
``vlmi-core/tests/test_video_benchmarks.py`` compares vlmi with it. Nothing of
VLMEvalKit is copied into this repository.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
COMMIT = "e8e78f05f3080fe28154f2130321f17951c3be94"
TARGET = REPO / "vlmi-core" / "tests" / "data" / "video" / "expected_vlmevalkit.json"
sys.path[:0] = [str(REPO / "vlmi-core" / "src"), str(REPO / "testing" / "vlmi-testkit" / "src")]


def _judge_script() -> types.ModuleType:
    path = REPO / "scripts" / "judge_prompts_from_vlmevalkit.py"
    spec = importlib.util.spec_from_file_location("judge_prompts_from_vlmevalkit", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def import_video_datasets(root: Path) -> tuple[Any, Any]:
    """VLMEvalKit's VideoMME and MVBench classes, imported without its package ``__init__``."""
    judge = _judge_script()
    if judge.COMMIT != COMMIT:
        sys.exit("the two generator scripts name different VLMEvalKit commits")
    # modules the video dataset classes import but the code run here never uses
    judge._UNUSED += ("cv2", "imageio", "torchvision", "torchvision.transforms")
    found = judge.import_vlmevalkit(root)
    utils = sys.modules["vlmeval.dataset.utils"]
    utils.DEBUG_MESSAGE = ""  # type: ignore[attr-defined]
    utils.build_judge = None  # type: ignore[attr-defined]
    mc = found["multiple_choice"]
    utils.extract_answer_from_item = mc.extract_answer_from_item  # type: ignore[attr-defined]
    utils.prefetch_answer = mc.prefetch_answer  # type: ignore[attr-defined]
    videomme = importlib.import_module("vlmeval.dataset.videomme")
    mvbench = importlib.import_module("vlmeval.dataset.mvbench")
    return videomme.VideoMME, mvbench.MVBench


def settings(root: Path) -> dict[str, dict[str, Any]]:
    """``{name: {nframe, fps, use_subtitle, class}}`` of the Video-MME and MVBench entries."""
    tree = ast.parse((root / "vlmeval/dataset/video_dataset_config.py").read_text())
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for key, value in zip(node.keys, node.values):
            if not (isinstance(key, ast.Constant) and isinstance(value, ast.Call)):
                continue
            cls = value.args[0].id if value.args else None  # type: ignore[attr-defined]
            if cls not in ("VideoMME", "MVBench", "MVBench_MP4"):
                continue
            keywords = {k.arg: ast.literal_eval(k.value) for k in value.keywords}
            found[key.value] = {
                "class": cls,
                "nframe": keywords.get("nframe", 0),
                "fps": keywords.get("fps", -1),
                "use_subtitle": keywords.get("use_subtitle", False),
            }
    return found


def _message(message: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [m["type"], "<video>" if m["type"] == "video" else m["value"], m.get("role")]
        for m in message
    ]


def videomme(cls: Any, root: Path, tsv: Path, frames: Path, setting: dict[str, Any]) -> Any:
    dataset = object.__new__(cls)
    dataset.dataset_name = "Video-MME"
    dataset.data_root = str(root)
    dataset.frame_root = str(frames)
    dataset.frame_tmpl = "frame-{}-of-{}.jpg"
    dataset.frame_tmpl_fps = "frame-{}-of-{}-{}fps.jpg"
    dataset.nframe, dataset.fps = setting["nframe"], setting["fps"]
    dataset.use_subtitle = setting["use_subtitle"]
    return dataset


def mvbench(cls: Any, root: Path, frames: Path, setting: dict[str, Any], seen: list[Any]) -> Any:
    dataset = object.__new__(cls)
    dataset.data_root = str(root)
    dataset.frame_root = str(frames)
    dataset.nframe, dataset.fps = setting["nframe"], setting["fps"]
    dataset.decord_method = {"video": dataset.read_video, "frame": dataset.read_frame}
    dataset.transform = lambda images: images
    dataset.save_video_frames = lambda images, name, count: []
    dataset.load_into_video_and_process = lambda line: "<video>"
    unbound = cls.get_index

    def get_index(*args: Any, **kwargs: Any) -> Any:
        seen.append(unbound(dataset, *args, **kwargs))
        return seen[-1]

    dataset.get_index = get_index
    return dataset


def main(root: Path) -> None:
    import subprocess

    import pandas as pd

    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    if head != COMMIT:
        sys.exit(f"{root} is at {head or 'no commit'}; check out {COMMIT}")
    from vlmi._vlmevalkit.export import export_vlmevalkit
    from vlmi_testkit import video_benchmarks as fixtures

    named = settings(root)
    out: dict[str, Any] = {"vlmevalkit_commit": COMMIT, "settings": named}
    prompts: dict[str, Any] = {}
    frames: dict[str, Any] = {}
    scores: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # before decord is imported: its own FFmpeg libraries break PyAV's VP9 encoder
        mme_tsv = fixtures.write_videomme(work / "videomme")
        mv_tsv = fixtures.write_mvbench(work / "mvbench")
        (work / "frames").mkdir()
        VideoMME, MVBench = import_video_datasets(root)
        for name, setting in named.items():
            if setting["class"] == "VideoMME":
                data = pd.read_csv(mme_tsv, sep="\t")
                dataset = videomme(VideoMME, mme_tsv.parent, mme_tsv, work / "frames", setting)
                rows = [data.iloc[i] for i in range(len(data))]
                prompts[name] = {
                    str(line["index"]): _message(dataset.build_prompt(line, True)) for line in rows
                }
                frames[name] = {
                    video: [int(i) for i in dataset.save_video_frames(video)[1]]
                    for video in sorted(set(data["video"]))
                }
            elif setting["class"] == "MVBench":
                data = pd.read_csv(mv_tsv, sep="\t")
                seen: list[Any] = []
                dataset = mvbench(MVBench, mv_tsv.parent, work / "frames", setting, seen)
                prompts[name], frames[name] = {}, {}
                for i in range(len(data)):
                    line = data.iloc[i]
                    prompts[name][str(line["index"])] = _message(dataset.build_prompt(line, True))
                    dataset.save_video_into_images(line)
                    frames[name][str(line["index"])] = [int(k) for k in seen[-1]]
        for key, tsv, preds, evaluate in (
            ("Video-MME", mme_tsv, fixtures.VIDEOMME_PREDICTIONS, VideoMME.evaluate),
            ("MVBench", mv_tsv, fixtures.MVBENCH_PREDICTIONS, MVBench.evaluate),
        ):
            jsonl = fixtures.write_predictions(work / f"{key}.jsonl", preds)
            exported = work / f"vlmi_{key}.xlsx"
            export_vlmevalkit(jsonl, tsv, exported)
            rating = evaluate(str(exported), model="exact_matching")
            scores[key] = json.loads(json.dumps(rating, default=str))
    out |= {"prompts": prompts, "frames": frames, "scores": scores}
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main(Path(sys.argv[1])) if len(sys.argv) == 2 else sys.exit(__doc__)
