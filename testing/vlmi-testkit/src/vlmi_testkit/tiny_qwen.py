"""Tiny Qwen-VL checkpoints: Qwen2-VL, Qwen2.5-VL, Qwen3-VL and Qwen3.5.

All three share the ChatML tokens, the vision markers and M-RoPE in the text
model (``mrope_section`` sums to ``head_dim / 2`` = 8). Images become 4 to 16
merged tokens: 28x28 pixels each for Qwen2/2.5-VL (patch 14), 32x32 for
Qwen3-VL and Qwen3.5 (patch 16).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmi_testkit.tiny_parts import (
    CHATML_NAMED,
    CHATML_SPECIALS,
    INIT_RANGE,
    Variant,
    save_model,
    text_config,
)
from vlmi_testkit.tokenizer import train_tokenizer

QWEN2_VL_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
#: Qwen3-VL's template has no default system message.
QWEN3_VL_TEMPLATE = QWEN2_VL_TEMPLATE.replace(
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}",
    "",
)

#: Qwen3.5's template: Qwen3-VL's, and the answer opens a thinking block
#: (``enable_thinking=False`` closes it empty), as the released template does.
QWEN3_5_TEMPLATE = QWEN3_VL_TEMPLATE.replace(
    "<|im_start|>assistant\n{% endif %}",
    "<|im_start|>assistant\n{% if enable_thinking is defined and enable_thinking is false %}"
    "<think>\n\n</think>\n\n{% else %}<think>\n{% endif %}{% endif %}",
)


def mrope(variant: Variant) -> dict[str, Any]:
    """M-RoPE over the variant's head size (``mrope_section`` sums to ``head_dim / 2``)."""
    return {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": variant.mrope_section}


def _qwen_tokenizer(seed: int, more: list[str] | None = None) -> Any:
    vision = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
    return train_tokenizer(
        [*CHATML_SPECIALS, *vision, *(more or [])],
        named_tokens={
            **CHATML_NAMED,
            "image_token": "<|image_pad|>",
            "video_token": "<|video_pad|>",
            "vision_bos_token": "<|vision_start|>",
            "vision_eos_token": "<|vision_end|>",
        },
        seed=seed,
    )


def _marker_ids(tokenizer: Any) -> dict[str, int]:
    ids = tokenizer.convert_tokens_to_ids
    return {
        "image_token_id": ids("<|image_pad|>"),
        "video_token_id": ids("<|video_pad|>"),
        "vision_start_token_id": ids("<|vision_start|>"),
        "vision_end_token_id": ids("<|vision_end|>"),
    }


def _pixels(merged_patch: int) -> dict[str, int]:
    """4 to 16 merged tokens per image, each covering merged_patch x merged_patch pixels."""
    area = merged_patch * merged_patch
    return {"shortest_edge": area * 4, "longest_edge": area * 16}


def _vision(variant: Variant, **extra: Any) -> dict[str, Any]:
    """The Qwen2.5-VL / Qwen3-VL vision tower: 2 blocks of width 32, merged into the text width."""
    return {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "out_hidden_size": variant.sizes["hidden_size"],
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "initializer_range": INIT_RANGE,
        **extra,
    }


def _save_processor(
    folder: Path,
    processor_class: Any,
    video_processor_class: Any,
    tokenizer: Any,
    template: str,
    patch_size: int = 14,
) -> None:
    """The processor: Qwen2-VL's image processor and the family's video processor."""
    from transformers import Qwen2VLImageProcessor

    pixels = _pixels(2 * patch_size)  # 2x2 patches merge into one token
    processor_class(
        image_processor=Qwen2VLImageProcessor(size=pixels, patch_size=patch_size),
        video_processor=video_processor_class(size=pixels),
        tokenizer=tokenizer,
        chat_template=template,
    ).save_pretrained(folder)


def build_qwen2_vl(folder: Path, seed: int, variant: Variant) -> None:
    """Qwen2-VL: a ViT with 2-D RoPE, patch 14, 2x2 merge; M-RoPE Qwen2 text model."""
    from transformers import Qwen2VLConfig, Qwen2VLProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    tokenizer = _qwen_tokenizer(seed)
    config = Qwen2VLConfig(
        text_config=text_config(tokenizer, variant, rope_parameters=mrope(variant)),
        vision_config={
            "depth": 2,
            "embed_dim": 32,
            "hidden_size": variant.sizes["hidden_size"],
            "num_heads": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "initializer_range": INIT_RANGE,
        },
        **_marker_ids(tokenizer),
    )
    save_model(config, folder, seed)
    _save_processor(folder, Qwen2VLProcessor, Qwen2VLVideoProcessor, tokenizer, QWEN2_VL_TEMPLATE)


def build_qwen2_5_vl(folder: Path, seed: int, variant: Variant) -> None:
    """Qwen2.5-VL: windowed-attention ViT (one full-attention block), M-RoPE text model."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    tokenizer = _qwen_tokenizer(seed)
    config = Qwen2_5_VLConfig(
        text_config=text_config(tokenizer, variant, rope_parameters=mrope(variant)),
        vision_config=_vision(variant, patch_size=14, window_size=56, fullatt_block_indexes=[1]),
        **_marker_ids(tokenizer),
    )
    save_model(config, folder, seed)
    _save_processor(
        folder, Qwen2_5_VLProcessor, Qwen2VLVideoProcessor, tokenizer, QWEN2_VL_TEMPLATE
    )


def build_qwen3_vl(folder: Path, seed: int, variant: Variant) -> None:
    """Qwen3-VL: patch-16 ViT with DeepStack features, interleaved M-RoPE Qwen3 text model."""
    from transformers import Qwen3VLConfig, Qwen3VLProcessor
    from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor

    tokenizer = _qwen_tokenizer(seed)
    config = Qwen3VLConfig(
        text_config=text_config(
            tokenizer,
            variant,
            head_dim=variant.head_dim,
            rope_parameters={**mrope(variant), "mrope_interleaved": True},
        ),
        vision_config=_vision(
            variant, patch_size=16, num_position_embeddings=64, deepstack_visual_indexes=[0]
        ),
        **_marker_ids(tokenizer),
    )
    save_model(config, folder, seed)
    _save_processor(
        folder, Qwen3VLProcessor, Qwen3VLVideoProcessor, tokenizer, QWEN3_VL_TEMPLATE, 16
    )


def build_qwen3_5(folder: Path, seed: int, variant: Variant) -> None:
    """Qwen3.5: Qwen3-VL's ViT (no DeepStack); hybrid text, Gated DeltaNet and gated attention.

    Config keys: Transformers' ``Qwen3_5Config`` (5.19), which reads
    ``Qwen/Qwen3.5-9B``'s ``config.json`` (``layer_types`` of linear and full
    attention, the ``linear_*`` head sizes, ``partial_rotary_factor`` 0.25 and
    interleaved ``mrope_section``). Weight names: those Transformers saves,
    ``model.visual.*``, ``model.language_model.*`` (``linear_attn.in_proj_qkv``,
    ``in_proj_z``, ``in_proj_b``, ``in_proj_a``, ``conv1d``, ``A_log``,
    ``dt_bias``, ``norm``, ``out_proj``), ``lm_head.weight``: the names vLLM
    0.32's loader maps (``vllm/model_executor/models/qwen3_5.py``,
    ``Qwen3_5ForConditionalGeneration.hf_to_vllm_mapper``, Qwen3-VL's prefixes
    plus the fused ``in_proj_qkvz`` / ``in_proj_ba``). Head size 64: rotary over
    a quarter of it (16), so the sections sum to 8.
    """
    from transformers import Qwen3_5Config, Qwen3VLProcessor
    from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor

    tokenizer = _qwen_tokenizer(seed, ["<think>", "</think>"])
    head_dim = 64
    config = Qwen3_5Config(
        text_config=text_config(
            tokenizer,
            variant,
            head_dim=head_dim,
            layer_types=["linear_attention", "full_attention"],
            linear_conv_kernel_dim=4,
            # vLLM's CPU Gated DeltaNet kernel takes the released head size (128) only
            linear_key_head_dim=128,
            linear_value_head_dim=128,
            linear_num_key_heads=1,
            linear_num_value_heads=2,
            rope_parameters={
                "rope_type": "default",
                "rope_theta": 10000.0,
                "partial_rotary_factor": 0.25,
                "mrope_section": [3, 3, 2],
                "mrope_interleaved": True,
            },
        ),
        vision_config=_vision(variant, patch_size=16, num_position_embeddings=64),
        **_marker_ids(tokenizer),
    )
    save_model(config, folder, seed)
    _save_processor(
        folder, Qwen3VLProcessor, Qwen3VLVideoProcessor, tokenizer, QWEN3_5_TEMPLATE, 16
    )


__all__ = [
    "QWEN2_VL_TEMPLATE",
    "QWEN3_5_TEMPLATE",
    "QWEN3_VL_TEMPLATE",
    "build_qwen2_5_vl",
    "build_qwen2_vl",
    "build_qwen3_5",
    "build_qwen3_vl",
    "mrope",
]
