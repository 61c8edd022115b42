"""A tiny GLM-4.1V checkpoint (``Glm4vForConditionalGeneration``), as the hub's are laid out.

Config keys: Transformers' ``Glm4vConfig`` (5.19), the class that reads the
released ``zai-org/GLM-4.1V-9B-Thinking`` ``config.json`` (vision and text
sub-configs, the image/video marker ids, the text model's ``attention_bias``,
``partial_rotary_factor`` 0.5 and ``mrope_section``), with tiny sizes. Weight
names: those Transformers saves, ``model.visual.*``, ``model.language_model.*``
and ``lm_head.weight``; the same names vLLM 0.32's loader reads
(``vllm/model_executor/models/glm4_1v.py``,
``Glm4vForConditionalGeneration.hf_to_vllm_mapper``: ``model.visual.`` →
``visual.``, ``model.language_model.`` → ``language_model.model.``,
``lm_head.`` → ``language_model.lm_head.``).

Text head size 32 (vLLM's CPU attention); rotary over half of it (16), so the
M-RoPE sections sum to 8. Images: patch 14, 2x2 merge, 4 to 16 tokens.
"""

from __future__ import annotations

from pathlib import Path

from vlmi_testkit.tiny_parts import INIT_RANGE, Variant, save_model, text_config
from vlmi_testkit.tokenizer import train_tokenizer

#: The released template's layout (``[gMASK]<sop>``, ``<|user|>\n``, the image
#: markers where the image is, ``<|assistant|>\n`` to answer); tools left out.
GLM4V_TEMPLATE = (
    "[gMASK]<sop>"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}<|system|>\n"
    "{% elif message['role'] == 'user' %}<|user|>\n"
    "{% else %}<|assistant|>\n{% endif %}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}<|begin_of_image|><|image|><|end_of_image|>"
    "{% elif item['type'] == 'video' %}<|begin_of_video|><|video|><|end_of_video|>"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}"
    "{% endfor %}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

_MARKERS = [
    "<|begin_of_image|>",
    "<|end_of_image|>",
    "<|image|>",
    "<|begin_of_video|>",
    "<|end_of_video|>",
    "<|video|>",
]


def build_glm4v(folder: Path, seed: int, variant: Variant) -> None:
    """GLM-4.1V: a 2-D RoPE ViT with interpolated position embeddings; GLM-4 text, M-RoPE."""
    from transformers import Glm4vConfig, Glm4vImageProcessor, Glm4vProcessor
    from transformers.models.glm4v.video_processing_glm4v import Glm4vVideoProcessor

    tokenizer = train_tokenizer(
        ["<|endoftext|>", "[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>", *_MARKERS],
        named_tokens={
            "eos_token": "<|user|>",
            "pad_token": "<|endoftext|>",
            "image_token": "<|image|>",
            "video_token": "<|video|>",
        },
        seed=seed,
    )
    ids = tokenizer.convert_tokens_to_ids
    width = variant.sizes["hidden_size"]
    half = variant.head_dim // 4  # rotary over half the head (partial_rotary_factor 0.5)
    config = Glm4vConfig(
        text_config=text_config(
            tokenizer,
            variant,
            eos_token_id=[ids("<|endoftext|>"), ids("<|user|>")],
            attention_bias=True,  # as released: vLLM builds q/k/v biases only when it says so
            rope_parameters={
                "rope_type": "default",
                "rope_theta": 10000.0,
                "partial_rotary_factor": 0.5,
                "mrope_section": [half // 4, 3 * half // 8, half - half // 4 - 3 * half // 8],
            },
        ),
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "num_heads": 2,
            "intermediate_size": variant.sizes["intermediate_size"],
            "image_size": 56,
            "patch_size": 14,
            "out_hidden_size": width,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "initializer_range": INIT_RANGE,
        },
        image_token_id=ids("<|image|>"),
        video_token_id=ids("<|video|>"),
        image_start_token_id=ids("<|begin_of_image|>"),
        image_end_token_id=ids("<|end_of_image|>"),
        video_start_token_id=ids("<|begin_of_video|>"),
        video_end_token_id=ids("<|end_of_video|>"),
    )
    save_model(config, folder, seed)
    merged = 28 * 28  # one token per 2x2 patches of 14 pixels
    # GLM-4.1V's processor counts an image's pixels twice (its temporal patch): 2x the budget
    pixels = {"shortest_edge": 2 * 4 * merged, "longest_edge": 2 * 16 * merged}
    Glm4vProcessor(
        image_processor=Glm4vImageProcessor(size=pixels, patch_size=14),
        video_processor=Glm4vVideoProcessor(size=pixels),
        tokenizer=tokenizer,
        chat_template=GLM4V_TEMPLATE,
    ).save_pretrained(folder)


__all__ = ["GLM4V_TEMPLATE", "build_glm4v"]
