"""vlmi's generation options mapped onto the engine's own parameters (one meaning everywhere)."""

from __future__ import annotations

from typing import Any

from vlmi.errors import InvalidOptionError
from vlmi.plugin import GenerationOptions


def engine_params(options: GenerationOptions) -> dict[str, Any]:
    """The engine's sampling parameters for ``options``; refuse what it cannot honour."""
    if options.top_k is not None and options.top_k > 100:
        raise InvalidOptionError(f"the demo engine takes top_k <= 100, got {options.top_k}")
    return {
        "max_tokens": options.max_new_tokens,
        "temperature": options.temperature,  # 0 = greedy
        "top_p": options.top_p,
        "top_k": options.top_k or 0,
        "seed": options.seed,
    }


__all__ = ["engine_params"]
