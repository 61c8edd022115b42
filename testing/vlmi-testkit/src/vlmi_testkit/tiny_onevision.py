"""A tiny LLaVA-OneVision checkpoint (``LlavaOnevisionForConditionalGeneration``), hub layout.

Config keys: Transformers' ``LlavaOnevisionConfig`` (5.19), the class that reads
``llava-hf/llava-onevision-qwen2-7b-ov-hf``'s ``config.json`` (SigLIP vision
config without its head, Qwen2 text config, ``image_grid_pinpoints``,
``vision_aspect_ratio`` ``anyres_max_9``, ``vision_feature_select_strategy``
``full``, ``vision_feature_layer`` -1), with tiny sizes. Weight names: those of
the hub checkpoint, ``vision_tower.vision_model.*``, ``multi_modal_projector.*``,
``image_newline``, ``language_model.model.*``, ``language_model.lm_head.weight``
(the layout vLLM 0.32's loader builds its modules with,
``vllm/model_executor/models/llava_onevision.py``; Transformers 5 saves the
vision tower without ``vision_model.``, which vLLM refuses, so it is renamed).

Text head size 32 (vLLM's CPU attention). Images: 28x28 crops of 2x2 SigLIP
patches (4 tokens each), a base crop and up to 3x3 crops by aspect ratio, a
newline token after each row of the crops' grid.
"""

from __future__ import annotations

from pathlib import Path

from vlmi_testkit.tiny_parts import (
    CHATML_NAMED,
    CHATML_SPECIALS,
    VISION_SIZES,
    Variant,
    save_model,
    text_config,
)
from vlmi_testkit.tokenizer import train_tokenizer

#: The released template's layout: ``<|im_start|>user `` then every image, every
#: video, then each text after a newline (the hub template groups them so).
ONEVISION_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] + ' ' }}"
    "{% if message['content'] is string %}{{ '\n' + message['content'] }}{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "<image>{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'video') %}"
    "<video>{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{{ '\n' + content['text'] }}{% endfor %}{% endif %}<|im_end|>{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

CROP, PATCH = 28, 14


def build_llava_onevision(folder: Path, seed: int, variant: Variant) -> None:
    """LLaVA-OneVision: SigLIP on anyres crops, a 2-layer projector, Qwen2 text."""
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionImageProcessor,
        LlavaOnevisionProcessor,
    )
    from transformers.models.llava_onevision.video_processing_llava_onevision import (
        LlavaOnevisionVideoProcessor,
    )

    from vlmi_testkit.tiny_transformers import hub_vision_tower_names

    tokenizer = train_tokenizer(
        [*CHATML_SPECIALS, "<image>", "<video>"],
        named_tokens={**CHATML_NAMED, "image_token": "<image>", "video_token": "<video>"},
        seed=seed,
    )
    ids = tokenizer.convert_tokens_to_ids
    pinpoints = [[CROP * rows, CROP * cols] for rows in (1, 2, 3) for cols in (1, 2, 3)]
    config = LlavaOnevisionConfig(
        vision_config={
            "model_type": "siglip_vision_model",
            **VISION_SIZES,
            "image_size": CROP,
            "patch_size": PATCH,
            "vision_use_head": False,
        },
        text_config=text_config(tokenizer, variant, model_type="qwen2", tie_word_embeddings=False),
        image_token_index=ids("<image>"),
        video_token_index=ids("<video>"),
        image_grid_pinpoints=pinpoints,
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
        vision_aspect_ratio="anyres_max_9",
        tie_word_embeddings=False,
    )
    save_model(config, folder, seed)
    if variant.hub_weight_names:
        hub_vision_tower_names(folder)
    size = {"height": CROP, "width": CROP}
    LlavaOnevisionProcessor(
        image_processor=LlavaOnevisionImageProcessor(size=size, image_grid_pinpoints=pinpoints),
        video_processor=LlavaOnevisionVideoProcessor(size=size),
        tokenizer=tokenizer,
        num_image_tokens=(CROP // PATCH) ** 2,
        vision_feature_select_strategy="full",
        vision_aspect_ratio="anyres_max_9",
        chat_template=ONEVISION_TEMPLATE,
    ).save_pretrained(folder)


__all__ = ["ONEVISION_TEMPLATE", "build_llava_onevision"]
