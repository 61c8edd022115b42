"""A stand-in for LMDeploy's GPU engine, so the rest of LMDeploy's pipeline runs on a CPU.

LMDeploy's ``pipeline`` builds its inference engine (TurboMind, or the
PyTorch engine) in ``AsyncEngine._build_turbomind`` / ``_build_pytorch``;
both need CUDA. :func:`scripted_engine` replaces those two builders with a
:class:`ScriptedEngine` and leaves the rest real: prompt formatting, the chat
template, image loading and InternVL tiling, token counting, the
``session_len`` check, ``GenerationConfig`` resolution, request scheduling,
detokenising and ``Response`` objects.

The scripted engine behaves as a real one does at its interface: it records
each request (input ids, multimodal items, resolved GenerationConfig),
emits the reply's tokens, stops at the first id in ``stop_token_ids`` (unless
``ignore_eos``) or after ``max_new_tokens``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: reply(request) -> text the scripted model "generates" (then end-of-turn, then filler)
Reply = Callable[["Request"], str]


@dataclass
class Request:
    """What the engine received for one sample."""

    input_ids: list[int]
    multimodal: list[dict[str, Any]] | None
    gen_config: Any

    @property
    def image_token_counts(self) -> list[int]:
        """Image tokens of each image, in order."""
        return [int(item["image_tokens"]) for item in self.multimodal or []]


def describe(request: Request) -> str:
    """Default reply: how many images and image tokens the request held."""
    counts = request.image_token_counts
    return f"{len(counts)} images {'+'.join(map(str, counts)) or '0'} tokens"


@dataclass
class ScriptedEngine:
    """Stands in for ``TurboMind`` / the PyTorch ``Engine`` (create_instance, engine_config).

    ``stopped``: answer every request as a stopped engine does (``ENGINE_STOP_ERROR``).
    """

    engine_config: Any
    tokenizer: Any
    reply: Reply = describe
    requests: list[Request] = field(default_factory=list)
    end_of_turn: str = "<|im_end|>"
    stopped: bool = False

    def __post_init__(self) -> None:
        # a real engine fills max_batch_size in from the GPU it finds (128 on "other" GPUs)
        if self.engine_config.max_batch_size is None:
            self.engine_config.max_batch_size = 128

    def create_instance(self) -> _Instance:
        return _Instance(self)

    def close(self) -> None:
        pass

    def tokens_for(self, request: Request) -> list[int]:
        """Reply tokens, end of turn, then filler a real engine would never reach."""
        text = self.reply(request)
        ids = list(self.tokenizer.encode(text, add_bos=False))
        vocab = self.tokenizer.get_vocab()
        if self.end_of_turn in vocab:
            ids.append(vocab[self.end_of_turn])
        return ids + list(self.tokenizer.encode(" filler after the end", add_bos=False))


@dataclass
class _Instance:
    engine: ScriptedEngine

    async def async_stream_infer(
        self,
        session_id: int,
        input_ids: list[int],
        gen_config: Any = None,
        multimodal: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> AsyncIterator[Any]:
        from lmdeploy.messages import EngineOutput, ResponseType

        request = Request(list(input_ids), multimodal, gen_config)
        self.engine.requests.append(request)
        if self.engine.stopped:
            yield EngineOutput(ResponseType.ENGINE_STOP_ERROR, [])
            return
        stop = set() if gen_config.ignore_eos else set(gen_config.stop_token_ids or [])
        out: list[int] = []
        for token in self.engine.tokens_for(request)[: gen_config.max_new_tokens]:
            out.append(token)
            if token in stop:
                break
        yield EngineOutput(ResponseType.FINISH, out)

    async def async_cancel(self, session_id: int) -> None:
        pass

    async def async_end(self, session_id: int) -> None:
        pass


@contextlib.contextmanager
def scripted_engine(reply: Reply = describe) -> Iterator[list[ScriptedEngine]]:
    """Within the block, ``lmdeploy.pipeline`` builds :class:`ScriptedEngine` engines.

    Yields the list of engines built, so tests can read their ``requests``.
    """
    from lmdeploy.serve.core.async_engine import AsyncEngine
    from lmdeploy.tokenizer import Tokenizer

    built: list[ScriptedEngine] = []

    def build(self: Any, model_path: str, backend_config: Any = None, **_: Any) -> ScriptedEngine:
        engine = ScriptedEngine(backend_config, Tokenizer(model_path), reply)
        built.append(engine)
        return engine

    saved = AsyncEngine._build_pytorch, AsyncEngine._build_turbomind
    AsyncEngine._build_pytorch = build  # type: ignore[method-assign]
    AsyncEngine._build_turbomind = build  # type: ignore[method-assign]
    try:
        yield built
    finally:
        AsyncEngine._build_pytorch, AsyncEngine._build_turbomind = saved  # type: ignore[method-assign]


__all__ = ["Request", "ScriptedEngine", "describe", "scripted_engine"]
