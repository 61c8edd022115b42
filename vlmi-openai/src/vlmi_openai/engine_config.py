"""vlmi's generation options as chat-completions parameters.

=================  ============================================================
vlmi               sent as
=================  ============================================================
``max_new_tokens``  ``max_completion_tokens`` (or ``max_tokens``, engine option
                    ``max_tokens_param``, for servers that know only the older name)
``temperature``     ``temperature`` (0 = greedy)
``top_p``           ``top_p`` (left out at 1.0, the API's default)
``top_k``           ``top_k`` in the request body where the server takes it
                    (``send_top_k=True``: vLLM, SGLang, ``vlmi serve``); the
                    OpenAI API has none, so otherwise an ``InvalidOptionError``
``seed``            ``seed``
``stop``            ``stop`` (at most 4 strings, the API's limit)
=================  ============================================================
"""

from __future__ import annotations

from typing import Any

from vlmi.errors import InvalidOptionError
from vlmi.plugin import GenerationOptions

#: the most stop strings the chat-completions API takes
MAX_STOP_STRINGS = 4
#: the names the token limit may be sent under
TOKEN_LIMIT_PARAMS = ("max_completion_tokens", "max_tokens")


def api_params(
    generation: GenerationOptions,
    *,
    max_tokens_param: str = "max_completion_tokens",
    send_top_k: bool = False,
) -> dict[str, Any]:
    """Keyword arguments of ``chat.completions.create`` for one sample's options."""
    if max_tokens_param not in TOKEN_LIMIT_PARAMS:
        raise InvalidOptionError(
            f"max_tokens_param must be one of {TOKEN_LIMIT_PARAMS}, got {max_tokens_param!r}"
        )
    params: dict[str, Any] = {
        max_tokens_param: generation.max_new_tokens,
        "temperature": generation.temperature,
    }
    if generation.top_p != 1.0:
        params["top_p"] = generation.top_p
    if generation.seed is not None:
        params["seed"] = generation.seed
    if generation.stop:
        if len(generation.stop) > MAX_STOP_STRINGS:
            raise InvalidOptionError(
                f"the chat-completions API takes at most {MAX_STOP_STRINGS} stop strings, got "
                f"{len(generation.stop)}; keep the {MAX_STOP_STRINGS} that matter most"
            )
        params["stop"] = list(generation.stop)
    if generation.top_k is not None:
        if not send_top_k:
            raise InvalidOptionError(
                "top_k has no equivalent in the OpenAI chat-completions API; leave it unset "
                "(use top_p), or load the model with send_top_k=True for a server that takes "
                "it (vLLM, SGLang, vlmi serve)"
            )
        params["extra_body"] = {"top_k": generation.top_k}
    return params


__all__ = ["MAX_STOP_STRINGS", "TOKEN_LIMIT_PARAMS", "api_params"]
