"""Tiny random-weight checkpoints of real VLM architectures, made locally.

Each builder writes a folder that the normal ``from_pretrained`` path loads:
``config.json`` with tiny sizes, random weights (``model.safetensors``), a
tokenizer trained here with every special token the processor needs, and the
processor (image processor, video processor where the architecture has one,
chat template). Nothing is downloaded; the same seed gives the same folder.

    from vlmi_testkit import make_tiny_checkpoint
    folder = make_tiny_checkpoint("qwen2_vl", tmp_path / "tiny-qwen2-vl")
    vlmi.load(str(folder)).eval("What is shown?", imgs=["cat.jpg"])

Recipe constraints, each checked by the tests that load these folders:
Qwen-VL's ``mrope_section`` sums to ``head_dim / 2``; InternVL's
``image_seq_length`` matches on config and processor and its template emits
``<IMG_CONTEXT>``; Gemma 3's ``mm_tokens_per_image`` is a square that divides
the patch grid; pad and eos are distinct tokens; the trained tokenizer adds no
BOS, so the templates do not rely on one.

The Qwen-VL and Qwen3.5 recipes live in :mod:`vlmi_testkit.tiny_qwen`, GLM-4.1V's in
:mod:`vlmi_testkit.tiny_glm4v`, LLaVA-OneVision's in :mod:`vlmi_testkit.tiny_onevision`,
the parts all recipes share in :mod:`vlmi_testkit.tiny_parts`.
"""

from __future__ import annotations

from pathlib import Path

from vlmi_testkit.tiny_glm4v import build_glm4v
from vlmi_testkit.tiny_onevision import build_llava_onevision
from vlmi_testkit.tiny_parts import (
    CHATML_NAMED,
    CHATML_SPECIALS,
    DEFAULT,
    INIT_RANGE,
    VARIANTS,
    VISION_SIZES,
    TinyRecipe,
    Variant,
    save_model,
    text_config,
)
from vlmi_testkit.tiny_qwen import build_qwen2_5_vl, build_qwen2_vl, build_qwen3_5, build_qwen3_vl
from vlmi_testkit.tokenizer import train_tokenizer

INTERNVL_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<IMG_CONTEXT>\n"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

