"""Exact MiniCPM-V-2.6 prompts for 0, 1 and N images, through the tokenizer's chat template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vlmi.errors import InvalidSampleError
from vlmi.plugin import ImagePart, Sample, TextPart
from vlmi_minicpmv.prompts import IMAGE_PLACEHOLDER, build_request, stop_token_ids

HEAD = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
TAIL = "<|im_end|>\n<|im_start|>assistant\n"


def loaded(query: str, paths: list[Path]) -> Sample:
    parts = [ImagePart(str(p), Image.open(p).convert("RGB")) for p in paths]
    return Sample((*parts, TextPart(query)))


def test_text_only_has_no_multimodal_data(tokenizer: Any) -> None:
    request = build_request(tokenizer, loaded("What is 2 + 2?", []))
    assert request == {"prompt": HEAD + "What is 2 + 2?" + TAIL}


@pytest.mark.parametrize("count", [1, 3])
def test_one_placeholder_per_image_before_the_question(
    tokenizer: Any, pictures: list[Path], count: int
) -> None:
    sample = loaded("Describe.", pictures[:count])
    request = build_request(tokenizer, sample)
    assert request["prompt"] == HEAD + "(<image>./</image>)\n" * count + "Describe." + TAIL
    images = request["multi_modal_data"]["image"]
    assert len(images) == count == request["prompt"].count(IMAGE_PLACEHOLDER)
    # the decoded images themselves, not a re-encoded copy
    assert all(a is b for a, b in zip(images, sample.images))


def test_interleaved_order_is_kept(tokenizer: Any, pictures: list[Path]) -> None:
    first, second = (Image.open(p).convert("RGB") for p in pictures[:2])
    sample = Sample(
        (TextPart("Left:"), ImagePart("a", first), TextPart("Right:"), ImagePart("b", second))
    )
    prompt = build_request(tokenizer, sample)["prompt"]
    # parts joined by newlines, as MiniCPM-V's own chat() joins a message's content
    assert prompt == HEAD + "Left:\n(<image>./</image>)\nRight:\n(<image>./</image>)" + TAIL
    query_first = Sample((TextPart("What is it?"), ImagePart("a", first)))
    assert build_request(tokenizer, query_first)["prompt"] == (
        HEAD + "What is it?\n(<image>./</image>)" + TAIL
    )


def test_placeholder_typed_by_the_user_is_refused(tokenizer: Any) -> None:
    with pytest.raises(InvalidSampleError, match="placeholder"):
        build_request(tokenizer, loaded(f"{IMAGE_PLACEHOLDER} what?", []))


def test_stop_ids_come_from_the_tokenizer(tokenizer: Any) -> None:
    ids = stop_token_ids(tokenizer)
    assert ids == [
        tokenizer.convert_tokens_to_ids("<|im_end|>"),
        tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    ]
    assert tokenizer.decode(ids) == "<|im_end|><|endoftext|>"
