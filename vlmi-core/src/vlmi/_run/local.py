"""The local executor: answers a run's records in this process, images decoded ahead.

The records are read in chunks of ``batch_size``. A background thread
prepares the next chunks (parses them and decodes their images in a thread
pool, at most ``PREFETCH`` chunks ahead, so memory stays bounded) while the
model answers the current chunk with one ``answer_prepared`` call.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vlmi.errors import InvalidOptionError, VlmiError

from .._generation import GenerationOptions
from .._model import Model
from .._preparing import Prepared, default_workers, prepare_batch
from .._record import Record
from .executor import Executor, RunJob
from .output import Answer
from .video import sampled

PREFETCH = 2


class LocalExecutor(Executor):
    """Answers in this process with the loaded model; ``workers`` threads decode images."""

    loads_model = True

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise InvalidOptionError(f"workers must be >= 1, got {workers}")
        self.workers = workers

    def answer(self, job: RunJob) -> Iterator[list[Answer]]:
        """One batch of answers per chunk of ``job.batch_size`` records, in input order."""
        with _Prefetcher(job, self.workers) as chunks:
            for records, prepared in chunks:
                yield _answer(job.model, records, prepared)


def _answer(model: Model[Any], records: list[Record], prepared: Prepared) -> list[Answer]:
    began = time.perf_counter()
    answers = model.answer_prepared(prepared.samples, prepared.generations)
    took = time.perf_counter() - began
    timing = {
        "batch_s": round(took, 6),
        "batch_size": sum(g is not None for g in prepared.generations),
    }
    out = []
    for record, sample, answer in zip(records, prepared.samples, answers):
        error = answer.to_dict() if isinstance(answer, VlmiError) else None
        prediction = None if error else str(answer)
        video = sampled(sample)
        out.append(Answer(record.id, prediction, error, record.prompt_style, timing, video=video))
    return out


def chunks_of(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    """``records`` in lists of ``size`` (the last one shorter)."""
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def prepare_records(
    model: Model[Any],
    records: list[Record],
    base: GenerationOptions,
    pool: ThreadPoolExecutor | None = None,
) -> Prepared:
    """A chunk of records parsed and loaded: a record's read error stays its slot's error.

    :param base: the run's generation options (a record's own are merged in).
    :param pool: the threads that decode images (default: some for this call).
    """
    return prepare_batch(
        model,
        [record.error if record.error is not None else record.item for record in records],
        base,
        ids=[record.id for record in records],
        where=[f"line {record.line}: " for record in records],
        executor=pool,
    )


class _Prefetcher:
    """Prepares chunks in the background, PREFETCH chunks ahead."""

    def __init__(self, job: RunJob, workers: int | None) -> None:
        self.job = job
        self.chunks = chunks_of(job.records, job.batch_size)
        self.pool = ThreadPoolExecutor(max_workers=workers or default_workers())
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=PREFETCH)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._work, name="vlmi-prefetch", daemon=True)

    def __enter__(self) -> Iterator[tuple[list[Record], Prepared]]:
        self.thread.start()
        return self._iterate()

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        while self.thread.is_alive():
            try:
                self.queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _iterate(self) -> Iterator[tuple[list[Record], Prepared]]:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _work(self) -> None:
        try:
            for chunk in self.chunks:
                if self.stop.is_set():
                    return
                prepared = prepare_records(self.job.model, chunk, self.job.base, self.pool)
                self._put((chunk, prepared))
            self._put(None)
        except BaseException as exc:
            self._put(exc)

    def _put(self, item: Any) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


__all__ = ["PREFETCH", "LocalExecutor", "chunks_of", "prepare_records"]
