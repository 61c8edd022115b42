"""Stop strings matched in the answer only, as a Transformers ``StoppingCriteria``.

Transformers' own ``stop_strings`` match the end of the whole sequence,
prompt included: with a prompt that ends in ``"\\n"`` (every chat template's
``assistant\\n``), ``stop=["\\n\\n"]`` ends generation after a first ``"\\n"``
token, before the answer has said anything. Other engines (vLLM, LMDeploy)
look at the generated text only, and so does this criterion. It decodes only
the last few new tokens of each row at each step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import StoppingCriteria


class StopStringsInAnswer(StoppingCriteria):  # type: ignore[misc]
    """A row is done once its new text contains one of ``stops``."""

    def __init__(self, tokenizer: Any, stops: Sequence[str], prompt_length: int) -> None:
        if not stops:
            raise ValueError("no stop strings")
        self.tokenizer = tokenizer
        self.stops = tuple(stops)
        self.prompt_length = prompt_length
        # every token decodes to at least one byte and a character takes at most four, so a
        # stop string that the newest token completes lies within this many newest tokens
        self.window = 4 * max(len(stop) for stop in self.stops) + 1

    def __call__(
        self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any
    ) -> torch.Tensor:
        new_tokens = input_ids[:, self.prompt_length :]
        tails = new_tokens[:, -self.window :].tolist()
        texts = self.tokenizer.batch_decode(tails, skip_special_tokens=True)
        done = [any(stop in text for stop in self.stops) for text in texts]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


__all__ = ["StopStringsInAnswer"]
