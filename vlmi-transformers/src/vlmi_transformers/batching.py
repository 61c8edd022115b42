"""Split a vlmi batch into engine batches: same options, similar length, bounded size.

Samples are grouped by generation options (one ``generate`` call takes one
config), sorted by an estimated prompt length so little padding is wasted,
cut into chunks of ``batch_size``, and answered chunk by chunk; results go
back to their input positions. A chunk that runs out of memory is halved and
retried, and the chunks after it are no larger than the halves that were
tried, so one out-of-memory error is paid once, not once per chunk. A chunk
that fails otherwise is retried one sample at a time, so one bad sample never
costs the others their answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vlmi.errors import EngineOutOfMemoryError
from vlmi.plugin import GenerationOptions, Sample
from vlmi_transformers.prompts import length_key

RunChunk = Callable[[Sequence[Sample], GenerationOptions], list[str]]
IsOutOfMemory = Callable[[BaseException], bool]
#: called after each chunk with (samples answered, of which failed)
OnChunk = Callable[[int, int], None]


def plan_groups(
    samples: Sequence[Sample], generations: Sequence[GenerationOptions]
) -> list[tuple[GenerationOptions, list[int]]]:
    """Input indices grouped by generation options, each group sorted by prompt length."""
    groups: dict[GenerationOptions, list[int]] = {}
    for index, options in enumerate(generations):
        groups.setdefault(options, []).append(index)
    return [
        (options, sorted(indices, key=lambda i: length_key(samples[i])))
        for options, indices in groups.items()
    ]


def plan_chunks(
    samples: Sequence[Sample], generations: Sequence[GenerationOptions], batch_size: int
) -> list[tuple[GenerationOptions, list[int]]]:
    """Chunks of input indices: one generation config each, length-sorted, at most batch_size."""
    return [
        (options, ordered[start : start + batch_size])
        for options, ordered in plan_groups(samples, generations)
        for start in range(0, len(ordered), batch_size)
    ]


@dataclass
class _Budget:
    """The most samples the next chunk may hold; lowered by out-of-memory errors."""

    size: int


def run_batched(
    samples: Sequence[Sample],
    generations: Sequence[GenerationOptions],
    batch_size: int,
    run_chunk: RunChunk,
    is_out_of_memory: IsOutOfMemory,
    on_chunk: OnChunk | None = None,
) -> list[str | BaseException]:
    """Answer every sample through ``run_chunk``; results in input order."""
    results: list[str | BaseException | None] = [None] * len(samples)
    budget = _Budget(batch_size)
    for options, ordered in plan_groups(samples, generations):
        start = 0
        while start < len(ordered):
            indices = ordered[start : start + budget.size]
            start += len(indices)
            _run(samples, indices, options, run_chunk, is_out_of_memory, results, budget)
            if on_chunk is not None:
                on_chunk(len(indices), sum(not isinstance(results[i], str) for i in indices))
    return [r if r is not None else RuntimeError("no result") for r in results]


def _run(
    samples: Sequence[Sample],
    indices: list[int],
    options: GenerationOptions,
    run_chunk: RunChunk,
    is_out_of_memory: IsOutOfMemory,
    results: list[str | BaseException | None],
    budget: _Budget,
) -> None:
    try:
        texts = run_chunk([samples[i] for i in indices], options)
    except Exception as exc:
        if len(indices) == 1:
            if is_out_of_memory(exc):
                exc = EngineOutOfMemoryError(
                    "out of memory on this sample alone: lower max_new_tokens, use smaller "
                    "or fewer images, or load with dtype='bfloat16'"
                )
            results[indices[0]] = exc
            return
        if not is_out_of_memory(exc):
            for index in indices:
                _run(samples, [index], options, run_chunk, is_out_of_memory, results, budget)
            return
        budget.size = min(budget.size, (len(indices) + 1) // 2)
        done = 0
        while done < len(indices):  # in parts of the budget, which a part's own OOM may lower
            part = indices[done : done + budget.size]
            done += len(part)
            _run(samples, part, options, run_chunk, is_out_of_memory, results, budget)
        return
    for index, text in zip(indices, texts):
        results[index] = text


__all__ = ["plan_chunks", "plan_groups", "run_batched"]
