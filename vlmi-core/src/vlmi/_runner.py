"""``vlmi.run``: benchmark-scale inference from a dataset file to JSON Lines, resumable.

The input is streamed in chunks of ``batch_size``. A background thread reads
the next chunks and decodes their images in a thread pool (at most
``PREFETCH`` chunks ahead, so memory stays bounded) while the model answers
the current chunk with ``eval_batch``. Each answered chunk is appended to the
output and flushed, so a crash loses at most the chunk in flight; running the
same command again skips the ids already written.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any

from vlmi.errors import InvalidSampleError, VlmiError

from ._datasets import Record, open_records
from ._generation import GenerationOptions
from ._model import Model
from ._preparing import default_workers, prepare_samples
from ._progress import Progress
from ._sample import Sample, as_sample

PREFETCH = 2


class RunConfigMismatchError(VlmiError):
    """The output file was written by another model or with other options."""


@dataclass(frozen=True)
class RunSummary:
    """What a run did."""

    output: Path
    done: int
    failed: int
    skipped: int
    previously_failed: int
    wall_s: float

    @property
    def samples_per_s(self) -> float:
        """Samples answered per second in this run."""
        return self.done / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def ok(self) -> bool:
        """True when no sample of the output failed."""
        return self.failed == 0 and self.previously_failed == 0

    def line(self) -> str:
        """A one-line summary for people."""
        return (
            f"done {self.done} ({self.failed} failed), skipped {self.skipped} already in "
            f"{self.output.name} ({self.previously_failed} of them failed), "
            f"{self.wall_s:.1f} s, {self.samples_per_s:.1f} samples/s"
        )


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
    :param generation: generation options for every sample (a sample's own win).
    """
    if batch_size < 1:
        raise InvalidSampleError(f"batch_size must be >= 1, got {batch_size}")
    if isinstance(model, str):
        from ._api import load

        model = load(model, **(load_options or {}))
    base = model.options.generation.merged(generation)
    identity = {"model": model.name, "options": _options_of(model, base.to_dict())}
    out_path = Path(output)
    done_ids, previously_failed = _prepare_output(out_path, identity, overwrite, force)
    if isinstance(samples, (str, Path)):
        total: int | None
        total, records = open_records(
            samples, model=model, dataset=dataset, dataset_type=dataset_type
        )
    else:
        items = samples if not isinstance(samples, (list, tuple)) else list(samples)
        total = len(items) if isinstance(items, list) else None
        records = _records_from_items(items)
    bar = Progress(total, enabled=progress)
    skipped = 0

    def fresh() -> Iterator[Record]:
        nonlocal skipped
        for record in records:
            if record.id in done_ids:
                _check_prompt_style(out_path, record, done_ids[record.id], force)
                skipped += 1
                bar.update(1)
                continue
            if record.id in seen:
                record = Record(
                    f"{record.id}@line{record.line}",
                    record.line,
                    prompt_style=record.prompt_style,
                    error=InvalidSampleError(
                        f"id {record.id!r} appears again at line {record.line}; ids must be unique"
                    ),
                )
            seen.add(record.id)
            yield record

    seen: set[str] = set()
    done = failed = 0
    started = time.perf_counter()
    with (
        out_path.open("a", encoding="utf-8") as sink,
        _Prefetcher(model, base, _chunks(fresh(), batch_size), workers) as chunks,
        bar,
    ):
        for chunk in chunks:
            chunk_failed = _answer(model, chunk, identity, sink)
            done += len(chunk)
            failed += chunk_failed
            bar.update(len(chunk), chunk_failed)
    return RunSummary(
        out_path, done, failed, skipped, previously_failed, time.perf_counter() - started
    )


# --- output and resume ------------------------------------------------------------


def _options_of(model: Model[Any], generation: dict[str, Any]) -> dict[str, Any]:
    options = model.options
    engine = asdict(options.engine)
    for option in fields(options.engine):
        if option.metadata.get("secret") and engine.get(option.name) is not None:
            engine[option.name] = "<hidden>"  # an API key is never written to the output
    data = {
        "weights": asdict(options.weights),
        "engine": engine,
        "generation": generation,
    }
    plain: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return plain


def _prepare_output(
    path: Path, identity: dict[str, Any], overwrite: bool, force: bool
) -> tuple[dict[str, str | None], int]:
    """The ids already answered in ``path`` (with their prompt style) and how many failed."""
    if overwrite or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
        return {}, 0
    done: dict[str, str | None] = {}
    failed = 0
    checked = False
    good_end = 0
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break  # a line cut off by a crash: dropped below, its sample runs again
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                break
            good_end += len(raw)
            if not checked:
                _check_identity(path, record, identity, force)
                checked = True
            done[str(record.get("id"))] = record.get("prompt_style")
            failed += record.get("error") is not None
    if good_end < path.stat().st_size:
        with path.open("r+b") as handle:
            handle.truncate(good_end)
    return done, failed


def _check_prompt_style(path: Path, record: Record, before: str | None, force: bool) -> None:
    if force or before is None or before == record.prompt_style:
        return
    raise RunConfigMismatchError(
        f"{path} holds an answer to {record.id!r} made with prompt style {before!r}, and this run "
        f"would use {record.prompt_style!r} (another --dataset or --dataset-type?); pass "
        "--overwrite to start over, -o to write elsewhere, or --force to append anyway"
    )


def _check_identity(
    path: Path, record: dict[str, Any], identity: dict[str, Any], force: bool
) -> None:
    before = {"model": record.get("model"), "options": record.get("options")}
    if before == identity or force:
        return
    changes = []
    if before["model"] != identity["model"]:
        changes.append(f"model {before['model']!r} -> {identity['model']!r}")
    old, new = before["options"] or {}, identity["options"]
    for group in sorted(set(old) | set(new)):
        for key in sorted(set(old.get(group, {})) | set(new.get(group, {}))):
            a, b = old.get(group, {}).get(key), new.get(group, {}).get(key)
            if a != b:
                changes.append(f"{key} {a!r} -> {b!r}")
    raise RunConfigMismatchError(
        f"{path} holds answers made with other settings ({'; '.join(changes)}); pass --overwrite "
        "(overwrite=True) to start over, -o to write elsewhere, or --force (force=True) to "
        "append anyway"
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
    failed = 0
    lines = []
    for item, answer in zip(chunk, answers):
        error = answer if isinstance(answer, VlmiError) else None
        failed += error is not None
        lines.append(
            json.dumps(
                {
                    "id": item.id,
                    "prediction": None if error is not None else answer,
                    "error": error.to_dict() if error is not None else None,
                    "prompt_style": item.prompt_style,
                    **identity,
                    "time": {"batch_s": round(took, 6), "batch_size": batch_size},
                },
                ensure_ascii=False,
            )
        )
    sink.write("\n".join(lines) + "\n")
    sink.flush()
    return failed


# --- input ------------------------------------------------------------------------


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
