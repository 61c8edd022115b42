"""max_image_pixels on real vLLM: fewer image tokens as the limit falls, as the processor says.

The session's engine (the model's default resolution) is compared with one
loaded at a lower limit; each is checked against the checkpoint's own
Transformers processor given the same limit. Architectures that resize every
image to one fixed size refuse the option before any engine starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import Engines, GenerateSpy, checkpoint

from vlmi import errors

#: per architecture, the limit tested and the processor arguments with the same meaning
LIMITS: dict[str, tuple[int, dict[str, Any]]] = {
    # 28x28-pixel tokens (patch 14, merge 2): 8 tokens' worth of pixels at most
    "qwen2_vl": (
        8 * 28 * 28,
        {"size": {"shortest_edge": 4 * 28 * 28, "longest_edge": 8 * 28 * 28}},
    ),
    # 56x56 tiles: one tile, no thumbnail
    "internvl": (56 * 56, {"max_patches": 1}),
}
FIXED_SIZE = ("gemma3", "llava")


def image_token_count(arch: str, ids: list[int]) -> int:
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(checkpoint(arch))
    return sum(1 for i in ids if i == processor.image_token_id)


def test_image_tokens_fall_with_the_limit(
    arch: str, engines: Engines, pictures: list[Path]
) -> None:
    if arch in FIXED_SIZE:
        import vlmi

        with pytest.raises(errors.InvalidOptionError, match="max_image_pixels"):
            vlmi.load(str(checkpoint(arch)), max_image_pixels=10**6)
        return
    if arch not in LIMITS:
        pytest.skip("checked on one architecture per way of limiting (pixels, tiles)")
    from PIL import Image
    from transformers import AutoProcessor

    limit, processor_kwargs = LIMITS[arch]
    picture = str(pictures[4])  # 300x170: many tokens (tiles) at the default resolution
    counts = []
    for options in ({}, {"max_image_pixels": limit}):
        model = engines.get(arch, **options)
        spy = GenerateSpy(model.llm)
        model.llm.generate = spy
        try:
            model.eval("Describe.", imgs=[picture], max_new_tokens=1)
        finally:
            del model.llm.generate
        counts.append(image_token_count(arch, list(spy.outputs[0].prompt_token_ids)))
    engines.close()
    processor = AutoProcessor.from_pretrained(checkpoint(arch), **processor_kwargs)
    conversation = [
        {
            "role": "user",
            "content": [
                {"type": "image", "image": Image.open(picture).convert("RGB")},
                {"type": "text", "text": "Describe."},
            ],
        }
    ]
    ids = processor.apply_chat_template(
        conversation, add_generation_prompt=True, tokenize=True, return_dict=True
    )["input_ids"]
    expected = image_token_count(arch, list(ids[0]))
    assert counts[1] < counts[0], counts
    assert counts[1] == expected, (counts, expected)
