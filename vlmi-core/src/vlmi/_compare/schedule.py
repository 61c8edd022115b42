"""Which pairs may start now: disjoint GPU sets, one pair per model, at most ``jobs``.

A pair holds GPUs while it runs; pairs whose GPU sets are disjoint run at
the same time. A model with ``gpus`` holds those. A model without ``gpus``
holds none when it needs no GPU (its environment resolved it so: an API
model, a CPU model), and otherwise every GPU the driver sees
(``CUDA_VISIBLE_DEVICES``, else all): such models run one at a time, and not
beside a model whose ``gpus`` are among those. Two pairs of one model never
run at once (each would load the model), and no more than the plan's
``jobs`` pairs run in all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .layout import Pair
from .plan import ModelEntry

#: the GPUs a pair holds: a set of CUDA device numbers, or None for every GPU there is
Held = frozenset[str] | None


def gpus_held(model: ModelEntry, needs_gpu: bool, visible: str | None) -> Held:
    """The GPUs ``model``'s pairs hold; ``visible`` is the driver's ``CUDA_VISIBLE_DEVICES``."""
    if model.gpus:
        return frozenset(model.gpus)
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
) -> list[Pair]:
    """The queued pairs to start now, in plan order.

    :param needs_gpu: by model key, whether the model needs a GPU (missing: it does).
    :param visible: the driver's ``CUDA_VISIBLE_DEVICES`` (None: unset, every GPU).
    """
    needs = needs_gpu or {}

    def held(pair: Pair) -> Held:
        return gpus_held(pair.model, needs.get(pair.model.key, True), visible)

    busy: list[Held] = [held(pair) for pair in running]
    busy_models = {pair.model.key for pair in running}
    room = jobs - len(running)
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


__all__ = ["Held", "gpus_held", "startable"]
