"""One engine call per chunk, with the plumbing every engine needs written once.

:func:`run_chunked` cuts a plugin's prepared requests into chunks of at most
``batch_size`` (optionally grouped, e.g. by generation options for engines
that take one config per call, and sorted, e.g. by prompt length), hands each
chunk to the plugin's ``run_chunk`` (one engine call), and puts every result
back at its input position. On failure:

- a chunk that fails for another reason is split in halves and each half
  retried (recursively), so one bad request never costs the others their
  answers, and one bad request among n costs about 2 log2(n) more calls, not n;
- a chunk that runs out of memory is halved and retried, and later chunks
  are no larger than what fitted, so the error is paid once, not per chunk;
- a single request that runs out of memory becomes an
  :class:`~vlmi.errors.EngineOutOfMemoryError` in its slot;
- a chunk that fails for the moment (``map_error`` gives a
  :class:`~vlmi.errors.TransientError`: a timeout, a lost connection) is not
  retried request by request: each of its slots gets that error; when the
  engine is gone (:class:`~vlmi.errors.EngineGoneError`) the later chunks get
  it too, without another engine call.

With more than one chunk a progress display counts them, unless one is
already on screen (``vlmi run``'s).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from vlmi.errors import (
    EngineGoneError,
    EngineOutOfMemoryError,
    GenerationError,
    TransientError,
    VlmiError,
)

from ._accelerator import is_out_of_memory as _default_is_out_of_memory
from ._progress import Progress

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

#: what a chunk's engine call gives back per request: an answer or that request's error
Outcome = Any

DEFAULT_OOM_HINT = "lower max_new_tokens or batch_size, use smaller or fewer images"


@dataclass
class _State(Generic[T]):
    items: Sequence[T]
    run_chunk: Callable[[list[T]], Sequence[Any]]
    is_out_of_memory: Callable[[BaseException], bool]
    oom_hint: str
    budget: int
    results: list[Any]
    map_error: Callable[[BaseException], VlmiError | None] | None = None
    gone: BaseException | None = None


def run_chunked(
    items: Sequence[T],
    run_chunk: Callable[[list[T]], Sequence[R | BaseException]],
    *,
    batch_size: int,
    group_by: Callable[[T], Hashable] | None = None,
    sort_by: Callable[[T], Any] | None = None,
    is_out_of_memory: Callable[[BaseException], bool] = _default_is_out_of_memory,
    oom_hint: str = DEFAULT_OOM_HINT,
    label: str = "vlmi",
    map_error: Callable[[BaseException], VlmiError | None] | None = None,
) -> list[R | BaseException]:
    """Answer every item through ``run_chunk``; results (or exceptions) in input order.

    :param items: the plugin's prepared requests (prompts, configs, ...).
    :param run_chunk: one engine call for a list of items; returns one result
        per item, in order, where an exception stands for that item's failure.
        Raising fails the whole call (then the chunk is split and retried as above).
    :param batch_size: the most items per call.
    :param group_by: items of one chunk share this key (e.g. generation options).
    :param sort_by: order within a group (e.g. prompt length, to pad less).
    :param is_out_of_memory: whether an exception is an out-of-memory error.
    :param oom_hint: what a user can do when one request alone does not fit.
    :param label: the progress display's name (the model's name).
    :param map_error: the model's :meth:`~vlmi.plugin.Model.map_error`: a chunk whose
        exception it maps to a :class:`~vlmi.errors.TransientError` is not retried.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    state = _State(
        items, run_chunk, is_out_of_memory, oom_hint, batch_size, [None] * len(items), map_error
    )
    groups: dict[Hashable, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(group_by(item) if group_by else None, []).append(index)
    ordered = [
        sorted(indices, key=lambda i: sort_by(items[i])) if sort_by else indices
        for indices in groups.values()
    ]
    chunks = sum(-(-len(indices) // batch_size) for indices in ordered)
    with Progress(len(items), label=label, enabled=chunks > 1) as bar:
        for indices in ordered:
            start = 0
            while start < len(indices):
                chunk = indices[start : start + state.budget]
                start += len(chunk)
                if state.gone is not None:  # no engine left to call
                    for index in chunk:
                        state.results[index] = state.gone
                else:
                    _run(state, chunk)
                failed = sum(isinstance(state.results[i], BaseException) for i in chunk)
                bar.update(len(chunk), failed)
    return [
        r if r is not None else GenerationError("the engine returned no result for this sample")
        for r in state.results
    ]


def run_built(
    items: Sequence[S],
    build: Callable[[S], T],
    run_chunk: Callable[[list[T]], Sequence[R | BaseException]],
    **options: Any,
) -> list[R | BaseException]:
    """Build each item's engine request, then :func:`run_chunked` the built ones.

    An item whose ``build`` raises (a prompt the engine refuses, options it cannot
    take) gets that exception as its answer; the others are chunked and answered as
    :func:`run_chunked` does (``options`` are its keyword arguments). Results are in
    item order.
    """
    results: list[R | BaseException] = []
    built: list[T] = []
    where: list[int] = []
    for index, item in enumerate(items):
        try:
            built.append(build(item))
            where.append(index)
            results.append(GenerationError("not answered"))
        except Exception as exc:  # this item's own failure
            results.append(exc)
    for index, outcome in zip(where, run_chunked(built, run_chunk, **options)):
        results[index] = outcome
    return results


def _run(state: _State[Any], indices: list[int]) -> None:
    try:
        outcomes = list(state.run_chunk([state.items[i] for i in indices]))
        if len(outcomes) != len(indices):
            raise GenerationError(
                f"the engine returned {len(outcomes)} results for {len(indices)} requests"
            )
    except Exception as exc:
        if _failed_for_the_moment(state, indices, exc):
            return
        if len(indices) == 1:
            if state.is_out_of_memory(exc):
                oom = EngineOutOfMemoryError(
                    f"out of memory on this sample alone: {state.oom_hint}"
                )
                oom.__cause__ = exc
                exc = oom
            state.results[indices[0]] = exc
            return
        if not state.is_out_of_memory(exc):  # find the bad request(s) by halving
            half = (len(indices) + 1) // 2
            _run(state, indices[:half])
            _run(state, indices[half:])
            return
        state.budget = min(state.budget, (len(indices) + 1) // 2)
        done = 0
        while done < len(indices):  # in parts of the budget, which a part's own OOM may lower
            part = indices[done : done + state.budget]
            done += len(part)
            _run(state, part)
        return
    for index, outcome in zip(indices, outcomes):
        state.results[index] = outcome


def _failed_for_the_moment(state: _State[Any], indices: list[int], exc: Exception) -> bool:
    """A chunk's failure of the moment (not out of memory) is every slot's; True if it was."""
    if state.is_out_of_memory(exc):
        return False
    mapped = exc if isinstance(exc, VlmiError) else (state.map_error or _unmapped)(exc)
    if not isinstance(mapped, TransientError) or isinstance(mapped, EngineOutOfMemoryError):
        return False
    if mapped is not exc and mapped.__cause__ is None:
        mapped.__cause__ = exc
    for index in indices:
        state.results[index] = mapped
    if isinstance(mapped, EngineGoneError):
        state.gone = mapped
    return True


def _unmapped(exc: BaseException) -> None:
    return None


__all__ = ["DEFAULT_OOM_HINT", "run_built", "run_chunked"]
