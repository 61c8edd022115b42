"""Two engines, one answer: vlmi-vllm and vlmi-transformers on the same tiny float32 checkpoint.

Both are computed here, in one run (vlmi-transformers is in this session's
test dependencies): the greedy token ids vLLM generates (``outputs[0].token_ids``)
and those Transformers' ``generate`` gives, one sample at a time, for text
only, one image, three images and interleaved input. No ids are stored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import (
    ARCH_LOAD,
    REMOTE_CODE,
    SEVERAL_IMAGES_DIFFER,
    GenerateSpy,
    image_count,
    samples,
    transformers_model,
    transformers_token_ids,
)

MAX_NEW = 16
#: architectures whose answers differ between the engines, and why (none known today)
DIFFERENT: dict[str, str] = {}
#: architectures vlmi-transformers does not serve, and why
ONE_ENGINE = {
    "internvl_chat": "InternVLChatModel is remote code, which vlmi-transformers does not run"
}


def test_greedy_token_ids_equal_transformers(
    arch: str,
    model: Any,
    pictures: list[Path],
    spy: GenerateSpy,
    transformers_models: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if arch in REMOTE_CODE:
        pytest.skip("Transformers has no implementation of this architecture (remote code)")
    if arch in ONE_ENGINE:
        pytest.skip(ONE_ENGINE[arch])
    if arch in DIFFERENT:
        pytest.xfail(DIFFERENT[arch])
    batch = samples(pictures)
    if arch in SEVERAL_IMAGES_DIFFER:  # the prompts differ (test_engine checks that they do)
        batch = [sample for sample in batch if image_count(sample) <= 1]
    model.eval_batch(batch, max_new_tokens=MAX_NEW)
    from_vllm = [list(output.outputs[0].token_ids) for output in spy.outputs]

    reference = transformers_model(arch, transformers_models)
    seen = transformers_token_ids(reference, batch, MAX_NEW, monkeypatch)
    assert len(seen) == len(from_vllm) == len(batch)
    if ARCH_LOAD.get(arch, {}).get("dtype") == "bfloat16":
        # vLLM's CPU Gated DeltaNet kernel and Transformers' reference one round bfloat16
        # differently: the first token (the whole prompt through both models) agrees, later
        # tokens drift apart after a few
        seen, from_vllm = [row[:1] for row in seen], [row[:1] for row in from_vllm]
    assert seen == from_vllm
