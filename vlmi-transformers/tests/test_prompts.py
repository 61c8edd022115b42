"""What the processor receives for 0, 1 and N images: the checkpoint's own chat template."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmi.plugin import Model, Sample, prepare_samples
from vlmi_transformers.prompts import prompt_text

QWEN_SYSTEM = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
QWEN_USER = "<|im_start|>user\n"
QWEN_TAIL = "What?<|im_end|>\n<|im_start|>assistant\n"
QWEN_IMAGE = "<|vision_start|><|image_pad|><|vision_end|>"
QWEN_FAMILY = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl")
GEMMA_USER = "<start_of_turn>user\n"
GEMMA_TAIL = "What?<end_of_turn>\n<start_of_turn>model\n"
#: where each template puts an image
IMAGE_MARKUP = {
    **dict.fromkeys(QWEN_FAMILY, QWEN_IMAGE),
    "internvl": "<IMG_CONTEXT>\n",
    "gemma3": "<start_of_image>",
}
EXPECTED = {
    **{
        arch: {n: head + QWEN_USER + QWEN_IMAGE * n + QWEN_TAIL for n in (0, 1, 3)}
        for arch, head in [("qwen2_vl", QWEN_SYSTEM), ("qwen2_5_vl", QWEN_SYSTEM), ("qwen3_vl", "")]
    },
    "gemma3": {n: GEMMA_USER + "<start_of_image>" * n + GEMMA_TAIL for n in (0, 1, 3)},
    "internvl": {
        0: "<|im_start|>user\nWhat?<|im_end|>\n<|im_start|>assistant\n",
        1: "<|im_start|>user\n<IMG_CONTEXT>\nWhat?<|im_end|>\n<|im_start|>assistant\n",
        3: "<|im_start|>user\n"
        + "<IMG_CONTEXT>\n" * 3
        + "What?<|im_end|>\n<|im_start|>assistant\n",
    },
    "llava": {
        0: "USER: What? ASSISTANT:",
        1: "USER: <image>\nWhat? ASSISTANT:",
        3: "USER: " + "<image>\n" * 3 + "What? ASSISTANT:",
    },
}


def prepared(model: Model, query: str, imgs: list[Path]) -> Sample:
    (sample,) = prepare_samples(model, [Sample.from_query(query, [str(p) for p in imgs])])
    assert isinstance(sample, Sample)
    return sample


@pytest.mark.parametrize("count", [0, 1, 3])
def test_prompt_puts_images_first(
    tiny_model: Model, arch: str, pictures: list[Path], count: int
) -> None:
    sample = prepared(tiny_model, "What?", pictures[:count])
    assert prompt_text(tiny_model.engine.processor, sample) == EXPECTED[arch][count]


def expected_image_tokens(model: Model, arch: str, inputs) -> int:
    config = model.engine.model.config
    if arch in QWEN_FAMILY:
        merge = config.vision_config.spatial_merge_size
        return int(inputs["image_grid_thw"].prod(dim=-1).sum()) // merge**2
    if arch == "internvl":
        return inputs["pixel_values"].shape[0] * config.image_seq_length
    if arch == "gemma3":
        return inputs["pixel_values"].shape[0] * config.mm_tokens_per_image
    vision = config.vision_config
    return inputs["pixel_values"].shape[0] * (vision.image_size // vision.patch_size) ** 2


@pytest.mark.parametrize("count", [0, 1, 3])
def test_image_tokens_match_the_pixels(
    tiny_model: Model, arch: str, pictures: list[Path], count: int
) -> None:
    """The processor expands each placeholder into as many tokens as the vision tower makes."""
    sample = prepared(tiny_model, "What?", pictures[:count])
    inputs = tiny_model.engine.model_inputs([sample])
    image_id = tiny_model.engine.model.config.image_token_id
    found = int((inputs["input_ids"] == image_id).sum())
    if count == 0:
        assert found == 0 and "pixel_values" not in inputs
    else:
        assert found == expected_image_tokens(tiny_model, arch, inputs) > 0


def test_interleaved_order_is_kept(tiny_model: Model, arch: str, pictures: list[Path]) -> None:
    if arch == "llava":
        pytest.skip("LLaVA's template renders every image before the text")
    messages = [
        {"type": "text", "value": "First:"},
        {"type": "image", "value": str(pictures[0])},
        {"type": "text", "value": "Second:"},
        {"type": "image", "value": str(pictures[1])},
    ]
    (sample,) = prepare_samples(tiny_model, [Sample.from_messages(messages)])
    text = prompt_text(tiny_model.engine.processor, sample)
    image = IMAGE_MARKUP[arch]
    assert f"First:{image}Second:{image}" in text


def test_batch_is_left_padded_with_a_mask(tiny_model: Model, pictures: list[Path]) -> None:
    short = prepared(tiny_model, "Hi", [])
    long = prepared(tiny_model, "Describe both pictures in detail.", pictures[:2])
    inputs = tiny_model.engine.model_inputs([short, long])
    mask = inputs["attention_mask"]
    pad = tiny_model.engine.tokenizer.pad_token_id
    assert mask[0, 0] == 0 and mask[0, -1] == 1 and bool(mask[1].all())
    assert inputs["input_ids"][0, 0] == pad
