"""Prompt ids of the remote-code architectures, against each model's own chat template.

The released processors of these models are their repositories' own code,
which is not reproduced here; vLLM runs its own processor for each
architecture. The reference is built without vLLM: the checkpoint
tokenizer's chat template (the released template) over the sample's
image and text parts, each image placeholder expanded to the number of
tokens the model's own rule gives for that image's size.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from conftest import REMOTE_CODE, GenerateSpy, checkpoint, samples
from test_engine import reference_conversation


def resized(width: int, height: int, factor: int, low: int, high: int) -> tuple[int, int]:
    """Qwen2-VL's resize rule, which Ovis2.5 and Keye-VL-1.5 share: (height, width) as
    multiples of ``factor``, the aspect ratio kept, between ``low`` and ``high`` pixels."""
    h = max(factor, round(height / factor) * factor)
    w = max(factor, round(width / factor) * factor)
    if h * w > high:
        beta = math.sqrt(height * width / high)
        h, w = (
            math.floor(height / beta / factor) * factor,
            math.floor(width / beta / factor) * factor,
        )
    elif h * w < low:
        beta = math.sqrt(low / (height * width))
        h, w = math.ceil(height * beta / factor) * factor, math.ceil(width * beta / factor) * factor
    return h, w


def ovis2_5_image_tokens(width: int, height: int) -> int:
    """Ovis2.5's tokens for one image: resized to 32-pixel multiples within 448² ... 1792²
    pixels, 16-pixel patches merged 2x2, plus the start and end markers."""
    h, w = resized(width, height, 32, 448 * 448, 1792 * 1792)
    return (h // 16) * (w // 16) // 4 + 2


def keye_vl1_5_image_tokens(width: int, height: int) -> int:
    """Keye-VL-1.5's tokens for one image: resized to 28-pixel multiples within the tiny
    checkpoint's pixel range, 14-pixel patches merged 2x2."""
    from vlmi_testkit.tiny_keye_vl1_5 import MAX_PIXELS, MIN_PIXELS

    h, w = resized(width, height, 28, MIN_PIXELS, MAX_PIXELS)
    return (h // 14) * (w // 14) // 4


def kimi_vl_image_tokens(width: int, height: int) -> int:
    """Kimi-VL's tokens for one image (under its 4096-patch limit): 14-pixel patches,
    the image padded to 28-pixel multiples, merged 2x2."""
    return math.ceil(height / 28) * math.ceil(width / 28)


#: per architecture: the placeholder its chat template writes, the token vLLM puts in its
#: place, and the model's token count for an image of (width, height)
LAYOUTS: dict[str, tuple[str, str, Any]] = {
    "ovis2_5": ("<image>", "<|image_pad|>", ovis2_5_image_tokens),
    "kimi_vl": ("<|media_pad|>", "<|media_pad|>", kimi_vl_image_tokens),
    "keye_vl1_5": ("<|image_pad|>", "<|image_pad|>", keye_vl1_5_image_tokens),
}


def reference_ids(arch: str, conversation: list[dict[str, Any]]) -> list[int]:
    """The model's own template over the conversation, tokenized, each image expanded."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint(arch))
    placeholder, pad, count = LAYOUTS[arch]
    text = tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    images = [p["image"] for p in conversation[0]["content"] if p["type"] == "image"]
    pieces = str(text).split(placeholder)
    assert len(pieces) == len(images) + 1
    ids: list[int] = []
    for index, piece in enumerate(pieces):
        ids += tokenizer(piece, add_special_tokens=False)["input_ids"]
        if index < len(images):
            ids += [tokenizer.convert_tokens_to_ids(pad)] * count(*images[index].size)
    return ids


def test_prompt_ids_are_the_models_own_template(
    arch: str, model: Any, pictures: list[Path], spy: GenerateSpy
) -> None:
    if arch not in REMOTE_CODE:
        pytest.skip("a Transformers-native processor: test_engine.py checks its prompt ids")
    batch = samples(pictures)
    model.eval_batch(batch, max_new_tokens=2)
    assert len(spy.outputs) == len(batch)
    for sample, output in zip(batch, spy.outputs):
        expected = reference_ids(arch, reference_conversation(sample, pictures))
        assert list(output.prompt_token_ids) == expected, sample


def test_ovis_image_token_rule() -> None:
    """The reference's own rule on sizes worked out by hand (448² is the floor)."""
    assert ovis2_5_image_tokens(448, 448) == 14 * 14 + 2
    assert ovis2_5_image_tokens(64, 48) == 34 * 26 // 4 + 2  # scaled up to 544 x 416
    assert ovis2_5_image_tokens(2000, 2000) == 56 * 56 + 2
