"""``vlmi run --ray``: one benchmark over a pool of model replicas on a Ray cluster.

The driver (this process) reads the input, skips the ids already in the
output, and hands the rest to a Ray Data pipeline: a CPU stage that parses
samples and decodes their images (:func:`vlmi._ray_stages.decode_batch`),
then a fixed pool of ``replicas`` actors, each holding one model loaded with
``vlmi.load`` on ``gpus_per_replica`` GPUs (:class:`vlmi._ray_stages.Replica`).
Answers stream back to the driver, which writes the same records as a local
run (plus ``replica``: the actor, node and process that answered), flushed
per batch. A replica whose process dies is restarted by Ray and its batch is
retried (at most ``max_retries`` times); a driver killed mid-run resumes on
the next run from the records already written.

Ray is imported here only, on first use; it comes with ``vlmi-core[ray]``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from vlmi.errors import EngineUnavailableError, InvalidOptionError, VlmiError

from ._datasets import Record
from ._model import Model
from ._progress import Progress
from ._run_output import (
    RunSummary,
    SkipCounter,
    fresh_records,
    identity_of,
    prepare_output,
    record_line,
    write_lines,
)

#: What to install for ``--ray``.
RAY_EXTRA = "pip install 'vlmi-core[ray]'"


#: Most batches in one block of the pipeline: records reach the output a block at a time.
MAX_BATCHES_PER_BLOCK = 4


class RayRunError(EngineUnavailableError):
    """The Ray pipeline stopped (cluster gone, a replica failing on every retry)."""


def import_ray() -> Any:
    """``ray`` with Ray Data, or an error saying what to install."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise EngineUnavailableError(
            f"--ray (ray=...) needs Ray Data, which is not installed: {RAY_EXTRA} "
            "(on every node of the cluster, next to the model's plugin)"
        ) from exc
    return ray


def run_on_ray(
    model: Model[Any] | str,
    records: Iterable[Record],
    total: int | None,
    output: Path,
    *,
    address: str | None,
    replicas: int,
    gpus_per_replica: float,
    batch_size: int,
    overwrite: bool,
    force: bool,
    progress: bool,
    load_options: dict[str, Any] | None,
    runtime_env: dict[str, Any] | None,
    max_retries: int,
    generation: dict[str, Any],
) -> RunSummary:
    """Answer ``records`` on a Ray cluster and append their records to ``output``."""
    ray = import_ray()
    from ._ray_stages import describe_model, input_row

    if replicas < 1:
        raise InvalidOptionError(f"replicas must be >= 1, got {replicas}")
    if gpus_per_replica < 0:
        raise InvalidOptionError(f"gpus_per_replica must be >= 0, got {gpus_per_replica}")
    name, options = _name_and_options(model, load_options)
    described = describe_model(name, options)  # checks the options before the cluster is used
    base, identity = identity_of(described, generation)
    done_ids, previously_failed = prepare_output(output, identity, overwrite, force)
    bar = Progress(total, enabled=progress)
    skipped = SkipCounter(bar)

    with bar:
        fresh = list(fresh_records(records, done_ids, skipped, output, force))
        styles = {record.id: record.prompt_style for record in fresh}
        rows = [input_row(record) for record in fresh]
        started = time.perf_counter()
        done = failed = 0
        per_replica: dict[str, int] = {}
        written: set[str] = set()
        if rows:
            with _connected(ray, address), output.open("a", encoding="utf-8") as sink:
                _check_resources(ray, replicas, gpus_per_replica)
                model_args = {"model": name, "load_options": options}
                pool = _Pool(replicas, gpus_per_replica, batch_size, max_retries, runtime_env)
                answers = _pipeline(ray, rows, model_args, base.to_dict(), pool)
                for batch in _guarded(answers, output):
                    batch_done, batch_failed = _write(
                        batch, identity, styles, sink, per_replica, written
                    )
                    done += batch_done
                    failed += batch_failed
                    bar.update(batch_done, batch_failed)
                    bar.set_note(_replica_note(per_replica, time.perf_counter() - started))
        wall = time.perf_counter() - started
    return RunSummary(output, done, failed, skipped.count, previously_failed, wall, per_replica)


