"""InternVL2 through LMDeploy: one ``pipeline`` call per batch, LMDeploy batches continuously.

:meth:`InternVL2Model.setup` checks for CUDA and builds ``lmdeploy.pipeline``
(see engine_config for every argument); :meth:`InternVL2Model.attach` takes
any started pipeline. Everything else, the conversations, ``GenerationConfig``
objects, results in order and errors in their slots, is plain Python that
the CPU tests run through LMDeploy's real pipeline with only its GPU engine
replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vlmi.errors import (
    EngineGoneError,
    EngineOutOfMemoryError,
    EngineUnavailableError,
    GenerationError,
    InvalidOptionError,
    InvalidSampleError,
    VlmiError,
)
from vlmi.plugin import (
    BatchedModel,
    EngineOptions,
    GenerationOptions,
    Sample,
    is_out_of_memory,
    progress_shown,
    require_cuda,
    resolve_weights,
    run_chunked,
)
from vlmi_internvl2.engine_config import (
    finish_text,
    generation_config,
    import_lmdeploy,
    pipeline_kwargs,
)
from vlmi_internvl2.prompts import (
    DEFAULT_MAX_DYNAMIC_PATCH,
    END_OF_TURN_TOKENS,
    SYSTEM_PROMPT,
    build_messages,
    stop_token_ids,
    tile_cap,
)
from vlmi_internvl2.startup import lmdeploy_error_lines, require_turbomind, startup_check_error

#: a conversation ready for LMDeploy: (input position, messages, GenerationConfig, options)
Ready = tuple[int, list[dict[str, Any]], Any, GenerationOptions]


#: the smallest ``max_batch_size`` LMDeploy chooses on a CUDA GPU when none is given
LMDEPLOY_MIN_CUDA_BATCH = 128


@dataclass(frozen=True)
class InternVL2Options(EngineOptions):
    """LMDeploy engine options of ``vlmi.load`` (engine_config.py has the mapping).

    :param max_dynamic_patch: most 448x448 tiles per image (InternVL2's default 12).
    :param max_image_pixels: the most pixels an image may keep after the
        model's own resizing (None: the model's default): in place of
        ``max_dynamic_patch``, ``max_image_pixels // 448**2`` tiles.
    :param max_video_pixels: the most pixels each sampled video frame may keep:
        larger frames are shrunk (aspect ratio kept) before LMDeploy tiles them.
    :param mm_processor_kwargs: LMDeploy's own per-image preprocessing
        parameters, for experts (``{"max_dynamic_patch": n}``).
    :param max_total_tiles: tiles one sample's images share; with several
        images each gets ``max_total_tiles // n`` (at least 1).
    :param system_prompt: the system turn ("" for none).
    :param batch_size: most samples per pipeline call; bounds host memory for
        decoded images and pixel tensors, LMDeploy schedules within the call.
    :param distributed_executor_backend: the PyTorch engine's executor for
        tp > 1 (``"uni"``, ``"mp"``, ``"ray"``); None: ``"mp"`` (engine_config).
    """

    backend: str = "turbomind"
    tp: int = 1
    session_len: int | None = None
    cache_max_entry_count: float = 0.8
    max_batch_size: int | None = None
    dtype: str = "auto"
    vision_max_batch_size: int = 16
    max_dynamic_patch: int = DEFAULT_MAX_DYNAMIC_PATCH
    max_total_tiles: int = 24
    max_image_pixels: int | None = None
    max_video_pixels: int | None = None
    mm_processor_kwargs: dict[str, Any] | None = None
    system_prompt: str = SYSTEM_PROMPT
    batch_size: int = 512
    distributed_executor_backend: str | None = None

    def __post_init__(self) -> None:
        for name in ("tp", "vision_max_batch_size", "max_dynamic_patch", "max_total_tiles"):
            if getattr(self, name) < 1:
                raise InvalidOptionError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("session_len", "max_batch_size", "max_video_pixels"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InvalidOptionError(f"{name} must be >= 1 or None, got {value}")
        if self.batch_size < 1:
            raise InvalidOptionError(f"batch_size must be >= 1, got {self.batch_size}")
        expert = self.mm_processor_kwargs
        if expert is not None and not isinstance(expert, dict):
            raise InvalidOptionError(
                "mm_processor_kwargs must be a dict of LMDeploy's per-image parameters "
                f"(e.g. {{'max_dynamic_patch': 6}}), got {expert!r}"
            )
        tile_cap(self.max_dynamic_patch, self.max_image_pixels, expert)  # one of three, valid

    @property
    def tiles_per_image(self) -> int:
        """Most tiles one image may use (max_image_pixels, max_dynamic_patch or the expert's)."""
        return tile_cap(self.max_dynamic_patch, self.max_image_pixels, self.mm_processor_kwargs)


class InternVL2Model(BatchedModel[InternVL2Options]):
    """An InternVL2 model on LMDeploy (TurboMind or the PyTorch engine)."""

    Options = InternVL2Options
    pipe: Any = None
    stop_ids: list[int]
    end_strings: tuple[str, ...] = END_OF_TURN_TOKENS

    def pipeline_kwargs(self, folder: str) -> dict[str, Any]:
        """The ``lmdeploy.pipeline`` keyword arguments this model is built with."""
        return pipeline_kwargs(folder, self.engine_options, self.spec.max_images)

    @property
    def preferred_batch_size(self) -> int:
        """``max_batch_size`` when set, else 128: the smallest batch LMDeploy picks for a CUDA
        GPU when left to choose (128 to 1024 by GPU), so a run's chunk keeps it busy."""
        return self.engine_options.max_batch_size or LMDEPLOY_MIN_CUDA_BATCH

    def setup(self) -> None:
        """Check for CUDA, find the weights, start the LMDeploy pipeline."""
        _require_cuda()
        folder = resolve_weights(self.spec, self.options.weights)
        self.attach(self.start_pipeline(folder))

    def start_pipeline(self, folder: str) -> Any:
        """``lmdeploy.pipeline`` for a weights folder, with load failures made plain.

        A missing TurboMind module, a failed start-up check (``SystemExit``
        inside LMDeploy) and running out of GPU memory become typed errors
        that name the fix (startup.py).
        """
        kwargs = self.pipeline_kwargs(folder)
        lmdeploy = import_lmdeploy()
        backend = self.engine_options.backend
        if backend == "turbomind":
            require_turbomind()
        with lmdeploy_error_lines() as logged:
            try:
                return lmdeploy.pipeline(**kwargs)
            except SystemExit as exc:
                config = kwargs["backend_config"]
                raise startup_check_error(logged, folder, config, backend) from exc
            except Exception as exc:
                self._raise_load_failure(exc, kwargs)
                raise

    def _raise_load_failure(self, exc: Exception, kwargs: dict[str, Any]) -> None:
        """Raise the typed error for a failure of ``lmdeploy.pipeline`` that has one."""
        if not _is_out_of_memory(exc):
            return
        config = kwargs["backend_config"]
        raise EngineOutOfMemoryError(
            f"LMDeploy ran out of GPU memory loading {self.name}: raise tp (now "
            f"{config.tp}) to spread it over more GPUs, lower session_len (now "
            f"{config.session_len}) or cache_max_entry_count (now "
            f"{config.cache_max_entry_count}), or free the GPU"
        ) from exc

    def attach(self, pipe: Any) -> None:
        """Use a started pipeline (``lmdeploy.Pipeline`` or one with its call and tokenizer)."""
        self.pipe = pipe
        tokenizer = pipe.async_engine.tokenizer
        self.tokenizer = tokenizer
        self.session_len = pipe.async_engine.session_len
        self.stop_ids = stop_token_ids(tokenizer.get_vocab(), tokenizer.eos_token_id)

    def generate_batch(
        self, samples: Sequence[Sample], generations: Sequence[GenerationOptions]
    ) -> list[str | BaseException]:
        """One pipeline call per ``batch_size`` samples, with a GenerationConfig per sample."""
        if self.pipe is None:
            raise EngineUnavailableError(
                f"{self.name} is closed or was never set up; load it again with vlmi.load"
            )
        options = self.engine_options
        results: list[str | BaseException] = []
        ready: list[Ready] = []
        for index, (sample, generation) in enumerate(zip(samples, generations)):
            try:
                messages = build_messages(
                    sample,
                    options.system_prompt,
                    options.tiles_per_image,
                    options.max_total_tiles,
                )
                config = generation_config(generation, self.stop_ids, self._encode)
            except Exception as exc:
                results.append(exc)
                continue
            results.append(GenerationError("not answered"))
            ready.append((index, messages, config, generation))
        answers = run_chunked(
            ready,
            self._run,
            batch_size=options.batch_size,
            is_out_of_memory=_is_out_of_memory,
            oom_hint="lower max_total_tiles / max_dynamic_patch or session_len, or raise tp",
            label=self.name,
            map_error=self.map_error,
        )
        for (index, _, _, _), answer in zip(ready, answers):
            mapped = self.map_error(answer) if isinstance(answer, BaseException) else None
            results[index] = _plain_failure(mapped or answer)
        return results

    def map_error(self, exc: BaseException) -> VlmiError | None:
        """LMDeploy's "engine unavailable" (its engine stopped) as ``EngineGoneError``.

        LMDeploy raises, or answers a request with, a ``RequestError`` whose
        code is ``engine_unavailable`` when its engine is stopped or its
        session handler gone.
        """
        code = getattr(exc, "code", None)
        if getattr(code, "value", code) == ENGINE_UNAVAILABLE:
            return _engine_gone(self.name, getattr(exc, "message", None) or str(exc))
        return None

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_bos=False, add_special_tokens=False))

    def _run(self, chunk: list[Ready]) -> list[str | BaseException]:
        responses = self.pipe(
            [messages for _, messages, _, _ in chunk],
            gen_config=[config for _, _, config, _ in chunk],
            use_tqdm=len(chunk) > 1 and not progress_shown(),
        )
        return [
            self._answer(response, generation)
            for (_, _, _, generation), response in zip(chunk, responses)
        ]

    def _answer(self, response: Any, generation: GenerationOptions) -> str | BaseException:
        if response.finish_reason != "error":
            return finish_text(response.text, generation, self.end_strings)
        code = getattr(response, "error_code", None)
        message = getattr(response, "error_message", None) or code
        if code == "context_length_exceeded":
            return InvalidSampleError(
                f"the prompt ({response.input_token_len or 'too many'} tokens) does not fit "
                f"session_len={self.session_len}: raise session_len, or lower max_total_tiles / "
                f"max_dynamic_patch (LMDeploy: {message})"
            )
        if code in ("invalid_request", "preprocess_failed"):
            return InvalidSampleError(f"LMDeploy refused this sample: {message}")
        if code == ENGINE_UNAVAILABLE:
            return _engine_gone(self.name, message)
        return GenerationError(f"LMDeploy failed on this sample: {message}")

    def close(self) -> None:
        """Shut the pipeline down and free the GPU."""
        pipe, self.pipe = self.pipe, None
        if pipe is not None and hasattr(pipe, "close"):
            pipe.close()


#: LMDeploy's error code for a stopped engine (``lmdeploy.serve.core.exceptions.ErrorCode``)
ENGINE_UNAVAILABLE = "engine_unavailable"


def _engine_gone(name: str, message: object) -> EngineGoneError:
    return EngineGoneError(
        f"LMDeploy's engine for {name} is unavailable ({message}); see the log above for the "
        "cause, then load the model again"
    )


def _plain_failure(answer: str | BaseException) -> str | BaseException:
    """An engine exception of this sample's own, said as LMDeploy's failure on it."""
    if isinstance(answer, (str, VlmiError)):
        return answer
    failure = GenerationError(f"LMDeploy failed on this sample: {answer}")
    failure.__cause__ = answer
    return failure


def _require_cuda() -> None:
    require_cuda("LMDeploy runs InternVL2")


def _is_out_of_memory(exc: BaseException) -> bool:
    return is_out_of_memory(exc)


__all__ = ["InternVL2Model", "InternVL2Options"]
