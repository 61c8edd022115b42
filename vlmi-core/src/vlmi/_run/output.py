"""What every ``vlmi run`` writes, wherever the model runs: records, resume, the summary.

Every executor's answers go through this module, so that all of them write
the same JSON Lines records, resume from the same ids and refuse the same
changes of model or options.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import IO, Any

from vlmi.errors import InvalidSampleError, OutputFileError, VlmiError

from .._generation import GenerationOptions
from .._model import Model
from .._progress import Progress
from .._provenance import answered_by
from .._record import Record
from .._video.decode import decoder_name
from .output_file import is_torn, not_a_record, record_of
from .retry import answers_again, is_retryable
from .video import file_decoder


class RunConfigMismatchError(VlmiError):
    """The output file was written by another model or with other options."""


@dataclass(frozen=True)
class Answer:
    """One answered record, as an executor hands it back to the run.

    :param prediction: the answer, or ``None`` when ``error`` is set.
    :param error: ``{"type", "message", "retryable"}`` of the sample's error, or ``None``.
    :param time: ``{"batch_s": ..., "batch_size": ...}`` of the batch it was answered in.
    :param worker: who answered, written as the record's ``replica`` field and counted per
        worker in the summary (``None`` in a local run).
    :param video: what was sampled from each of the sample's videos
        (:meth:`vlmi.VideoSampling.to_dict`), written as the record's ``video`` field;
        ``None`` for a sample without videos.
    """

    id: str
    prediction: str | None
    error: dict[str, Any] | None
    prompt_style: str
    time: dict[str, Any]
    worker: dict[str, Any] | None = None
    video: list[dict[str, Any]] | None = None

    @property
    def worker_label(self) -> str | None:
        """``actor@host`` (or the worker's fields joined), for per-worker counts."""
        if self.worker is None:
            return None
        if "actor" in self.worker and "host" in self.worker:
            return f"{self.worker['actor']}@{self.worker['host']}"
        return ",".join(f"{k}={v}" for k, v in sorted(self.worker.items()))


@dataclass(frozen=True)
class RunSummary:
    """What a run did (``replicas``: samples answered per worker, on a cluster).

    ``batch_size`` is the run's chunk: the most samples handed to the model at once
    (0 when not known); ``retried``: failed samples of the output answered again (``retry_failed``);
    ``stopped``: why the run stopped before the end (the engine is gone, whole batches
    failed in a row), else ``None``.
    """

    output: Path
    done: int
    failed: int
    skipped: int
    previously_failed: int
    wall_s: float
    replicas: dict[str, int] = field(default_factory=dict)
    batch_size: int = 0
    retried: int = 0
    stopped: str | None = None

    @property
    def samples_per_s(self) -> float:
        """Samples answered per second in this run."""
        return self.done / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def ok(self) -> bool:
        """True when the run went to its end and no sample of the output failed."""
        return self.failed == 0 and self.previously_failed == 0 and self.stopped is None

    def replica_rates(self) -> dict[str, float]:
        """Samples per second of each replica over the run's wall time."""
        wall = self.wall_s if self.wall_s > 0 else float("inf")
        return {name: count / wall for name, count in sorted(self.replicas.items())}

    def line(self) -> str:
        """A one-line summary for people."""
        again = f", {self.retried} of them retried after an earlier failure" if self.retried else ""
        text = (
            f"done {self.done} ({self.failed} failed){again}, skipped {self.skipped} already in "
            f"{self.output.name} ({self.previously_failed} of them failed), "
            f"{self.wall_s:.1f} s, {self.samples_per_s:.1f} samples/s"
        )
        if self.batch_size:
            text += f" in chunks of {self.batch_size}"
        if self.replicas:
            rates = self.replica_rates()
            per = ", ".join(
                f"{name} {self.replicas[name]} ({rate:.1f}/s)" for name, rate in rates.items()
            )
            text += f"; per replica: {per}"
        if self.stopped:
            text += f"; stopped: {self.stopped}"
        return text


def identity_of(
    model: Model[Any],
    generation: Mapping[str, Any],
    video_sampling: Mapping[str, Any] | None = None,
) -> tuple[GenerationOptions, dict[str, Any]]:
    """The run's generation options and what every record says of the model and options.

    :param video_sampling: the run's video sampling defaults: ``options.video_sampling``
        when there are any.
    """
    base = model.options.generation.merged(generation)
    # who answered: plugin, plugin_version, engine, engine_version (vlmi._provenance)
    who = answered_by(model.spec)
    options = options_of(model, base.to_dict())
    if video_sampling:
        options["video_sampling"] = dict(video_sampling)
    return base, {"model": model.name, **who, "options": options}


@dataclass
class SkipCounter:
    """Counts the ids a resumed run skips, and shows them on the run's progress display."""

    bar: Progress
    count: int = 0

    def __call__(self) -> None:
        self.count += 1
        self.bar.update(1)


def options_of(model: Model[Any], generation: dict[str, Any]) -> dict[str, Any]:
    """The ``options`` field of every record: weights, engine and generation options."""
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


def prepare_output(
    path: Path,
    identity: dict[str, Any],
    overwrite: bool,
    force: bool,
    retry_failed: str | None = None,
) -> tuple[dict[str, str | None], int, set[str]]:
    """Ids done in ``path`` (with their prompt style), how many failed, which to answer again.

    The last record of an id is the one that counts. A failed id is answered
    again (left out of the done ids) as ``retry_failed`` says: ``"retryable"``
    its failures of the moment, ``"all"`` every one. A last line cut off by a
    crash is removed (its sample runs again). A file written with another model
    or options is refused unless ``force``; a file that is not a ``vlmi run``
    output, or one with a damaged line before its end, is refused unless
    ``overwrite``, and left as it is.
    """
    if path.is_dir():
        raise OutputFileError(f"{path} is a folder; name a file with -o")
    if overwrite or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
        return {}, 0, set()
    done: dict[str, str | None] = {}
    errors: dict[str, Any] = {}
    checked = decoder_checked = False
    good_end = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                good_end += len(raw)
                continue
            record = record_of(raw)
            if not raw.endswith(b"\n") and is_torn(raw, record):
                break  # a line cut off by a crash: dropped below, its sample runs again
            if record is None:
                raise not_a_record(path, number, checked)
            good_end += len(raw)
            if not checked:
                _check_identity(path, record, identity, force)
                checked = True
            if not decoder_checked and (used := file_decoder(record)) is not None:
                _check_decoder(path, used, force)
                decoder_checked = True
            done[str(record.get("id"))] = record.get("prompt_style")
            errors[str(record.get("id"))] = record.get("error")  # the last record wins
    if good_end < path.stat().st_size:
        with path.open("r+b") as handle:
            handle.truncate(good_end)
    again = {key for key, error in errors.items() if answers_again(error, retry_failed)}
    for key in again:
        del done[key]
    failed = sum(error is not None for key, error in errors.items() if key not in again)
    return done, failed, again


def _check_identity(
    path: Path, record: dict[str, Any], identity: dict[str, Any], force: bool
) -> None:
    # a record written before records named their plugin and engine is not held to them
    before = {k: record.get(k) for k in identity if k in record or k in ("model", "options")}
    now = {k: identity[k] for k in before}
    if before == now or force:
        return
    changes = [
        f"{key} {before[key]!r} -> {now[key]!r}"
        for key in now
        if key != "options" and before[key] != now[key]
    ]
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


def _check_decoder(path: Path, used: str, force: bool) -> None:
    """Refuse to resume ``path`` when its video files were read by another decoder."""
    current = decoder_name()
    if used == current or force:
        return
    raise RunConfigMismatchError(
        f"{path} holds answers whose videos were decoded by {used}, and this run decodes with "
        f"{current} (the frames may differ); install that version to resume, or pass "
        "--overwrite (overwrite=True) to start over, -o to write elsewhere, or --force "
        "(force=True) to append anyway"
    )


def fresh_records(
    records: Iterable[Record],
    done_ids: dict[str, str | None],
    on_skip: Callable[[], None],
    path: Path,
    force: bool,
) -> Iterator[Record]:
    """The records still to answer: ids in ``done_ids`` are skipped (``on_skip`` is told).

    A repeated id becomes an error record of its own (``id@lineN``), as ids
    must be unique for resume to work. An id answered with another prompt
    style is refused unless ``force``.
    """
    seen: set[str] = set()
    for record in records:
        if record.id in seen:  # the same id again in the input, whether answered or not
            record = Record(
                f"{record.id}@line{record.line}",
                record.line,
                prompt_style=record.prompt_style,
                error=InvalidSampleError(
                    f"id {record.id!r} appears again at line {record.line}; ids must be unique"
                ),
            )
        seen.add(record.id)
        if record.id in done_ids:
            _check_prompt_style(path, record, done_ids[record.id], force)
            on_skip()
            continue
        yield record


def _check_prompt_style(path: Path, record: Record, before: str | None, force: bool) -> None:
    if force or before is None or before == record.prompt_style:
        return
    raise RunConfigMismatchError(
        f"{path} holds an answer to {record.id!r} made with prompt style {before!r}, and this run "
        f"would use {record.prompt_style!r} (another --dataset-name or --dataset-type?); pass "
        "--overwrite to start over, -o to write elsewhere, or --force to append anyway"
    )


class RunWriter:
    """Appends one JSON record per answer to the output, flushed per batch.

    The one writer of every executor: an id already written in this run is
    not written again (a retried batch), and answers are counted per worker.
    """

    def __init__(self, sink: IO[str], identity: dict[str, Any]) -> None:
        self.sink = sink
        self.identity = identity
        self.written: set[str] = set()
        self.per_worker: dict[str, int] = {}

    def write(self, answers: Iterable[Answer]) -> tuple[int, int]:
        """Append a batch's records; returns how many were written and how many failed."""
        lines = []
        failed = 0
        for answer in answers:
            if answer.id in self.written:
                continue
            self.written.add(answer.id)
            failed += answer.error is not None
            lines.append(self._line(answer))
            label = answer.worker_label
            if label is not None:
                self.per_worker[label] = self.per_worker.get(label, 0) + 1
        if lines:
            self.sink.write("\n".join(lines) + "\n")
            self.sink.flush()
        return len(lines), failed

    def _line(self, answer: Answer) -> str:
        error = answer.error
        if error is not None and not isinstance(error.get("retryable"), bool):
            error = {**error, "retryable": is_retryable(error)}
        record = {
            "id": answer.id,
            "prediction": None if answer.error is not None else answer.prediction,
            "error": error,
            "prompt_style": answer.prompt_style,
            **self.identity,
            "time": answer.time,
        }
        if answer.worker is not None:
            record["replica"] = answer.worker
        if answer.video is not None:
            record["video"] = answer.video
        return json.dumps(record, ensure_ascii=False)

    def worker_note(self, elapsed: float) -> str:
        """``"2 replica(s): 10.1, 9.8 samples/s"`` for the progress display."""
        if not self.per_worker or elapsed <= 0:
            return ""
        counts = sorted(self.per_worker.items())
        rates = ", ".join(f"{count / elapsed:.1f}" for _, count in counts)
        return f"{len(counts)} replica(s): {rates} samples/s"


__all__ = [
    "Answer",
    "RunConfigMismatchError",
    "RunSummary",
    "RunWriter",
    "SkipCounter",
    "fresh_records",
    "identity_of",
    "options_of",
    "prepare_output",
]
