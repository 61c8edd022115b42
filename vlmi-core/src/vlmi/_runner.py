"""``vlmi.run``: benchmark-scale inference from a dataset file to JSON Lines, resumable.

The input is streamed in chunks of ``batch_size``. A background thread reads
the next chunks and decodes their images in a thread pool (at most
``PREFETCH`` chunks ahead, so memory stays bounded) while the model answers
the current chunk with ``eval_batch``. Each answered chunk is appended to the
output and flushed, so a crash loses at most the chunk in flight; running the
same command again skips the ids already written.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from vlmi.errors import InvalidOptionError, InvalidSampleError, VlmiError

from ._datasets import Record, open_records
from ._generation import GenerationOptions
from ._model import Model
from ._output_lock import locks_output
from ._preparing import default_workers, prepare_samples
from ._progress import Progress
from ._run_output import (
    RunConfigMismatchError,
    RunSummary,
    SkipCounter,
    fresh_records,
    identity_of,
    prepare_output,
    record_line,
    write_lines,
)
from ._sample import Sample, as_sample

PREFETCH = 2


@locks_output
def run(
    model: Model[Any] | str,
    samples: str | Path | Iterable[Any],
    output: str | Path,
    *,
    batch_size: int = 8,
    overwrite: bool = False,
    force: bool = False,
    workers: int | None = None,
    progress: bool = True,
    load_options: dict[str, Any] | None = None,
    dataset: str | None = None,
    dataset_type: str | None = None,
    ray: str | bool | None = None,
    replicas: int = 1,
    gpus_per_replica: float = 1,
    runtime_env: dict[str, Any] | None = None,
    max_retries: int = 3,
    **generation: Any,
) -> RunSummary:
    """Answer every sample of ``samples`` and append one JSON record per sample to ``output``.

    :param model: a loaded model, or a name to ``vlmi.load`` with ``load_options``.
    :param samples: a ``.jsonl`` / ``.tsv`` file (see :mod:`vlmi._datasets`) or an
        iterable of samples (dicts with an ``id``, tuples, strings, ``Sample``).
    :param output: the JSON Lines file; existing ids are skipped (resume).
    :param overwrite: start the output over instead of resuming.
    :param force: resume even if the output was made with another model/options.
    :param dataset: the VLMEvalKit dataset name of a ``.tsv`` input (default: its stem).
    :param dataset_type: ``mcq``, ``yorn`` or ``vqa`` for a ``.tsv`` (default: detected).
    :param ray: run on a Ray cluster: its address (``"HOST:PORT"``, ``"auto"``) or
        ``True`` for ``RAY_ADDRESS`` / a local cluster; needs ``vlmi-core[ray]``.
        ``None`` or ``False``: here, in this process (Ray is not imported).
    :param replicas: model replicas on the cluster (each loads the model once).
    :param gpus_per_replica: GPUs each replica holds (0 for CPU models).
    :param runtime_env: a Ray ``runtime_env`` for the replicas (``pip``, ``env_vars``...).
    :param max_retries: restarts of a dead replica, and retries of its batch, before the run
        stops.
    :param generation: generation options for every sample (a sample's own win).
    """
    if batch_size < 1:
        raise InvalidSampleError(f"batch_size must be >= 1, got {batch_size}")
    if ray is None or ray is False:
        cluster_only = {
            "replicas": replicas != 1,
            "gpus_per_replica": gpus_per_replica != 1,
            "runtime_env": runtime_env is not None,
        }
        given = [name for name, set_here in cluster_only.items() if set_here]
        if given:
            raise InvalidOptionError(
                f"{', '.join(given)} take effect on a Ray cluster only; pass ray=ADDRESS "
                "(--ray) as well, or leave them out"
            )
    else:
        from ._ray_runner import run_on_ray
        from ._ray_stages import describe_model

        prompter = (
            model if not isinstance(model, str) else describe_model(model, load_options or {})
        )
        records, total = _open_records(samples, prompter, dataset, dataset_type)
        return run_on_ray(
            model,
            records,
            total,
            Path(output),
            address=None if ray is True else str(ray),
            replicas=replicas,
            gpus_per_replica=gpus_per_replica,
            batch_size=batch_size,
            overwrite=overwrite,
            force=force,
            progress=progress,
            load_options=load_options,
            runtime_env=runtime_env,
            max_retries=max_retries,
            generation=generation,
        )
    if isinstance(model, str):
        from ._api import load

        model = load(model, **(load_options or {}))
    base, identity = identity_of(model, generation)
    out_path = Path(output)
    done_ids, previously_failed = prepare_output(out_path, identity, overwrite, force)
    records, total = _open_records(samples, model, dataset, dataset_type)
    bar = Progress(total, enabled=progress)
    skipped = SkipCounter(bar)

    done = failed = 0
    started = time.perf_counter()
    with (
        out_path.open("a", encoding="utf-8") as sink,
        _Prefetcher(
            model,
            base,
            _chunks(fresh_records(records, done_ids, skipped, out_path, force), batch_size),
            workers,
        ) as chunks,
        bar,
    ):
        for chunk in chunks:
            chunk_failed = _answer(model, chunk, identity, sink)
            done += len(chunk)
            failed += chunk_failed
            bar.update(len(chunk), chunk_failed)
    return RunSummary(
        out_path, done, failed, skipped.count, previously_failed, time.perf_counter() - started
    )


def _answer(
    model: Model[Any],
    chunk: list[Prepared],
    identity: dict[str, Any],
    sink: IO[str],
) -> int:
    began = time.perf_counter()
    answers = model.answer_prepared([p.sample for p in chunk], [p.generation for p in chunk])
    took = time.perf_counter() - began
    batch_size = sum(p.generation is not None for p in chunk)
    timing = {"batch_s": round(took, 6), "batch_size": batch_size}
    failed = 0
    lines = []
    for item, answer in zip(chunk, answers):
        error = answer.to_dict() if isinstance(answer, VlmiError) else None
        failed += error is not None
        prediction = None if error else str(answer)
        lines.append(record_line(item.id, prediction, error, item.prompt_style, identity, timing))
    write_lines(sink, lines)
    return failed


# --- input ------------------------------------------------------------------------


def _open_records(
    samples: str | Path | Iterable[Any],
    model: Model[Any] | None = None,
    dataset: str | None = None,
    dataset_type: str | None = None,
) -> tuple[Iterable[Record], int | None]:
    """The input as a stream of records, and how many there are (None: unknown)."""
    if isinstance(samples, (str, Path)):
        total, records = open_records(
            samples, model=model, dataset=dataset, dataset_type=dataset_type
        )
        return records, total
    items = samples if not isinstance(samples, (list, tuple)) else list(samples)
    return _records_from_items(items), len(items) if isinstance(items, list) else None


def _records_from_items(items: Iterable[Any]) -> Iterator[Record]:
    for index, item in enumerate(items):
        if isinstance(item, dict):
            fields = dict(item)
            record_id = fields.pop("id", fields.pop("index", index))
            yield Record(str(record_id), index, fields=fields)
        elif isinstance(item, Sample):
            yield Record(item.id or str(index), index, fields={"sample": item})
        else:
            yield Record(str(index), index, fields={"item": item})


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class Prepared:
    """One record made ready once: its sample (images loaded) or error, and its options."""

    id: str
    sample: Sample | VlmiError
    generation: GenerationOptions | None
    prompt_style: str = "as-given"


def _parse(
    model: Model[Any], base: GenerationOptions, record: Record
) -> tuple[Sample, GenerationOptions] | VlmiError:
    if record.error is not None:
        return record.error
    try:
        fields = record.fields
        item = fields.get("sample", fields.get("item", fields))
        sample = as_sample(item, images_first=model.spec.images_first)
        options = base.merged(sample.generation)  # a bad option fails this sample only
        return Sample(sample.parts, id=record.id, generation=sample.generation), options
    except VlmiError as exc:
        return exc
    except Exception as exc:
        return InvalidSampleError(f"line {record.line}: cannot read this sample: {exc!r}")


class _Prefetcher:
    """Reads chunks and decodes their images in the background, PREFETCH chunks ahead."""

    def __init__(
        self,
        model: Model[Any],
        base: GenerationOptions,
        chunks: Iterator[list[Record]],
        workers: int | None,
    ) -> None:
        self.model = model
        self.base = base
        self.chunks = chunks
        self.pool = ThreadPoolExecutor(max_workers=workers or default_workers())
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=PREFETCH)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._work, name="vlmi-prefetch", daemon=True)

    def __enter__(self) -> Iterator[list[Prepared]]:
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

    def _iterate(self) -> Iterator[list[Prepared]]:
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
                self._put(self._prepare(chunk))
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

    def _prepare(self, chunk: list[Record]) -> list[Prepared]:
        parsed = [_parse(self.model, self.base, record) for record in chunk]
        samples = [p[0] for p in parsed if not isinstance(p, VlmiError)]
        loaded = iter(prepare_samples(self.model, samples, executor=self.pool))
        out: list[Prepared] = []
        for record, item in zip(chunk, parsed):
            if isinstance(item, VlmiError):
                out.append(Prepared(record.id, item, None, record.prompt_style))
                continue
            sample = next(loaded)
            options = item[1] if isinstance(sample, Sample) else None
            out.append(Prepared(record.id, sample, options, record.prompt_style))
        return out


__all__ = ["PREFETCH", "RunConfigMismatchError", "RunSummary", "run"]
