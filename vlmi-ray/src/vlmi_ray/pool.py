"""The Ray executor of ``vlmi run``: one benchmark over a pool of model replicas.

The driver (the process running ``vlmi run``) reads the input, skips the
ids already in the output, and hands the rest to :class:`RayPool`, which
runs a Ray Data pipeline: a CPU stage that parses samples, decodes their
images and their videos' sampled frames (:func:`vlmi_ray.stages.decode_batch`),
then a fixed pool of ``replicas`` actors, each holding one model loaded with
``vlmi.load`` on ``gpus_per_replica`` GPUs (:class:`vlmi_ray.stages.Replica`).
Answers stream back to the driver, which writes the same records as a local run
(plus ``replica``: the actor, node and process that answered; ``video``: what
was sampled from each video, as locally), flushed per batch.
A replica whose process dies is restarted by Ray and its batch is retried (at
most ``max_retries`` times); a driver killed mid-run resumes on the next run
from the records already written. Ray is imported on first use.
"""

from __future__ import annotations

import json
import logging
import math
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

from vlmi.errors import (
    EngineUnavailableError,
    InvalidOptionError,
    MissingDependencyError,
    VlmiError,
)
from vlmi.plugin import Answer, Executor, Model, RunJob

from .stages import input_row

#: What to install for Ray Data.
RAY_INSTALL = "pip install vlmi-ray"


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
        raise MissingDependencyError(
            f"the Ray executor needs Ray Data, which is not installed: {RAY_INSTALL} "
            "(on every node of the cluster, next to the model's plugin)",
            install=RAY_INSTALL,
        ) from exc
    return ray


@dataclass(frozen=True)
class RayPool(Executor):
    """``vlmi run`` on a Ray cluster: ``replicas`` actors, each holding one loaded model.

    :param address: the cluster (``"HOST:PORT"``, ``"auto"``); ``None``: ``RAY_ADDRESS``,
        else the cluster started on this machine, else a new local one. A process that
        already called ``ray.init()`` runs on that connection.
    :param replicas: model replicas (each loads the model once with ``vlmi.load``).
    :param gpus_per_replica: GPUs each replica holds (0 for CPU or API models).
    :param runtime_env: a Ray ``runtime_env`` for the replicas (``pip``, ``env_vars``...).
    :param max_retries: restarts of a dead replica, and retries of its batch, before the
        run stops.
    """

    address: str | None = None
    replicas: int = 1
    gpus_per_replica: float = 1
    runtime_env: dict[str, Any] | None = None
    max_retries: int = 3

    #: the driver only describes the model: the replicas load it
    loads_model = False

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise InvalidOptionError(f"replicas must be >= 1, got {self.replicas}")
        if self.gpus_per_replica < 0:
            raise InvalidOptionError(f"gpus_per_replica must be >= 0, got {self.gpus_per_replica}")
        if self.max_retries < 0:
            raise InvalidOptionError(f"max_retries must be >= 0, got {self.max_retries}")

    def answer(self, job: RunJob) -> Iterator[list[Answer]]:
        """Batches of answers as replicas finish them, in no fixed order."""
        ray = import_ray()
        fresh = list(job.records)
        if not fresh:
            return
        styles = {record.id: record.prompt_style for record in fresh}
        rows = [input_row(record) for record in fresh]
        model_args = {"model": job.model_name, "load_options": load_options_of(job.model)}
        with _connected(ray, self.address):
            _check_resources(ray, self.replicas, self.gpus_per_replica)
            answers = _pipeline(ray, rows, model_args, job.base.to_dict(), self, job.batch_size)
            for batch in _guarded(answers, job.output):
                yield [_answer(row, styles) for row in batch.to_pylist()]


def load_options_of(model: Model[Any]) -> dict[str, Any]:
    """The ``vlmi.load`` options that give ``model`` again (on a replica)."""
    weights = {k: v for k, v in asdict(model.options.weights).items() if v is not None}
    engine = asdict(model.options.engine)
    chosen = {"plugin": model.spec.plugin.distribution} if model.spec.plugin else {}
    return {**chosen, **weights, **engine, **model.options.generation.to_dict()}


def _answer(row: dict[str, Any], styles: dict[str, str]) -> Answer:
    return Answer(
        row["id"],
        row["prediction"],
        json.loads(row["error"]) if row["error"] else None,
        styles[row["id"]],
        {"batch_s": row["batch_s"], "batch_size": row["batch_size"]},
        worker=json.loads(row["replica"]),
        video=json.loads(row["video"]) if row["video"] else None,
    )


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


def _pipeline(
    ray: Any,
    rows: list[dict[str, Any]],
    model_args: dict[str, Any],
    base: dict[str, Any],
    pool: RayPool,
    batch_size: int,
) -> Iterator[Any]:
    """Batches of answers (Arrow tables) as replicas finish them, in no fixed order.

    ``model_args``: the model's name and load options (``model``, ``load_options``).
    """
    from ray.data import ActorPoolStrategy, DataContext

    from .stages import Replica, decode_batch, input_table

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # vlmi shows its own progress
    context = DataContext.get_current()
    context.enable_progress_bars = False
    # Blocks of whole batches, cut where the local runner cuts its chunks, so that every batch
    # holds the same samples in the same slots as in a local run. from_blocks keeps the blocks
    # as given (from_items would cut them elsewhere; from_arrow runs one task per block).
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
        # a named replacement yet (hence vlmi-ray stops below Ray 2.64).
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


__all__ = ["RAY_INSTALL", "RayPool", "RayRunError", "import_ray", "load_options_of"]
