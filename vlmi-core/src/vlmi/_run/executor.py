"""Where ``vlmi run`` answers its records: the executor protocol.

The run itself (:func:`vlmi.run`) reads the input, resumes from the output,
skips what is done, writes every record and sums up; an executor only turns
the records still to answer into answers. :class:`~vlmi._run.local.LocalExecutor`
answers in this process; an extension (``vlmi-ray``) registers others
through the ``register_executors`` hook, with the ``vlmi run`` flags that
choose them.
"""

from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._generation import GenerationOptions
from .._model import Model
from .._record import Record
from .output import Answer


@dataclass(frozen=True)
class RunJob:
    """What an executor is given: the model, the records still to answer and how.

    :param model: the model the run is for: loaded when the executor answers in this
        process (:attr:`Executor.loads_model`), else described (options checked, no engine).
    :param records: the records still to answer, in input order (ids already in the
        output are left out).
    :param base: the run's generation options (a record's own options are merged in).
    :param batch_size: the run's chunk: samples handed to the model at once (the
        ``batch_size`` given to the run, or the model's ``preferred_batch_size``).
    :param output: the output file (for messages such as how to resume).
    :param load_name: the name that loads the model again elsewhere (what the user gave
        ``vlmi.run``: a name, a hub id or a folder), with the model's options.
    """

    model: Model[Any]
    records: Iterator[Record]
    base: GenerationOptions
    batch_size: int
    output: Path
    load_name: str = ""

    @property
    def model_name(self) -> str:
        """``load_name``, or the model's canonical name."""
        return self.load_name or self.model.name


class Executor(ABC):
    """Answers a run's records. Subclass it, or use the local one (the default)."""

    #: ``True``: the run loads the model here (``vlmi.load``) and passes it in the job;
    #: ``False``: it only describes it (no engine starts here; answers come from elsewhere).
    loads_model: bool = True

    @abstractmethod
    def answer(self, job: RunJob) -> Iterator[list[Answer]]:
        """Batches of answers, as they are ready (in any order; each record answered once).

        A sample that fails is an :class:`Answer` with its ``error``; an exception
        raised here stops the run (the answers so far are kept, and a rerun resumes).
        """


@dataclass(frozen=True)
class ExecutorType:
    """An executor a distribution adds to ``vlmi run`` (through ``register_executors``).

    :param name: its name, e.g. ``"ray"`` (also its option group's title).
    :param distribution: the distribution that provides it (for messages).
    :param create: builds the executor from keyword arguments (Python API).
    :param add_arguments: adds its flags to ``vlmi run``'s parser (an argument group).
    :param from_arguments: the executor the parsed flags ask for, or ``None`` when
        they do not ask for this one.
    :param description: one line shown above its flags.
    """

    name: str
    create: Callable[..., Executor]
    add_arguments: Callable[[Any], None]
    from_arguments: Callable[[argparse.Namespace], Executor | None]
    description: str = ""
    distribution: str = ""


__all__ = ["Executor", "ExecutorType", "RunJob"]
