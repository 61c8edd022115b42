"""``vlmi.run``: a whole benchmark from an input file to JSON Lines, resumable.

One skeleton for every executor: read the input, resume from the output
(skip the ids already answered, refuse other settings), hand the rest to
the executor, write each answered batch (flushed), sum up. A crash loses
at most the batches in flight; the same call again resumes. Failed samples
are answered again on request (``retry_failed``), and the run stops when the
engine is gone or whole batches keep failing (:mod:`vlmi._run.retry`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Generator, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidOptionError, InvalidSampleError, PluginError

from .._model import Model
from .._progress import Progress
from .executor import Executor, RunJob
from .inputs import open_input
from .local import LocalExecutor
from .lock import locks_output
from .output import (
    RunConfigMismatchError,
    RunSummary,
    RunWriter,
    SkipCounter,
    fresh_records,
    identity_of,
    prepare_output,
)
from .output_file import refuse_unwritable_output
from .retry import DEFAULT_MAX_FAILED_BATCHES, FailureGuard, check_retry_mode
from .video import run_video_defaults, with_video_defaults

#: ``vlmi.run`` keywords of vlmi-core 0.2 that choose a Ray pool (now ``executor=``).
_RAY_KEYWORDS = ("ray", "replicas", "gpus_per_replica", "runtime_env", "max_retries")


@locks_output
def run(
    model: Model[Any] | str,
    samples: str | Path | Iterable[Any],
    output: str | Path,
    *,
    executor: Executor | None = None,
    batch_size: int | None = None,
    overwrite: bool = False,
    force: bool = False,
    workers: int | None = None,
    progress: bool = True,
    load_options: dict[str, Any] | None = None,
    dataset_name: str | None = None,
    dataset_type: str | None = None,
    retry_failed: str | None = None,
    max_failed_batches: int = DEFAULT_MAX_FAILED_BATCHES,
    video_sampling: dict[str, Any] | None = None,
    **generation: Any,
) -> RunSummary:
    """Answer every sample of ``samples`` and append one JSON record per sample to ``output``.

    :param model: a loaded model, or a name to ``vlmi.load`` with ``load_options``.
    :param samples: a ``.jsonl`` / ``.tsv`` file or an iterable of samples (dicts with an
        ``id``, tuples, strings, ``Sample``).
    :param output: the JSON Lines file; existing ids are skipped (resume).
    :param executor: where the samples are answered: in this process (the default), or
        e.g. ``vlmi_ray.RayPool(address, replicas=8)`` on a Ray cluster.
    :param batch_size: samples read and handed to the model at once (one
        ``answer_prepared`` call, so the most the engine sees at once); ``None``: the
        model's :attr:`~vlmi.Model.preferred_batch_size` (8 for most, vLLM's
        ``max_num_seqs`` (256) for vlmi-vllm, 4 times ``concurrency`` for vlmi-openai).
    :param overwrite: start the output over instead of resuming (also replaces a file that
        is not a ``vlmi run`` output; the input file itself is always refused).
    :param force: resume even if the output was made with another model/options.
    :param workers: image decoding threads of the local executor.
    :param dataset_name: the VLMEvalKit dataset name of a ``.tsv`` input (default: its stem).
    :param dataset_type: ``mcq``, ``yorn`` or ``vqa`` for a ``.tsv`` (default: detected).
    :param retry_failed: answer failed samples of ``output`` again: ``"retryable"`` those
        that failed for the moment (records with ``"retryable": true``: the engine gone, a
        timeout, a lost connection, out of memory), ``"all"`` every failed one (e.g. after
        fixing a missing image). The new record is appended; the last record of an id wins.
    :param max_failed_batches: stop after this many whole batches failed in a row (0:
        never). The run also stops when the engine is gone; either way the summary's
        ``stopped`` says why (``vlmi run`` exits with 5), and the run resumes with
        ``retry_failed="retryable"`` once the engine works again.
    :param video_sampling: the run's default video sampling, fields of :class:`vlmi.Video`
        (e.g. ``{"nframes": 8}`` or ``{"rule": "qwen", "fps": 1}``; text values are read
        as ``vlmi run --video-sampling KEY=VALUE`` reads them): a sample's own win, and these win
        over the model's defaults. Part of the run's settings, like generation options.
    :param generation: generation options for every sample (a sample's own win).
    """
    executor, dataset_name = _deprecated_keywords(executor, dataset_name, generation)
    if batch_size is not None and batch_size < 1:
        raise InvalidSampleError(f"batch_size must be >= 1, got {batch_size}")
    check_retry_mode(retry_failed)
    guard = FailureGuard(max_failed_batches)
    if executor is None:
        executor = LocalExecutor(workers)
    elif workers is not None:
        raise InvalidOptionError(
            "workers sets the local executor's image decoding threads; leave it out when "
            "passing executor="
        )
    out_path = Path(output)
    refuse_unwritable_output(samples, out_path, overwrite)
    load_name = model if isinstance(model, str) else model.name
    model = _model_for(model, executor, load_options)
    batch_size = batch_size or _preferred_batch_size(model)
    defaults = run_video_defaults(video_sampling)
    base, identity = identity_of(model, generation, defaults)
    # the input is read first (a TSV's first pass refuses a bad file), then the output
    records, total = open_input(samples, model, dataset_name, dataset_type)
    if defaults:
        records = with_video_defaults(records, defaults, model)
    done_ids, previously_failed, again = prepare_output(
        out_path, identity, overwrite, force, retry_failed
    )
    bar = Progress(total, enabled=progress)
    skipped = SkipCounter(bar)

    done = failed = retried = 0
    stopped: str | None = None
    started = time.perf_counter()
    with out_path.open("a", encoding="utf-8") as sink, bar, ExitStack() as stack:
        writer = RunWriter(sink, identity)
        fresh = fresh_records(records, done_ids, skipped, out_path, force)
        job = RunJob(model, fresh, base, batch_size, out_path, load_name)
        batches = executor.answer(job)
        if isinstance(batches, Generator):  # a stopped run ends the executor's work at once
            stack.callback(batches.close)
        for answers in batches:
            answers = list(answers)
            batch_done, batch_failed = writer.write(answers)
            done += batch_done
            failed += batch_failed
            retried += sum(answer.id in again for answer in answers)
            bar.update(batch_done, batch_failed)
            note = writer.worker_note(time.perf_counter() - started)
            if note:
                bar.set_note(note)
            stopped = guard.stop_reason([answer.error for answer in answers])
            if stopped:
                break
    wall = time.perf_counter() - started
    return RunSummary(
        out_path,
        done,
        failed,
        skipped.count,
        previously_failed,
        wall,
        writer.per_worker,
        batch_size=batch_size,
        retried=retried,
        stopped=stopped,
    )


def _preferred_batch_size(model: Model[Any]) -> int:
    size = model.preferred_batch_size
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise PluginError(
            f"{type(model).__name__}.preferred_batch_size is {size!r}, not a whole number >= 1 "
            "(a bug in the plugin); pass batch_size= (-b) to run anyway"
        )
    return size


def _model_for(
    model: Model[Any] | str, executor: Executor, load_options: dict[str, Any] | None
) -> Model[Any]:
    if not isinstance(model, str):
        return model
    from .._api import describe_model, load

    make = load if executor.loads_model else describe_model
    return make(model, **(load_options or {}))


def _deprecated_keywords(
    executor: Executor | None, dataset_name: str | None, generation: dict[str, Any]
) -> tuple[Executor | None, str | None]:
    """vlmi-core 0.2's ``dataset=`` and ``ray=...`` keywords, with a DeprecationWarning."""
    if "dataset" in generation:
        warnings.warn(
            "vlmi.run(dataset=...) is deprecated: use dataset_name=...",
            DeprecationWarning,
            stacklevel=3,
        )
        old = generation.pop("dataset")
        dataset_name = dataset_name or old
    given = {key: generation.pop(key) for key in _RAY_KEYWORDS if key in generation}
    if not given:
        return executor, dataset_name
    if given.get("ray") in (None, False):
        cluster_only = sorted(set(given) - {"ray"})
        if cluster_only:
            raise InvalidOptionError(
                f"{', '.join(cluster_only)} take effect on a Ray cluster only; pass "
                "executor=vlmi_ray.RayPool(...) instead"
            )
        return executor, dataset_name
    from .._extensions import executor_type
    from .._install_hints import distribution_for_executor

    warnings.warn(
        "vlmi.run(ray=..., replicas=...) is deprecated: use "
        "executor=vlmi_ray.RayPool(address, replicas=..., gpus_per_replica=...) "
        f"(pip install {distribution_for_executor('ray')})",
        DeprecationWarning,
        stacklevel=3,
    )
    if executor is not None:
        raise InvalidOptionError("pass either executor= or ray=..., not both")

    ray = given.pop("ray")
    return executor_type("ray").create(address=None if ray is True else str(ray), **given), (
        dataset_name
    )


__all__ = ["RunConfigMismatchError", "RunSummary", "run"]
