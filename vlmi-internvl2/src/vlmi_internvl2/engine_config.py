"""vlmi options mapped onto LMDeploy: engine configs, ``pipeline`` arguments, ``GenerationConfig``.

``lmdeploy.pipeline(**pipeline_kwargs(...))``:

==========================  =====================================================
vlmi                        LMDeploy
==========================  =====================================================
weights folder              ``model_path``
``backend``                 ``backend_config``: ``TurbomindEngineConfig`` or
                            ``PytorchEngineConfig``, always explicit (no silent
                            fallback); InternVL2-4B defaults to ``pytorch``
``tp``                      ``backend_config.tp``
``session_len``             ``backend_config.session_len``; None = the worst
                            case image tokens of a sample + 4096
``cache_max_entry_count``   ``backend_config.cache_max_entry_count``
``max_batch_size``          ``backend_config.max_batch_size`` (None = LMDeploy's
                            choice for the GPU)
``dtype``                   ``backend_config.dtype``
``distributed_executor_``   ``backend_config.distributed_executor_backend``
``backend``                 (PyTorch engine only); None with tp > 1: ``"mp"``
                            (LMDeploy would pick ray, and exit where ray is
                            not installed), unless ``LMDEPLOY_EXECUTOR_BACKEND``
                            is set
``vision_max_batch_size``   ``vision_config=VisionConfig(max_batch_size=...)``
(always)                    ``trust_remote_code=True`` (InternVL2 ships its code)
(always)                    ``chat_template_config=ChatTemplateConfig("hf")``:
                            the checkpoint's own template, never one LMDeploy
                            guesses from words in the folder name
``max_dynamic_patch``,      per image ``image_url.max_dynamic_patch`` (see
``max_total_tiles``         prompts.py)
``max_image_pixels``        in place of ``max_dynamic_patch``:
                            ``max_image_pixels // 448**2`` tiles per image
                            (below one tile: refused)
``mm_processor_kwargs``     LMDeploy's per-image parameters; only
                            ``max_dynamic_patch`` (of the three, give one)
==========================  =====================================================

``GenerationConfig(**generation_kwargs(...))`` (greedy unless temperature > 0;
LMDeploy forces greedy whenever ``do_sample`` is False):

==================  ============================================================
vlmi                LMDeploy
==================  ============================================================
``max_new_tokens``  ``max_new_tokens``
``temperature``     0: ``do_sample=False``; > 0: ``do_sample=True``, ``temperature``
``top_p``           ``top_p``
``top_k``           ``top_k`` (None -> 0, all tokens)
``seed``            ``random_seed`` (used when sampling)
``stop``            one-token strings: ``stop_words`` with
                    ``include_stop_str_in_output`` (LMDeploy matches tokens,
                    not text); every stop string: vlmi cuts the answer
                    before the first one
(always)            ``stop_token_ids`` = end-of-turn ids (prompts.py),
                    ``repetition_penalty=1.0``, ``min_p=0``, ``n=1``
==================  ============================================================
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from vlmi.errors import InvalidOptionError
from vlmi.plugin import GenerationOptions
from vlmi_internvl2.prompts import worst_image_tokens

BACKENDS = ("turbomind", "pytorch")
DTYPES = ("auto", "bfloat16", "float16")
EXECUTORS = ("uni", "mp", "ray")
TEXT_BUDGET = 4096


def import_lmdeploy() -> Any:
    """``import lmdeploy``, then undo its one global side effect that reaches vlmi.

    ``lmdeploy.vl.media.image`` sets ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES =
    True`` when imported, after which Pillow decodes a truncated file into a
    half-grey picture without a word. vlmi decodes every image itself and
    hands LMDeploy the pictures, so it turns the flag back off: a truncated
    file stays an ImageDecodeError in its slot.
    """
    import lmdeploy
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return lmdeploy


def session_len(options: Any, max_images: int | None) -> int:
    """The session length: the option, or room for the worst sample plus TEXT_BUDGET tokens."""
    if options.session_len is not None:
        return int(options.session_len)
    images = worst_image_tokens(max_images or 1, options.tiles_per_image, options.max_total_tiles)
    return images + TEXT_BUDGET


def backend_config(options: Any, max_images: int | None) -> Any:
    """A real ``TurbomindEngineConfig`` or ``PytorchEngineConfig`` (LMDeploy validates it)."""
    lmdeploy = import_lmdeploy()
    if options.backend not in BACKENDS:
        raise InvalidOptionError(f"backend must be one of {BACKENDS}, got {options.backend!r}")
    if options.dtype not in DTYPES:
        raise InvalidOptionError(f"dtype must be one of {DTYPES}, got {options.dtype!r}")
    if not 0.0 < options.cache_max_entry_count < 1.0:
        raise InvalidOptionError(
            f"cache_max_entry_count must be in (0, 1), got {options.cache_max_entry_count}"
        )
    kwargs = {
        "tp": options.tp,
        "session_len": session_len(options, max_images),
        "cache_max_entry_count": options.cache_max_entry_count,
        "dtype": options.dtype,
    }
    if options.max_batch_size is not None:  # unset: LMDeploy sizes it for the GPU it finds
        kwargs["max_batch_size"] = options.max_batch_size
    executor = executor_backend(options)
    if executor is not None:
        kwargs["distributed_executor_backend"] = executor
    cls = (
        lmdeploy.TurbomindEngineConfig
        if options.backend == "turbomind"
        else lmdeploy.PytorchEngineConfig
    )
    try:
        return cls(**kwargs)
    except (ValueError, AssertionError) as exc:
        raise InvalidOptionError(f"LMDeploy rejects these engine options: {exc}") from exc


def executor_backend(options: Any) -> str | None:
    """``distributed_executor_backend`` of the PyTorch engine: the user's, or ``"mp"`` for tp > 1.

    Left alone, LMDeploy 0.18 runs tp > 1 on CUDA through ray and exits
    ("Multi-nodes support requires `ray`") where ray is not installed. vlmi
    runs on one node, so it asks for LMDeploy's multiprocessing executor
    instead, unless the option or ``LMDEPLOY_EXECUTOR_BACKEND`` chose one.
    """
    chosen = options.distributed_executor_backend
    if chosen is not None and chosen not in EXECUTORS:
        raise InvalidOptionError(
            f"distributed_executor_backend must be one of {EXECUTORS} or None, got {chosen!r}"
        )
    if options.backend != "pytorch":
        if chosen is not None:
            raise InvalidOptionError(
                "distributed_executor_backend applies to backend='pytorch' only "
                f"(TurboMind runs tp={options.tp} itself); drop it or pass backend='pytorch'"
            )
        return None
    if chosen is not None:
        return str(chosen)
    if options.tp > 1 and not os.environ.get("LMDEPLOY_EXECUTOR_BACKEND"):
        return "mp"
    return None


def vision_config(options: Any) -> Any:
    """``VisionConfig``: images per vision-encoder batch (LMDeploy's default is 1)."""
    return import_lmdeploy().VisionConfig(max_batch_size=options.vision_max_batch_size)


def pipeline_kwargs(folder: str, options: Any, max_images: int | None) -> dict[str, Any]:
    """Keyword arguments of ``lmdeploy.pipeline``."""
    template = import_lmdeploy().ChatTemplateConfig(model_name="hf", model_path=folder)
    return {
        "model_path": folder,
        "chat_template_config": template,
        "backend_config": backend_config(options, max_images),
        "vision_config": vision_config(options),
        "trust_remote_code": True,
        "log_level": "WARNING",
    }


def generation_kwargs(
    options: GenerationOptions, stop_ids: Sequence[int], stop_words: Sequence[str] = ()
) -> dict[str, Any]:
    """Keyword arguments of ``lmdeploy.GenerationConfig``: every field that matters is set.

    ``stop_words`` are the stop strings LMDeploy itself watches for (single
    tokens); the others are cut from the text afterwards (:func:`finish_text`).
    """
    sampling = not options.greedy
    return {
        "n": 1,
        "max_new_tokens": options.max_new_tokens,
        "do_sample": sampling,
        "temperature": options.temperature if sampling else 1.0,
        "top_p": options.top_p if sampling else 1.0,
        "top_k": (options.top_k or 0) if sampling else 1,
        "min_p": 0.0,
        "repetition_penalty": 1.0,
        "random_seed": options.seed if sampling else None,
        "stop_words": list(stop_words) or None,
        "include_stop_str_in_output": bool(stop_words),
        "stop_token_ids": list(stop_ids),
        "skip_special_tokens": True,
    }


def engine_stop_words(stop: Sequence[str], encode: Any) -> list[str]:
    """The stop strings LMDeploy can watch for itself: those that are one token.

    LMDeploy matches stop words as token ids and drops a longer one with only
    a warning, so those are left to :func:`finish_text`: the answer is the
    same, LMDeploy just generates on to the end of the turn or
    ``max_new_tokens`` before vlmi cuts it.
    """
    return [word for word in stop if len(encode(word)) == 1]


def generation_config(
    options: GenerationOptions, stop_ids: Sequence[int], encode: Any = None
) -> Any:
    """A real ``lmdeploy.GenerationConfig`` (LMDeploy checks the ranges)."""
    lmdeploy = import_lmdeploy()
    words = engine_stop_words(options.stop, encode) if options.stop and encode else []
    try:
        return lmdeploy.GenerationConfig(**generation_kwargs(options, stop_ids, words))
    except (AssertionError, ValueError) as exc:
        detail = str(exc) or "a value is out of LMDeploy's range (temperature must be <= 2)"
        raise InvalidOptionError(
            f"LMDeploy cannot honour these generation options: {detail}"
        ) from exc


def finish_text(text: str, options: GenerationOptions, end_strings: Sequence[str]) -> str:
    """The answer: cut before the first stop string; an end-of-turn token's text removed."""
    text = options.cut_at_stop(text)
    for end in end_strings:
        if text.endswith(end):
            return text[: -len(end)]
    return text


__all__ = [
    "BACKENDS",
    "DTYPES",
    "EXECUTORS",
    "backend_config",
    "engine_stop_words",
    "executor_backend",
    "finish_text",
    "generation_config",
    "generation_kwargs",
    "import_lmdeploy",
    "pipeline_kwargs",
    "session_len",
    "vision_config",
]
