"""The vlmi model class for Transformers-native VLMs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidOptionError
from vlmi.plugin import (
    BatchedModel,
    EngineOptions,
    EngineUnavailableError,
    GenerationOptions,
    Sample,
    resolve_weights,
    run_chunked,
)
from vlmi_transformers.engine import Engine, choose_placement, is_out_of_memory
from vlmi_transformers.prompts import length_key
from vlmi_transformers.resolution import check_processor_options
from vlmi_transformers.resolving import check_architecture, check_architecture_early


@dataclass(frozen=True)
class TransformersOptions(EngineOptions):
    """Engine options of ``vlmi.load`` for Transformers models.

    :param device: ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``.
    :param dtype: ``"auto"`` (bfloat16 on CUDA, float32 on CPU), ``"float32"``,
        ``"bfloat16"`` or ``"float16"``.
    :param batch_size: most samples in one ``generate`` call.
    :param attn_implementation: passed to ``from_pretrained`` (``"sdpa"``,
        ``"eager"``, ``"flash_attention_2"``, ...); None keeps Transformers' choice.
    :param cache_implementation: ``"auto"`` (static, compiled, on CUDA; dynamic
        on CPU), ``"dynamic"`` or ``"static"``.
    :param cache_len_multiple_of: with the static cache, its length (prompt
        plus new tokens) is rounded up to a multiple of this, so the compiled
        decoding step is reused across prompt lengths (default 64).
    :param compile: compile the decoding step with ``torch.compile``. None
        (default): when the cache is static on CUDA, as Transformers does;
        True: on any device (implies the static cache; a CPU needs a C++
        compiler); False: never (no compile time, slower decoding).
    :param max_image_pixels: the most pixels an image may keep after the
        model's own resizing (None: the model's default). Mapped onto each
        processor's own setting (Qwen-VL ``max_pixels``, InternVL
        ``max_patches``); refused with the reason where the processor cannot
        keep that few (see :mod:`vlmi_transformers.resolution`).
    :param max_video_pixels: the most pixels each sampled video frame may keep:
        larger frames are shrunk (aspect ratio kept) before the processor, which
        may shrink them further by its own rules (None: the frames as decoded).
    :param mm_processor_kwargs: the processor's own options, for experts,
        given to ``AutoProcessor.from_pretrained`` as vLLM gives its
        ``mm_processor_kwargs`` (e.g. ``{"max_patches": 6}`` for InternVL).
    """

    device: str = "auto"
    dtype: str = "auto"
    batch_size: int = 8
    attn_implementation: str | None = None
    cache_implementation: str = "auto"
    cache_len_multiple_of: int = 64
    compile: bool | None = None
    max_image_pixels: int | None = None
    max_video_pixels: int | None = None
    mm_processor_kwargs: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        check_processor_options(self.max_image_pixels, self.mm_processor_kwargs)
        if self.max_video_pixels is not None and self.max_video_pixels < 1:
            raise InvalidOptionError(f"max_video_pixels must be >= 1, got {self.max_video_pixels}")
        if self.batch_size < 1:
            raise InvalidOptionError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.cache_len_multiple_of < 1:
            raise InvalidOptionError(
                f"cache_len_multiple_of must be >= 1, got {self.cache_len_multiple_of}"
            )


class TransformersModel(BatchedModel[TransformersOptions]):
    """Any checkpoint ``AutoModelForImageTextToText`` loads, batched by ``generate``."""

    Options = TransformersOptions
    engine: Engine | None = None

    @property
    def preferred_batch_size(self) -> int:
        """The ``batch_size`` option (8): a run's chunk is one ``generate`` call."""
        return self.engine_options.batch_size

    def setup(self) -> None:
        """Check the architecture from ``config.json``, find the weights, load processor and model.

        A hub id is checked from its ``config.json`` alone before anything else
        is downloaded, so a checkpoint this plugin cannot run costs one small file.
        """
        opts = self.engine_options
        check_architecture_early(self.spec, self.options.weights, self.name)
        folder = Path(resolve_weights(self.spec, self.options.weights))
        self.model_type = check_architecture(folder, self.name)
        placement = choose_placement(
            opts.device,
            opts.dtype,
            opts.cache_implementation,
            opts.cache_len_multiple_of,
            opts.compile,
        )
        self.engine = Engine(
            folder,
            placement,
            opts.attn_implementation,
            processor_options=(opts.max_image_pixels, opts.mm_processor_kwargs),
            native_video=self.spec.video == "native",
        )
        self.folder = folder

    def _engine(self) -> Engine:
        if self.engine is None:
            raise EngineUnavailableError(
                f"{self.name} is closed or was never set up; load it again with vlmi.load"
            )
        return self.engine

    def generate_batch(
        self, samples: Sequence[Sample], generations: Sequence[GenerationOptions]
    ) -> list[str | BaseException]:
        """Batched ``generate`` calls of up to ``batch_size`` samples.

        One call takes one ``GenerationConfig``, so samples are grouped by
        their options, and sorted by prompt length within a group so little
        padding is wasted; vlmi's chunking retries failures one by one and
        shrinks chunks after an out-of-memory error.
        """
        engine = self._engine()

        def run_chunk(chunk: list[Request]) -> list[str]:
            return engine.generate([sample for sample, _ in chunk], chunk[0][1])

        return run_chunked(
            list(zip(samples, generations)),
            run_chunk,
            batch_size=self.engine_options.batch_size,
            group_by=lambda request: request[1],
            sort_by=lambda request: length_key(request[0]),
            is_out_of_memory=_out_of_memory,
            oom_hint=OOM_HINT,
            label=self.name,
        )

    def close(self) -> None:
        """Free the weights."""
        if self.engine is not None:
            self.engine.close()
            self.engine = None


#: one sample and its options, as the chunking helper hands them back
Request = tuple[Sample, GenerationOptions]
OOM_HINT = "lower max_new_tokens, use smaller or fewer images, or load with dtype='bfloat16'"


def _out_of_memory(exc: BaseException) -> bool:
    if not is_out_of_memory(exc):
        return False
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return True


__all__ = ["TransformersModel", "TransformersOptions"]
