"""The suite average of ``vlmi compare``: ``suite = "opencompass"``, or a list of datasets.

``"opencompass"`` is the headline of the OpenCompass multimodal leaderboard,
its "Avg Score": the mean of eight benchmarks' figures, as the leaderboard's
own code computes it (``DEFAULT_BENCH`` in ``meta_data.py`` and
``generate_table`` in ``gen_table.py`` of
https://huggingface.co/spaces/opencompass/open_vlm_leaderboard). Each
benchmark's figure is read from its score table (:data:`BENCHMARKS`):
``Overall``, but HallusionBench's mean of aAcc, fAcc and qAcc, OCRBench's
Final Score / 10 and MMMU's validation split. A benchmark with several
datasets in the plan (MMBench v1.1 in English and Chinese) counts as the mean
of them. A list of dataset names averages those datasets, each read the same
way. When any figure is missing (the pair failed, is not scored, needs a
judge), the average is not given: the cell names what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from .._vlmevalkit.score.ocrbench import is_ocrbench
from .judges import needs_judge

OPENCOMPASS = "opencompass"


@dataclass(frozen=True)
class Benchmark:
    """One of the leaderboard's eight: its label, the name fragments of its datasets, and
    which figure of their score tables it takes."""

    label: str
    fragments: tuple[str, ...]
    figure: str


BENCHMARKS = (
    Benchmark("MMBench v1.1", ("MMBench", "V11"), "Overall"),
    Benchmark("MMStar", ("MMStar",), "Overall"),
    Benchmark("MMMU (val)", ("MMMU",), "Overall of the validation split"),
    Benchmark("MathVista (mini)", ("MathVista",), "Overall"),
    Benchmark("HallusionBench", ("HallusionBench",), "mean of aAcc, fAcc, qAcc"),
    Benchmark("AI2D", ("AI2D",), "Overall"),
    Benchmark("OCRBench", ("OCRBench",), "Final Score / 10"),
    Benchmark("MM-Vet", ("MMVet",), "Overall"),
)


def benchmark_of(name: str) -> Benchmark | None:
    """The OpenCompass benchmark a dataset name belongs to (``None``: none of the eight)."""
    for benchmark in BENCHMARKS:
        if all(fragment in name for fragment in benchmark.fragments):
            if benchmark.label == "OCRBench" and not is_ocrbench(name):
                continue
            return benchmark
    return None


def groups(suite: str | Sequence[str], names: Sequence[str]) -> dict[str, list[str]]:
    """What is averaged: each group (a benchmark, or a listed dataset) and its datasets."""
    if isinstance(suite, str):
        found: dict[str, list[str]] = {b.label: [] for b in BENCHMARKS}
        for name in names:
            benchmark = benchmark_of(name)
            if benchmark is not None:
                found[benchmark.label].append(name)
        return found
    return {name: [name] for name in suite}


def parse_suite(
    value: Any, names: Sequence[str], fail: Callable[[str, str], NoReturn]
) -> str | tuple[str, ...] | None:
    """A plan's ``suite`` (``names``: its datasets); ``fail(message, key)`` reports a problem."""
    if value is None:
        return None
    if value == OPENCOMPASS:
        absent = [group for group, found in groups(OPENCOMPASS, names).items() if not found]
        if absent:
            wanted = ", ".join(f"{b.label} ({' + '.join(b.fragments)})" for b in BENCHMARKS)
            fail(
                f"suite {OPENCOMPASS!r} needs a dataset of each of its eight benchmarks (names "
                f"holding {wanted}); none for: {', '.join(absent)}. Add them, or list the "
                'datasets to average: suite = ["MMStar", ...]',
                "suite",
            )
        return OPENCOMPASS
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        fail(f"'suite' must be \"{OPENCOMPASS}\" or a list of dataset names", "suite")
    for name in value:
        if name not in names:
            fail(f"suite names {name!r}, which is no dataset of the plan", "suite")
    return tuple(dict.fromkeys(value))


