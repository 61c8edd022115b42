"""Dynamic batching for ``vlmi serve``: concurrent requests become one ``eval_batch`` call.

Requests arrive one by one on the event loop. The batcher gathers them, up
to ``max_batch_size`` and waiting at most ``max_wait_s`` after the first,
and hands the gathered batch to the model in its one worker thread
(:meth:`vlmi.Model.answer_prepared`, the engine's batch path). While the
worker runs a batch, new requests keep gathering, so a busy engine gets
full batches. The event loop never waits on the model: each request awaits
only its own future, which gets that request's answer or error.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vlmi.errors import GenerationError, VlmiError

if TYPE_CHECKING:
    from vlmi.plugin import GenerationOptions, Model, Sample


@dataclass
class _Pending:
    sample: Sample
    generation: GenerationOptions
    future: asyncio.Future[str] = field(repr=False)


class DynamicBatcher:
    """Gathers requests into batches for one model; start it inside a running event loop."""

    def __init__(
        self, model: Model[Any], *, max_batch_size: int = 32, max_wait_s: float = 0.005
    ) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")
        if max_wait_s < 0:
            raise ValueError(f"max_wait_s must be >= 0, got {max_wait_s}")
        self.model = model
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        #: the size of every batch handed to the model, in order (for logs and tests)
        self.batch_sizes: list[int] = []
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vlmi-model")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start gathering (call from the event loop that will submit requests)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._gather_forever())

    async def stop(self) -> None:
        """Stop gathering; a batch already in the model finishes first."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(GenerationError("the server is shutting down"))
        await asyncio.get_running_loop().run_in_executor(None, self._worker.shutdown, True)

    async def submit(self, sample: Sample, generation: GenerationOptions) -> str:
        """The answer to one prepared sample (raises its :class:`~vlmi.errors.VlmiError`)."""
        if self._task is None:
            raise GenerationError("the batcher is not running")
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(sample, generation, future))
        return await future

    async def _gather_forever(self) -> None:
        while True:
            batch = await self._gather()
            # one batch at a time in the worker; the next one gathers meanwhile
            await self._run(batch)

    async def _gather(self) -> list[_Pending]:
        loop = asyncio.get_running_loop()
        batch = [await self._queue.get()]
        deadline = loop.time() + self.max_wait_s
        while len(batch) < self.max_batch_size:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except asyncio.TimeoutError:
                break
        return [p for p in batch if not p.future.done()]  # drop requests given up on

    async def _run(self, batch: list[_Pending]) -> None:
        if not batch:
            return
        self.batch_sizes.append(len(batch))
        samples = [p.sample for p in batch]
        generations = [p.generation for p in batch]
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(
                self._worker, self.model.answer_prepared, samples, generations
            )
        except Exception as exc:  # answer_prepared guards the plugin; this is a last resort
            failure = GenerationError(f"the model failed on this batch: {exc!r}")
            results = [failure] * len(batch)
        for pending, result in zip(batch, results):
            if pending.future.done():  # its deadline passed while the model ran
                continue
            if isinstance(result, VlmiError):
                result.sample_index = None  # the slot in a server batch means nothing to a client
                pending.future.set_exception(result)
            else:
                pending.future.set_result(result)


__all__ = ["DynamicBatcher"]