def _replica_note(per_replica: dict[str, int], elapsed: float) -> str:
    """``"2 replica(s): 10.1, 9.8 samples/s"`` for the progress display."""
    rates = ", ".join(f"{count / elapsed:.1f}" for _, count in sorted(per_replica.items()))
    return f"{len(per_replica)} replica(s): {rates} samples/s" if elapsed > 0 else ""


def _name_and_options(
    model: Model[Any] | str, load_options: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    if isinstance(model, str):
        return model, dict(load_options or {})
    weights = {k: v for k, v in asdict(model.options.weights).items() if v is not None}
    engine = asdict(model.options.engine)
    chosen = {"plugin": model.spec.plugin.distribution} if model.spec.plugin else {}
    return model.name, {**chosen, **weights, **engine, **model.options.generation.to_dict()}


@contextmanager
def _connected(ray: Any, address: str | None) -> Iterator[None]:
    """Connected to the cluster at ``address`` (None: ``RAY_ADDRESS`` or a local one).

    A connection made here is closed at the end; one the caller opened is reused.
    """
    if ray.is_initialized():
        yield
        return
    try:
        ray.init(address=address, logging_level=logging.WARNING)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise RayRunError(
            f"cannot connect to the Ray cluster at {address or 'RAY_ADDRESS / a local one'}: "
            f"{exc}; start one with `ray start --head` or pass its address (--ray HOST:PORT)"
        ) from exc
    try:
        yield
    finally:
        ray.shutdown()


def _check_resources(ray: Any, replicas: int, gpus_per_replica: float) -> None:
    resources = ray.cluster_resources()
    gpus = float(resources.get("GPU", 0))
    cpus = float(resources.get("CPU", 0))
    if replicas * gpus_per_replica > gpus:
        raise InvalidOptionError(
            f"{replicas} replica(s) of {gpus_per_replica:g} GPU(s) need "
            f"{replicas * gpus_per_replica:g} GPUs, the cluster has {gpus:g}; lower --replicas, "
            "add nodes, or pass --gpus-per-replica 0 for a model that runs on CPUs"
        )
    if cpus < replicas + 1:
        raise InvalidOptionError(
            f"{replicas} replica(s) and the image decoding stage need {replicas + 1} CPUs, the "
            f"cluster has {cpus:g}; lower --replicas or add nodes"
        )


@dataclass(frozen=True)
class _Pool:
    """The replica pool: how many, GPUs each, samples per batch, retries of a dead one, and
    the Ray ``runtime_env`` of both stages."""

    replicas: int
    gpus_per_replica: float
    batch_size: int
    max_retries: int
    runtime_env: dict[str, Any] | None


def _pipeline(
    ray: Any,
    rows: list[dict[str, Any]],
    model_args: dict[str, Any],
    base: dict[str, Any],
    pool: _Pool,
) -> Iterator[Any]:
    """Batches of answers (Arrow tables) as replicas finish them, in no fixed order.

    ``model_args``: the model's name and load options (``model``, ``load_options``).
    """
    from ray.data import ActorPoolStrategy, DataContext

    from ._ray_stages import Replica, decode_batch, input_table

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # vlmi shows its own progress
    context = DataContext.get_current()
    context.enable_progress_bars = False
    # Blocks of whole batches, cut where the local runner cuts its chunks, so that every batch
    # holds the same samples in the same slots as in a local run. from_blocks keeps the blocks
    # as given (from_items would cut them elsewhere; from_arrow runs one task per block).
    batch_size = pool.batch_size
    rows_per_block = batch_size * _batches_per_block(len(rows), batch_size, pool.replicas)
    blocks = [
        input_table(rows[start : start + rows_per_block])
        for start in range(0, len(rows), rows_per_block)
    ]
    dataset = ray.data.from_blocks(blocks)
    decoded = dataset.map_batches(
        decode_batch,
        batch_size=batch_size,
        batch_format="pyarrow",
        fn_kwargs={**model_args, "base": base},
        num_cpus=1,
        runtime_env=pool.runtime_env,
    )
    with warnings.catch_warnings():
        # Ray Data restarts dead replicas and retries their batches without end by default;
        # Ray 2.60 takes the bound only through ray_remote_args(_fn), both deprecated without
        # a named replacement yet (hence vlmi-core[ray] stops below Ray 2.64).
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        answered = decoded.map_batches(
            Replica,
            batch_size=batch_size,
            batch_format="pyarrow",
            fn_constructor_kwargs=model_args,
            compute=ActorPoolStrategy(size=pool.replicas),
            num_gpus=pool.gpus_per_replica,
            num_cpus=1,
            runtime_env=pool.runtime_env,
            ray_remote_args_fn=partial(
                dict, max_restarts=pool.max_retries, max_task_retries=pool.max_retries
            ),
        )
    batches: Iterator[Any] = answered.iter_batches(batch_size=None, batch_format="pyarrow")
    return batches


def _batches_per_block(samples: int, batch_size: int, replicas: int) -> int:
    """Batches per block: up to MAX_BATCHES_PER_BLOCK (Ray's cost is per block), while each
    replica still gets several blocks to share the work evenly."""
    batches = math.ceil(samples / batch_size)
    return max(1, min(MAX_BATCHES_PER_BLOCK, batches // (replicas * 4)))


def _guarded(batches: Iterator[Any], output: Path) -> Iterator[Any]:
    """The batches; a failure of the pipeline becomes a RayRunError naming how to resume."""
    try:
        yield from batches
    except VlmiError:
        raise
    except Exception as exc:
        found = _vlmi_cause(exc)
        reason = f"{type(found).__name__}: {found}" if found is not None else _vlmi_line(exc)
        raise RayRunError(
            f"the Ray run stopped: {reason}; the answers so far are in {output}, run the same "
            "command again to resume"
        ) from exc


def _vlmi_cause(exc: BaseException) -> VlmiError | None:
    """The vlmi error a replica or task raised, out of the exceptions Ray wrapped it in."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, VlmiError):
            return current
        for linked in (getattr(current, "cause", None), current.__cause__, current.__context__):
            if isinstance(linked, BaseException):
                pending.append(linked)
    return None


def _vlmi_line(exc: BaseException) -> str:
    """The ``vlmi.errors.X: message`` line of a traceback Ray kept only as text (an actor that
    failed to start), else the whole text."""
    text = str(exc)
    lines = re.findall(r"^vlmi\.errors\.(\w+: .+)$", text, flags=re.MULTILINE)
    return lines[-1] if lines else text


def _write(
    batch: Any,
    identity: dict[str, Any],
    styles: dict[str, str],
    sink: IO[str],
    per_replica: dict[str, int],
    written: set[str],
) -> tuple[int, int]:
    """Append a batch's records; an id already written in this run is not written again."""
    lines = []
    failed = 0
    for row in batch.to_pylist():
        if row["id"] in written:
            continue
        written.add(row["id"])
        error = json.loads(row["error"]) if row["error"] else None
        failed += error is not None
        replica = json.loads(row["replica"])
        timing = {"batch_s": row["batch_s"], "batch_size": row["batch_size"]}
        lines.append(
            record_line(
                row["id"],
                row["prediction"],
                error,
                styles[row["id"]],
                identity,
                timing,
                {"replica": replica},
            )
        )
        key = f"{replica['actor']}@{replica['host']}"
        per_replica[key] = per_replica.get(key, 0) + 1
    write_lines(sink, lines)
    return len(lines), failed


__all__ = ["RAY_EXTRA", "RayRunError", "import_ray", "run_on_ray"]
