"""``vlmi score``: accuracy of a predictions file against a VLMEvalKit TSV, as VLMEvalKit scores.

The figures follow VLMEvalKit's evaluator with judge ``exact_matching``, row
for row, on the file ``vlmi export`` writes from the same predictions
(:mod:`vlmi._vlmevalkit.export`): a failed sample is the text ``Failed to obtain answer:
<error type>`` and an empty answer ``nan``, both scored as answers (so they
count as misses). Per type:

- ``mcq``: :func:`vlmi._vlmevalkit.score.rules.extract_option` must give the ``answer``
  letter. Names containing MMBench, CCBench, "circular" or MMCR switch to
  circular scoring: a question counts only if it and all its rotated copies
  (``g_index``, else ``index % 1e6``) are right. MMMU names turn open
  questions (no option A) into "A = the answer, B = Other Answers".
- ``yorn``: :mod:`vlmi._vlmevalkit.score.yorn` (MME, HallusionBench and POPE have
  ratings of their own).
- ``vqa``: the method VLMEvalKit uses for the name (:mod:`vlmi._vlmevalkit.score.vqa`).
  OCRBench names: its own rule (:mod:`vlmi._vlmevalkit.score.ocrbench`), in counts.

Video benchmarks (a Video-MME or MVBench name, :mod:`vlmi._vlmevalkit.video_names`) are
scored by their own rules (:mod:`.video`), type ``video-mcq``.

With a judge (:mod:`vlmi._judge`): MathVista (:mod:`.mathvista`) and MM-Vet
(:mod:`.mmvet`), which need one, and MCQ / Y-N rows the rules cannot read
(:mod:`.mcq_judged`, :mod:`.yorn`). Its answers are cached in
``<scores>_judge_cache.jsonl`` and every row's exchange is written to
``<scores>_judge.tsv``, beside the scores file.

All figures are percentages (VLMEvalKit's MCQ tables show fractions).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidOptionError

from ..._judge.runner import Judge, JudgeModel
from ..._judge.spec import JudgeSpec
from ..predictions import FAILED_PREFIX, matched_rows
from ..prompts import cell_text, plan_prompts, type_from_name
from ..video_names import VIDEO_MME, VideoBenchmark, video_benchmark
from .judged import Judging
from .mathvista import score_mathvista
from .mcq import score_mcq
from .mcq_judged import score_mcq_judged
from .mmvet import score_mmvet
from .tables import Cells, by_split
from .video import score_mvbench, score_videomme
from .vqa import VQA_METHODS, method_for, row_score
from .yorn import score_yorn


def score(
    predictions: str | Path,
    dataset: str | Path,
    *,
    dataset_name: str | None = None,
    dataset_type: str | None = None,
    vqa_method: str | None = None,
    judge: JudgeSpec | None = None,
    scores_file: str | Path | None = None,
    rejudge: bool = False,
    progress: bool = False,
    judge_model: JudgeModel | None = None,
) -> dict[str, Any]:
    """Score ``predictions`` against ``dataset``; returns what ``vlmi score`` prints and saves.

    ``judge``: the model that judges (see the module docstring); ``scores_file``
    (default ``PREDICTIONS_score.json``) places its cache and audit table;
    ``rejudge`` drops the cache first; ``judge_model``: the judge's model shared with
    other scorings (loaded once for all; its owner closes it).
    """
    name = dataset_name or Path(dataset).stem
    judged_only = next((b for b in JUDGE_ONLY if b in name), None)
    if judged_only and judge is None:
        raise InvalidOptionError(
            f"{judged_only} is scored by an LLM judge: pass --judge NAME (e.g. --judge "
            "openai:gpt-4o-mini, or any vlmi model; judge= in Python)"
        )
    video = video_benchmark(name)
    if video is not None and dataset_type is not None:
        raise InvalidOptionError(
            f"{name} is scored by its own rules: drop --dataset-type (dataset_type=)"
        )
    table, matched, missing = matched_rows(predictions, dataset, name)
    kind = "video-mcq" if video else plan_prompts(table, name, dataset_type).dataset_type
    rows: list[tuple[Cells, str]] = [(row.cells, text) for row, text in matched]
    failed = sum(text.startswith(FAILED_PREFIX + ":") for _, text in rows)
    result: dict[str, Any] = {"dataset": name, "dataset_type": kind}
    judging = None
    if judge is not None:
        stem = judge_files_stem(predictions, scores_file)
        cache = stem.with_name(stem.name + "_judge_cache.jsonl")
        judging = Judging(
            Judge[Any](judge, cache, rejudge=rejudge, progress=progress, model=judge_model)
        )
    try:
        result |= _scores(rows, name, kind, video, judged_only, judging, vqa_method)
    finally:
        if judging is not None:
            judging.judge.close()
    result |= {"rows": len(rows), "failed": failed, "without_prediction": missing}
    if judging is not None:
        result["judge"] = judging.record()
        judging.write_audit(stem.with_name(stem.name + "_judge.tsv"))
    return result


def _scores(
    rows: list[tuple[Cells, str]],
    name: str,
    kind: str,
    video: VideoBenchmark | None,
    judged_only: str | None,
    judging: Judging | None,
    vqa_method: str | None,
) -> dict[str, Any]:
    """The figures of the rows, by the dataset's rules (with the judge where it has one)."""
    if video is not None:
        scorer = score_videomme if video.family == VIDEO_MME else score_mvbench
        return scorer(rows, judging)
    if judging is not None and judged_only == "MathVista":
        return score_mathvista(rows, judging)
    if judging is not None and judged_only == "MMVet":
        return score_mmvet(rows, judging)
    if kind == "mcq":
        return score_mcq_judged(rows, name, judging) if judging else score_mcq(rows, name)
    if kind == "yorn":
        return score_yorn(rows, name, judging)
    return _score_vqa(rows, name, vqa_method)