def figure(name: str, scores: Mapping[str, Any]) -> float | None:
    """The figure of a dataset's score table that the average takes (``None``: not there)."""
    if "HallusionBench" in name:
        overall = scores.get("Overall")
        if isinstance(overall, Mapping) and all(k in overall for k in ("aAcc", "fAcc", "qAcc")):
            return sum(float(overall[k]) for k in ("aAcc", "fAcc", "qAcc")) / 3
        return None
    if is_ocrbench(name) and "Final Score" in scores:
        return float(scores["Final Score"]) / 10
    if "MMMU" in name:
        split = scores.get("split")
        if isinstance(split, Mapping) and isinstance(split.get("validation"), Mapping):
            scores = split["validation"]
    value = scores.get("Overall")
    return float(value) if isinstance(value, (int, float)) else None


def missing_because(name: str, cell: Mapping[str, Any], judged: bool) -> str:
    """Why the dataset's cell gives no figure (``judged``: the plan has a judge for it)."""
    if cell["state"] != "done":
        return str(cell["state"])
    if needs_judge(name) and not judged:
        return "needs a judge"
    return "not scored" if "scores" not in cell else "no figure in its scores"


def average(
    suite: str | Sequence[str],
    cells: Mapping[str, Mapping[str, Any]],
    judged: Mapping[str, bool],
) -> dict[str, Any]:
    """One model's average over ``cells`` (dataset name -> leaderboard cell); with each
    dataset's figure, and what is missing (the average is ``None`` then)."""
    figures: dict[str, float] = {}
    missing: dict[str, str] = {}
    means: list[float] = []
    for members in groups(suite, list(cells)).values():
        values = []
        for name in members:
            cell = cells[name]
            value = figure(name, cell["scores"]) if "scores" in cell else None
            if needs_judge(name) and not judged.get(name, False):
                value = None  # VLMEvalKit has no rule for it: no figure without a judge
            if value is None:
                missing[name] = missing_because(name, cell, judged.get(name, False))
            else:
                figures[name] = round(value, 4)
                values.append(value)
        if values:
            means.append(sum(values) / len(values))
    result: dict[str, Any] = {"average": None, "figures": figures, "missing": missing}
    if not missing and means:
        result["average"] = round(sum(means) / len(means), 4)
    return result


def shown(result: Mapping[str, Any]) -> str:
    """The average as the Markdown shows it, or what is missing."""
    if result["missing"]:
        return "missing: " + ", ".join(f"{n} ({why})" for n, why in result["missing"].items())
    return "-" if result["average"] is None else f"{result['average']:.1f}"


def note(suite: str | Sequence[str], members: Mapping[str, list[str]], judges: str) -> str:
    """What the average is, where each figure comes from, and why it is not the published
    number (``judges``: the judge(s) of the plan, in words)."""
    if isinstance(suite, str):
        parts = []
        for b in BENCHMARKS:
            datasets = ", ".join(members.get(b.label, [])) or "none"
            parts.append(f"{b.label} = {b.figure} of {datasets}")
        return (
            "OpenCompass avg: the mean of " + "; ".join(parts) + "; as the OpenCompass "
            "multimodal leaderboard computes its Avg Score, on the files of this plan. It is "
            "not the published number: the splits are the ones here (public DEV/val files, not "
            f"the TEST splits whose answers are private), and the judge is {judges}, where the "
            "published MathVista and MM-Vet figures come from GPT-4-class judges."
        )
    return (
        "suite avg: the mean of " + ", ".join(members) + " (each its Overall; HallusionBench "
        f"the mean of aAcc, fAcc, qAcc; OCRBench Final Score / 10); judge: {judges}."
    )


__all__ = [
    "BENCHMARKS",
    "OPENCOMPASS",
    "Benchmark",
    "average",
    "benchmark_of",
    "figure",
    "groups",
    "missing_because",
    "note",
    "parse_suite",
    "shown",
]
