"""Which jobs may start now: disjoint GPU sets, one job per model or judge, at most ``jobs``.

A pair holds GPUs while it runs; pairs whose GPU sets are disjoint run at
the same time. A model with ``gpus`` holds those. A model without ``gpus``
holds none when it needs no GPU (its environment resolved it so: an API
model, a CPU model), and otherwise every GPU the driver sees
(``CUDA_VISIBLE_DEVICES``, else all): such models run one at a time, and not
beside a model whose ``gpus`` are among those. Two pairs of one model never
run at once (each would load the model), and no more than the plan's
``jobs`` jobs run in all.

Judging is a job too (:mod:`.judging`): once a pair's predictions are done,
the pair waits for its judge, whose GPUs follow the same rule (the judge's
``gpus``, else none or every GPU). Pairs start first, in plan order; then each
judge whose GPUs are free scores every pair waiting for it in one job (its
model loads once for them all), one job per judge at a time. A GPU is never
given to two jobs at once. Every start and end is a line of
``OUTPUT/schedule.jsonl`` (:class:`Events`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .judges import JudgeEntry
from .judging import judge_key
from .layout import Pair
from .plan import ModelEntry

EVENTS = "schedule.jsonl"

#: the GPUs a pair holds: a set of CUDA device numbers, or None for every GPU there is
Held = frozenset[str] | None


def gpus_held(model: ModelEntry, needs_gpu: bool, visible: str | None) -> Held:
    """The GPUs ``model``'s pairs hold; ``visible`` is the driver's ``CUDA_VISIBLE_DEVICES``."""
    return held_gpus(model.gpus, needs_gpu, visible)


def held_gpus(gpus: Sequence[str], needs_gpu: bool, visible: str | None) -> Held:
    """The GPUs a job holds: its ``gpus``; without them none, or every GPU when it needs one."""
    if gpus:
        return frozenset(gpus)
    if not needs_gpu:
        return frozenset()
    if visible is None:
        return None
    devices = [d.strip() for d in visible.split(",") if d.strip()]
    # device numbers compare with the plan's; anything else (UUIDs) may be any of them
    return frozenset(devices) if all(d.isdigit() for d in devices) else None


def _overlap(a: Held, b: Held) -> bool:
    if a is None or b is None:
        return (a is None or bool(a)) and (b is None or bool(b))
    return bool(a & b)


def startable(
    queued: Sequence[Pair],
    running: Sequence[Pair],
    jobs: int,
    needs_gpu: Mapping[str, bool] | None = None,
    visible: str | None = None,
    others: Sequence[Held] = (),
) -> list[Pair]:
    """The queued pairs to start now, in plan order.

    :param needs_gpu: by model key, whether the model needs a GPU (missing: it does).
    :param visible: the driver's ``CUDA_VISIBLE_DEVICES`` (None: unset, every GPU).
    :param others: the GPUs each other running job (judging) holds.
    """
    needs = needs_gpu or {}

    def held(pair: Pair) -> Held:
        return gpus_held(pair.model, needs.get(pair.model.key, True), visible)

    busy: list[Held] = [held(pair) for pair in running] + list(others)
    busy_models = {pair.model.key for pair in running}
    room = jobs - len(running) - len(others)
    chosen: list[Pair] = []
    for pair in queued:
        if room <= 0:
            break
        gpus = held(pair)
        if pair.model.key in busy_models or any(_overlap(gpus, other) for other in busy):
            continue
        chosen.append(pair)
        busy.append(gpus)
        busy_models.add(pair.model.key)
        room -= 1
    return chosen


def judge_batches(
    waiting: Sequence[Pair],
    busy: Sequence[Held],
    busy_judges: Sequence[str],
    room: int,
    held: Callable[[JudgeEntry], Held],
) -> list[tuple[JudgeEntry, list[Pair]]]:
    """The judge jobs to start now: each judge not already judging whose GPUs (``held``) are
    free of the ``busy`` ones, with every pair waiting for it, judges in the order their
    first pair waits; at most ``room`` jobs. ``busy_judges``: the keys of the judges judging
    now (:func:`.judging.judge_key`)."""
    by_judge: dict[str, tuple[JudgeEntry, list[Pair]]] = {}
    for pair in waiting:
        if pair.dataset.judge is not None:
            key = judge_key(pair.dataset.judge)
            by_judge.setdefault(key, (pair.dataset.judge, []))[1].append(pair)
    taken = list(busy)
    chosen: list[tuple[JudgeEntry, list[Pair]]] = []
    for key, (judge, pairs) in by_judge.items():
        if len(chosen) >= room:
            break
        gpus = held(judge)
        if key in busy_judges or any(_overlap(gpus, other) for other in taken):
            continue
        chosen.append((judge, pairs))
        taken.append(gpus)
    return chosen


class Events:
    """``OUTPUT/schedule.jsonl``: one line per job started or ended (wall time, the job's kind,
    its pairs, the GPUs it holds: a list, or ``"all"``)."""

    def __init__(self, output: Path) -> None:
        self.path = output / EVENTS

    def note(self, event: str, kind: str, pairs: Sequence[Pair], gpus: Held, **more: Any) -> None:
        """Append one event (``start`` or ``end``) of a job (``run`` or ``judge``)."""
        line = {
            "time": time.time(),
            "event": event,
            "job": kind,
            "pairs": [pair.name for pair in pairs],
            "gpus": "all" if gpus is None else sorted(gpus),
        } | more
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")


__all__ = ["EVENTS", "Events", "Held", "gpus_held", "held_gpus", "judge_batches", "startable"]
