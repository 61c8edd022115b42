"""vlmi generation options mapped onto ``transformers.GenerationConfig`` fields.

The mapping is complete on purpose: every sampling field is set, so the
checkpoint's ``generation_config.json`` (Qwen's, for instance, samples with
``top_k=1`` and ``repetition_penalty=1.05``) never changes what a vlmi option
means. Only its token ids (eos, pad, bos) are kept.

==================  ================================================
vlmi                GenerationConfig
==================  ================================================
``max_new_tokens``  ``max_new_tokens``
``temperature=0``   ``do_sample=False`` (greedy), ``num_beams=1``, no sampling fields
``temperature>0``   ``do_sample=True``, ``temperature``
``top_p``           ``top_p`` (sampling only)
``top_k``           ``top_k`` (None -> 0, off; sampling only)
``seed``            ``torch.manual_seed(seed)`` before each ``generate`` call
``stop``            a stopping criterion on the new text (stopping.py), then the
                    text cut at the first stop string
(always)            ``repetition_penalty=1.0``, ``min_p=None``, ``num_return_sequences=1``
==================  ================================================
"""

from __future__ import annotations

from typing import Any

from vlmi.plugin import GenerationOptions


def generation_kwargs(options: GenerationOptions) -> dict[str, Any]:
    """The GenerationConfig fields for ``options`` (all sampling fields set)."""
    fields: dict[str, Any] = {
        "max_new_tokens": options.max_new_tokens,
        "num_beams": 1,
        "num_return_sequences": 1,
        "repetition_penalty": 1.0,
        "min_p": None,
        "stop_strings": None,  # matched in the answer only, by stopping.StopStringsInAnswer
    }
    if options.greedy:
        # sampling fields unset: greedy ignores them (and Transformers warns if they are set)
        fields.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    else:
        fields.update(
            do_sample=True,
            temperature=options.temperature,
            top_p=options.top_p,
            top_k=options.top_k or 0,
        )
    return fields


def build_generation_config(base: Any, options: GenerationOptions) -> Any:
    """A copy of the model's GenerationConfig ``base`` with ``options`` applied."""
    import copy

    config = copy.deepcopy(base)
    config.update(**generation_kwargs(options))
    return config


__all__ = ["build_generation_config", "generation_kwargs"]