LLAVA_TEMPLATE = (
    "{% for message in messages %}{{ message['role'].upper() + ': ' }}"
    "{% if message['content'] is string %}{{ message['content'] + ' ' }}{% else %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
    "{{ '<image>\n' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{{ content['text'] + ' ' }}{% endfor %}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)

GEMMA3_TEMPLATE = (
    "{% for message in messages %}"
    "<start_of_turn>{{ 'model' if message['role'] == 'assistant' else message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<start_of_image>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def _build_internvl(folder: Path, seed: int, variant: Variant) -> None:
    from transformers import GotOcr2ImageProcessor, InternVLConfig, InternVLProcessor
    from transformers.models.internvl.video_processing_internvl import InternVLVideoProcessor

    specials = [*CHATML_SPECIALS, "<img>", "</img>", "<IMG_CONTEXT>", "<video>"]
    tokenizer = train_tokenizer(
        specials,
        named_tokens={
            **CHATML_NAMED,
            "start_image_token": "<img>",
            "end_image_token": "</img>",
            "context_image_token": "<IMG_CONTEXT>",
            "video_token": "<video>",
        },
        seed=seed,
    )
    ids = tokenizer.convert_tokens_to_ids
    image_size, patch_size, downsample = 56, 14, 0.5
    image_seq_length = int((image_size // patch_size) ** 2 * downsample**2)  # 4 per tile
    config = InternVLConfig(
        vision_config={
            **VISION_SIZES,
            "image_size": [image_size, image_size],
            "patch_size": [patch_size, patch_size],
        },
        text_config=text_config(tokenizer, variant, model_type="qwen2", tie_word_embeddings=False),
        image_token_id=ids("<IMG_CONTEXT>"),
        image_seq_length=image_seq_length,
        downsample_ratio=downsample,
        tie_word_embeddings=False,
    )
    save_model(config, folder, seed)
    size = {"height": image_size, "width": image_size}
    processor = InternVLProcessor(
        # dynamic tiling as in InternVL: 1 to 4 tiles by aspect ratio, plus a thumbnail
        image_processor=GotOcr2ImageProcessor(
            size=size, crop_to_patches=True, min_patches=1, max_patches=4
        ),
        video_processor=InternVLVideoProcessor(size=size),
        tokenizer=tokenizer,
        image_seq_length=image_seq_length,
        chat_template=INTERNVL_TEMPLATE,
    )
    processor.save_pretrained(folder)


def _build_llava(folder: Path, seed: int, variant: Variant) -> None:
    from transformers import CLIPImageProcessor, LlavaConfig, LlavaProcessor

    specials = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]
    tokenizer = train_tokenizer(
        specials,
        named_tokens={
            "unk_token": "<unk>",
            "eos_token": "</s>",
            "pad_token": "<pad>",
            "image_token": "<image>",
        },
        seed=seed,
    )
    ids = tokenizer.convert_tokens_to_ids
    image_size, patch_size = 28, 14
    config = LlavaConfig(
        vision_config={
            "model_type": "clip_vision_model",
            **VISION_SIZES,
            "image_size": image_size,
            "patch_size": patch_size,
            "projection_dim": 32,
        },
        text_config=text_config(tokenizer, variant, model_type="llama"),
        image_token_id=ids("<image>"),
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
    )
    save_model(config, folder, seed)
    if variant.hub_weight_names:
        hub_vision_tower_names(folder)
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessor(
            size={"shortest_edge": image_size},
            crop_size={"height": image_size, "width": image_size},
        ),
        tokenizer=tokenizer,
        patch_size=patch_size,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=LLAVA_TEMPLATE,
    )
    processor.save_pretrained(folder)


def _build_gemma3(folder: Path, seed: int, variant: Variant) -> None:
    from transformers import Gemma3Config, Gemma3ImageProcessor, Gemma3Processor

    markers = ["<start_of_image>", "<end_of_image>", "<image_soft_token>"]
    tokenizer = train_tokenizer(
        ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", *markers],
        named_tokens={
            "pad_token": "<pad>",
            "eos_token": "<end_of_turn>",
            "unk_token": "<unk>",
            "boi_token": "<start_of_image>",
            "eoi_token": "<end_of_image>",
            "image_token": "<image_soft_token>",
        },
        seed=seed,
    )
    if variant.newline_tokens:
        # SentencePiece's Gemma tokenizer has "\n" ... "\n\n\n\n" as tokens; vLLM looks them up
        tokenizer.add_tokens(["\n", "\n\n", "\n\n\n", "\n\n\n\n"])
    ids = tokenizer.convert_tokens_to_ids
    image_size, patch_size, image_tokens = 28, 14, 4  # a 2x2 patch grid, pooled to 2x2 tokens
    config = Gemma3Config(
        text_config=text_config(
            tokenizer,
            variant,
            model_type="gemma3_text",
            head_dim=variant.head_dim,
            query_pre_attn_scalar=variant.head_dim,
            # one sliding-window layer with a window shorter than the prompts
            sliding_window=16,
            layer_types=["sliding_attention", "full_attention"],
            # untied: tied embeddings make the random model echo its last input token
            tie_word_embeddings=False,
        ),
        vision_config={
            "model_type": "siglip_vision_model",
            **VISION_SIZES,
            "image_size": image_size,
            "patch_size": patch_size,
            # as google/gemma-3-*-it's config.json: no pooling head (neither engine uses one)
            "vision_use_head": False,
        },
        mm_tokens_per_image=image_tokens,
        boi_token_index=ids("<start_of_image>"),
        eoi_token_index=ids("<end_of_image>"),
        image_token_index=ids("<image_soft_token>"),
        initializer_range=INIT_RANGE,
        tie_word_embeddings=False,
    )
    save_model(config, folder, seed)
    if variant.hub_weight_names:
        hub_vision_tower_names(folder)
    Gemma3Processor(
        image_processor=Gemma3ImageProcessor(size={"height": image_size, "width": image_size}),
        tokenizer=tokenizer,
        image_seq_length=image_tokens,
        chat_template=GEMMA3_TEMPLATE,
    ).save_pretrained(folder)


def hub_vision_tower_names(folder: Path) -> None:
    """Rename the saved vision tower's weights as in the hub's checkpoints (LLaVA, Gemma 3).

    Transformers 5 saves ``vision_tower.embeddings...``; the published
    checkpoints (and vLLM, which expects their layout) have
    ``vision_tower.vision_model.embeddings...``. Transformers loads both.
    """
    from safetensors.torch import load_file, save_file

    path = folder / "model.safetensors"
    weights = load_file(path)
    renamed = {
        (
            "vision_tower.vision_model." + key[len("vision_tower.") :]
            if key.startswith("vision_tower.") and not key.startswith("vision_tower.vision_model.")
            else key
        ): value
        for key, value in weights.items()
    }
    save_file(renamed, path, metadata={"format": "pt"})


#: The architectures a tiny checkpoint can be made for, by Transformers model_type.
TINY_RECIPES: dict[str, TinyRecipe] = {
    "qwen2_vl": TinyRecipe("qwen2_vl", "Qwen2-VL: 2-D RoPE ViT, M-RoPE text", build_qwen2_vl),
    "qwen2_5_vl": TinyRecipe(
        "qwen2_5_vl", "Qwen2.5-VL: windowed-attention ViT, M-RoPE text", build_qwen2_5_vl
    ),
    "qwen3_vl": TinyRecipe(
        "qwen3_vl", "Qwen3-VL: DeepStack ViT, interleaved M-RoPE Qwen3 text", build_qwen3_vl
    ),
    "internvl": TinyRecipe("internvl", "InternVL (native): tiled ViT, Qwen2 text", _build_internvl),
    "llava": TinyRecipe("llava", "LLaVA: CLIP vision tower + Llama text", _build_llava),
    "gemma3": TinyRecipe(
        "gemma3", "Gemma 3: SigLIP, pooled image tokens, sliding-window Gemma text", _build_gemma3
    ),
    "glm4v": TinyRecipe("glm4v", "GLM-4.1V: 2-D RoPE ViT, M-RoPE GLM-4 text", build_glm4v),
    "llava_onevision": TinyRecipe(
        "llava_onevision",
        "LLaVA-OneVision: SigLIP on anyres crops, Qwen2 text",
        build_llava_onevision,
    ),
    "qwen3_5": TinyRecipe(
        "qwen3_5", "Qwen3.5: ViT, hybrid Gated DeltaNet / gated-attention text", build_qwen3_5
    ),
}


def make_tiny_checkpoint(
    model_type: str, folder: str | Path, *, seed: int = 0, variant: str = "default"
) -> Path:
    """Write a tiny random-weight checkpoint of ``model_type`` into ``folder``.

    :param model_type: one of :data:`TINY_RECIPES` (``qwen2_vl``, ``qwen2_5_vl``,
        ``qwen3_vl``, ``qwen3_5``, ``internvl``, ``llava``, ``llava_onevision``, ``gemma3``,
        ``glm4v``).
    :param folder: created if missing; existing files are overwritten.
    :param seed: seeds the tokenizer corpus and the weights.
    :param variant: ``"default"``, or ``"vllm"`` for a checkpoint vLLM's CPU
        backend also runs (see :class:`~vlmi_testkit.tiny_parts.Variant`).
    :returns: the folder, ready for ``from_pretrained`` or ``vlmi.load``.
    """
    recipe = TINY_RECIPES.get(model_type)
    chosen = VARIANTS.get(variant)
    if chosen is None:
        raise ValueError(f"no tiny variant {variant!r}; choose one of {sorted(VARIANTS)}")
    if recipe is None:
        raise ValueError(f"no tiny recipe for {model_type!r}; choose one of {sorted(TINY_RECIPES)}")
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    recipe.build(target, seed, chosen)
    return target


_MADE: dict[tuple[str, int, str], Path] = {}


def tiny_checkpoint(model_type: str, *, seed: int = 0, variant: str = "default") -> Path:
    """A tiny checkpoint made once per process in a temporary folder (removed at exit).

    For test modules that need a folder at collection time, e.g. as a
    ``ModelConformance.model_name``.
    """
    key = (model_type, seed, variant)
    if key not in _MADE:
        import atexit
        import shutil
        import tempfile

        root = Path(tempfile.mkdtemp(prefix="vlmi-tiny-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _MADE[key] = make_tiny_checkpoint(
            model_type, root / f"tiny-{model_type}", seed=seed, variant=variant
        )
    return _MADE[key]


__all__ = [
    "DEFAULT",
    "TINY_RECIPES",
    "VARIANTS",
    "TinyRecipe",
    "hub_vision_tower_names",
    "make_tiny_checkpoint",
    "tiny_checkpoint",
]