#: benchmarks only a judge scores (the name holds one of these)
JUDGE_ONLY = ("MathVista", "MMVet")


def judge_files_stem(predictions: str | Path, scores_file: str | Path | None) -> Path:
    """The scores file without ``.json``: its judge cache and audit table are named after it."""
    path = (
        Path(scores_file)
        if scores_file
        else Path(predictions).with_name(Path(predictions).stem + "_score.json")
    )
    return path.with_suffix("") if path.suffix == ".json" else path


def _score_vqa(rows: list[tuple[Cells, str]], name: str, method: str | None) -> dict[str, Any]:
    from .ocrbench import is_ocrbench, score_ocrbench  # OCRBench: counts by its own rule

    if method is None and is_ocrbench(name):
        return score_ocrbench(rows)
    official = type_from_name(name) == "vqa"
    if method is not None and method not in VQA_METHODS:
        raise InvalidOptionError(f"unknown VQA method {method!r}; use one of {VQA_METHODS}")
    chosen = method or method_for(name, official)
    hits = [
        (cells, row_score(cell_text(cells.get("answer")), text, chosen, name))
        for cells, text in rows
    ]
    note = "" if official or method else " (VLMEvalKit cannot score a custom VQA file)"
    return {"method": chosen + note, "scores": by_split(hits, ("category",))}


def format_scores(result: Mapping[str, Any]) -> str:
    """The scores as indented lines for people."""
    questions = f" ({result['questions']} questions)" if "questions" in result else ""
    lines = [
        f"{result['dataset']} ({result['dataset_type']}): {result['rows']} rows scored{questions}, "
        f"{result['failed']} failed, {result['without_prediction']} without a prediction",
        f"method: {result['method']}",
    ]
    if result.get("counted_right_without_answer"):
        lines.append(
            f"{result['counted_right_without_answer']} rows without an answer counted as right "
            "(as VLMEvalKit's MVBench rating counts them)"
        )
    judge = result.get("judge")
    if judge:
        lines.append(
            f"judge: {judge['name']} ({judge['judged']} rows judged, {judge['failures']} judge "
            f"failures, {judge['cached']} answers from the cache)"
        )

    def walk(table: Mapping[str, Any], depth: int) -> None:
        for key, value in table.items():
            if isinstance(value, Mapping):
                lines.append("  " * depth + f"{key}:")
                walk(value, depth + 1)
            else:
                lines.append("  " * depth + f"{key:<28} {value:8.2f}")

    walk(result["scores"], 0)
    return "\n".join(lines)


__all__ = ["JUDGE_ONLY", "format_scores", "judge_files_stem", "score"]
