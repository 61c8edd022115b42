"""Judge procedures run round by round, each round's requests sent concurrently.

A procedure is a generator for one row (or one group of rows): it yields a
:class:`Request`, receives the judge's reply (``None`` when the judge failed:
an error, or an empty answer) and finally returns its result. Each round
gathers the next request of every unfinished procedure; requests already in
the cache are answered from it, the others are sent ``concurrency`` at a time
(an API judge) or in batches (a local model), each answer cached as it comes.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from vlmi.errors import JudgeUnavailableError, VlmiError

from .._provenance import answered_by
from .._sample import Sample, TextPart
from .cache import AnswerCache, request_key
from .spec import JudgeSpec, base_url_host

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    """One question to the judge and its sampling settings."""

    prompt: str
    temperature: float = 0.0
    max_new_tokens: int = 2048

    def sampling(self) -> dict[str, Any]:
        """The generation options sent with the prompt (part of the cache key)."""
        return {"temperature": self.temperature, "max_new_tokens": self.max_new_tokens}


@dataclass
class Exchange:
    """What one procedure asked and was answered: ``(request, reply or None, note)``."""

    turns: list[tuple[Request, str | None, str]] = field(default_factory=list)


Procedure = Generator[Request, "str | None", T]


class JudgeModel:
    """The judge's model, loaded on first need and checked with one request.

    One per ``vlmi score`` call: the scorings of several prediction files share it,
    so the model loads once for all of them; :meth:`close` ends it.
    """

    def __init__(self, spec: JudgeSpec) -> None:
        self.spec = spec
        self.model: Any = None
        self.who: dict[str, Any] | None = None

    def load(self) -> Any:
        """The judge model, loaded and checked with one request on first use."""
        if self.model is not None:
            return self.model
        from .._api import load

        where = self.spec.options.get("base_url")
        hint = (
            f"check that the judge's endpoint {base_url_host(str(where))} runs and -J base_url= "
            "points at it"
            if where
            else "check --judge, --judge-plugin and -J options"
        )
        model = load(self.spec.name, plugin=self.spec.plugin, **dict(self.spec.options))
        (answer,) = model.eval_batch([_sample(Request("Hello!", 0.0, 16))])
        if isinstance(answer, VlmiError):
            model.close()
            raise JudgeUnavailableError(
                f"the judge {self.spec.name} did not answer before any row was judged "
                f"({type(answer).__name__}: {answer}); {hint}"
            )
        self.model = model
        self.who = _who(model)
        return model

    def describe(self) -> dict[str, Any]:
        """Who judges: plugin, engine, their versions, endpoint host (described without
        loading when nothing was sent)."""
        if self.who is None:
            from .._api import describe_model

            options = dict(self.spec.options)
            self.who = _who(describe_model(self.spec.name, plugin=self.spec.plugin, **options))
        return self.who

    def close(self) -> None:
        """Close the judge model (its threads and connections)."""
        if self.model is not None:
            self.model.close()
            self.model = None


class Judge(Generic[T]):
    """A vlmi model as a judge, its answers cached in ``cache_path``.

    ``model``: a judge model shared with other scorings (closed by its owner); without
    it the judge loads its own on first need, closed by :meth:`close`.
    """

    def __init__(
        self,
        spec: JudgeSpec,
        cache_path: Path,
        *,
        rejudge: bool = False,
        progress: bool = False,
        model: JudgeModel | None = None,
    ) -> None:
        self.spec = spec
        self.identity = spec.identity()
        self.cache = AnswerCache(cache_path, drop=rejudge)
        self.progress = progress
        self.shared = model is not None
        self.judge_model = model if model is not None else JudgeModel(spec)
        self.sent = 0
        self.cached = 0
        self._last: dict[str, Request] = {}

    def run(
        self, procedures: Mapping[str, Procedure[T]]
    ) -> tuple[dict[str, T], dict[str, Exchange]]:
        """Run every procedure to its end; their results and exchanges by label."""
        results: dict[str, T] = {}
        exchanges = {label: Exchange() for label in procedures}
        active: dict[str, Request] = {}
        for label, procedure in procedures.items():
            self._advance(label, procedure, None, active, results, first=True)
        while active:
            labels = list(active)
            replies = self.ask([active[label] for label in labels])
            active = {}
            for label, (reply, note) in zip(labels, replies):
                request = self._last[label]
                exchanges[label].turns.append((request, reply, note))
                self._advance(label, procedures[label], reply, active, results)
        return results, exchanges

    def _advance(
        self,
        label: str,
        procedure: Procedure[T],
        reply: str | None,
        active: dict[str, Request],
        results: dict[str, T],
        first: bool = False,
    ) -> None:
        try:
            request = next(procedure) if first else procedure.send(reply)
        except StopIteration as stop:
            results[label] = stop.value
            return
        active[label] = self._last[label] = request

    def ask(self, requests: list[Request]) -> list[tuple[str | None, str]]:
        """Each request's reply (None: the judge failed) and a note: cached, or the error."""
        keys = [request_key(self.identity, r.prompt, r.sampling()) for r in requests]
        missing: dict[str, Request] = {}
        for key, request in zip(keys, requests):
            if self.cache.get(key) is None:
                missing.setdefault(key, request)
        self.cached += len(set(keys)) - len(missing)
        errors = self._send(missing) if missing else {}
        out: list[tuple[str | None, str]] = []
        for key in keys:
            reply = self.cache.get(key)
            note = errors.get(key, "") if reply is None else ("" if key in missing else "cached")
            out.append((reply, note))
        return out

    def _send(self, missing: dict[str, Request]) -> dict[str, str]:
        """Ask the judge; answers go to the cache, failures come back as notes by key."""
        from tqdm import tqdm

        model = self.judge_model.load()
        errors: dict[str, str] = {}
        bar = tqdm(
            total=len(missing), desc="judge", unit="row", disable=not self.progress, file=sys.stderr
        )

        def settle(key: str, result: object) -> None:
            if isinstance(result, str) and result != "":
                self.cache.put(key, result)
            else:
                errors[key] = (
                    f"{type(result).__name__}: {result}" if result != "" else "empty answer"
                )
            bar.update(1)

        items = list(missing.items())
        concurrency = getattr(getattr(model, "engine_options", None), "concurrency", None)
        if isinstance(concurrency, int) and concurrency > 0:

            def one(item: tuple[str, Request]) -> None:
                (result,) = model.eval_batch([_sample(item[1])])
                settle(item[0], result)

            with ThreadPoolExecutor(concurrency, thread_name_prefix="vlmi-judge") as pool:
                list(pool.map(one, items))
        else:
            size = max(1, int(getattr(model, "preferred_batch_size", 16) or 16))
            for start in range(0, len(items), size):
                chunk = items[start : start + size]
                for (key, _), result in zip(
                    chunk, model.eval_batch([_sample(r) for _, r in chunk])
                ):
                    settle(key, result)
        bar.close()
        self.sent += len(items)
        return errors

    def record(self) -> dict[str, Any]:
        """Who judged, for the score file."""
        record: dict[str, Any] = {"name": self.spec.name} | self.judge_model.describe()
        record["options"] = self.spec.recorded_options()
        record["identity"] = self.identity  # what the cache keys on: compare it, not the rest
        return record

    def close(self) -> None:
        """Close the judge model, unless it is shared (its owner closes it)."""
        if not self.shared:
            self.judge_model.close()


def _who(model: Any) -> dict[str, Any]:
    where = getattr(model, "base_url", None)
    host = base_url_host(where if isinstance(where, str) else None)
    return answered_by(model.spec) | {"base_url_host": host}


def _sample(request: Request) -> Sample:
    return Sample(parts=(TextPart(request.prompt),), generation=request.sampling())


__all__ = ["Exchange", "Judge", "JudgeModel", "Procedure", "Request"]
