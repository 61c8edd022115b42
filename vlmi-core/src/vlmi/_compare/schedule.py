"""Which pairs may start now: disjoint GPU sets, one pair per model, at most ``jobs``.

A pair holds its model's GPUs while it runs; pairs whose GPU sets are
disjoint run at the same time. A model without ``gpus`` (an API model, a CPU
model) holds none. Two pairs of one model never run at once (each would load
the model), and no more than the plan's ``jobs`` pairs run in all.
"""

from __future__ import annotations

from collections.abc import Sequence

from .layout import Pair


def startable(queued: Sequence[Pair], running: Sequence[Pair], jobs: int) -> list[Pair]:
    """The queued pairs to start now, in plan order."""
    busy_gpus = {gpu for pair in running for gpu in pair.model.gpus}
    busy_models = {pair.model.key for pair in running}
    room = jobs - len(running)
    chosen: list[Pair] = []
    for pair in queued:
        if room <= 0:
            break
        gpus = set(pair.model.gpus)
        if pair.model.key in busy_models or gpus & busy_gpus:
            continue
        chosen.append(pair)
        busy_gpus |= gpus
        busy_models.add(pair.model.key)
        room -= 1
    return chosen


__all__ = ["startable"]
