"""Tiny random-weight checkpoints of real VLM architectures, made locally.

Each builder writes a folder that the normal ``from_pretrained`` path loads:
``config.json`` with tiny sizes, random weights (``model.safetensors``), a
tokenizer trained here with every special token the processor needs, and the
processor (image processor, video processor where the architecture has one,
chat template). Nothing is downloaded; the same seed gives the same folder.

    from vlmi_transformers.testing import make_tiny_checkpoint
    folder = make_tiny_checkpoint("qwen2_vl", tmp_path / "tiny-qwen2-vl")
    vlmi.load(str(folder)).eval("What is shown?", imgs=["cat.jpg"])

Recipe constraints, each checked by the tests that load these folders:
Qwen2-VL's ``mrope_section`` sums to ``head_dim / 2``; InternVL's
``image_seq_length`` matches on config and processor and its template emits
``<IMG_CONTEXT>``; pad and eos are distinct tokens; the trained tokenizer adds
no BOS, so the templates do not rely on one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vlmi_transformers.testing.tokenizer import train_tokenizer

#: Text backbone sizes shared by every tiny checkpoint (head_dim = 64 / 4 = 16).
TEXT_SIZES: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 4096,
}
#: Larger than Transformers' 0.02, so that random logits have clear winners
#: and greedy decoding is not decided by float rounding.
INIT_RANGE = 0.2

_CHATML_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_CHATML_NAMED = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}

QWEN2_VL_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

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


@dataclass(frozen=True)
class TinyRecipe:
    """How one architecture's tiny checkpoint is built."""

    model_type: str
    description: str
    build: Callable[[Path, int], None]


def _save_model(config: Any, folder: Path, seed: int) -> None:
    import torch
    from transformers import AutoModelForImageTextToText

    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config, dtype=torch.float32)
    model.save_pretrained(folder)


def _text_config(tokenizer: Any, **extra: Any) -> dict[str, Any]:
    """The tiny text backbone's config: shared sizes, the tokenizer's vocab and eos/pad ids."""
    return {
        **TEXT_SIZES,
        "vocab_size": len(tokenizer),
        "bos_token_id": None,  # a locally trained tokenizer adds no BOS
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "initializer_range": INIT_RANGE,
        **extra,
    }


def _build_qwen2_vl(folder: Path, seed: int) -> None:
    from transformers import Qwen2VLConfig, Qwen2VLImageProcessor, Qwen2VLProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    specials = [
        *_CHATML_SPECIALS,
        "<|vision_start|>",
        "<|vision_end|>",
        "<|image_pad|>",
        "<|video_pad|>",
    ]
    tokenizer = train_tokenizer(
        specials,
        named_tokens={
            **_CHATML_NAMED,
            "image_token": "<|image_pad|>",
            "video_token": "<|video_pad|>",
            "vision_bos_token": "<|vision_start|>",
            "vision_eos_token": "<|vision_end|>",
        },
        seed=seed,
    )
    ids = tokenizer.convert_tokens_to_ids
    config = Qwen2VLConfig(
        text_config=_text_config(
            tokenizer,
            rope_parameters={
                "rope_type": "default",
                "rope_theta": 10000.0,
                "mrope_section": [2, 3, 3],
            },
        ),
        vision_config={
            "depth": 2,
            "embed_dim": 32,
            "hidden_size": TEXT_SIZES["hidden_size"],
            "num_heads": 2,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "initializer_range": INIT_RANGE,
        },
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    _save_model(config, folder, seed)
    # 4 to 16 merged tokens per image (each covers 28x28 pixels)
    pixels = {"shortest_edge": 28 * 28 * 4, "longest_edge": 28 * 28 * 16}
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=pixels),
        video_processor=Qwen2VLVideoProcessor(size=pixels),
        tokenizer=tokenizer,
        chat_template=QWEN2_VL_TEMPLATE,
    )
    processor.save_pretrained(folder)


def _build_internvl(folder: Path, seed: int) -> None:
    from transformers import GotOcr2ImageProcessor, InternVLConfig, InternVLProcessor
    from transformers.models.internvl.video_processing_internvl import InternVLVideoProcessor

    specials = [*_CHATML_SPECIALS, "<img>", "</img>", "<IMG_CONTEXT>", "<video>"]
    tokenizer = train_tokenizer(
        specials,
        named_tokens={
            **_CHATML_NAMED,
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
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": [image_size, image_size],
            "patch_size": [patch_size, patch_size],
            "initializer_range": INIT_RANGE,
        },
        text_config=_text_config(tokenizer, model_type="qwen2", tie_word_embeddings=False),
        image_token_id=ids("<IMG_CONTEXT>"),
        image_seq_length=image_seq_length,
        downsample_ratio=downsample,
        tie_word_embeddings=False,
    )
    _save_model(config, folder, seed)
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


def _build_llava(folder: Path, seed: int) -> None:
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
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": image_size,
            "patch_size": patch_size,
            "projection_dim": 32,
            "initializer_range": INIT_RANGE,
        },
        text_config=_text_config(tokenizer, model_type="llama"),
        image_token_id=ids("<image>"),
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
    )
    _save_model(config, folder, seed)
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


#: The architectures a tiny checkpoint can be made for, by Transformers model_type.
TINY_RECIPES: dict[str, TinyRecipe] = {
    "qwen2_vl": TinyRecipe("qwen2_vl", "Qwen2-VL: 2-D RoPE ViT, M-RoPE text", _build_qwen2_vl),
    "internvl": TinyRecipe("internvl", "InternVL (native): tiled ViT, Qwen2 text", _build_internvl),
    "llava": TinyRecipe("llava", "LLaVA: CLIP vision tower + Llama text", _build_llava),
}


def make_tiny_checkpoint(model_type: str, folder: str | Path, *, seed: int = 0) -> Path:
    """Write a tiny random-weight checkpoint of ``model_type`` into ``folder``.

    :param model_type: one of :data:`TINY_RECIPES` (``qwen2_vl``, ``internvl``, ``llava``).
    :param folder: created if missing; existing files are overwritten.
    :param seed: seeds the tokenizer corpus and the weights.
    :returns: the folder, ready for ``from_pretrained`` or ``vlmi.load``.
    """
    recipe = TINY_RECIPES.get(model_type)
    if recipe is None:
        raise ValueError(f"no tiny recipe for {model_type!r}; choose one of {sorted(TINY_RECIPES)}")
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    recipe.build(target, seed)
    return target


_MADE: dict[tuple[str, int], Path] = {}


def tiny_checkpoint(model_type: str, *, seed: int = 0) -> Path:
    """A tiny checkpoint made once per process in a temporary folder (removed at exit).

    For test modules that need a folder at collection time, e.g. as a
    ``ModelConformance.model_name``.
    """
    key = (model_type, seed)
    if key not in _MADE:
        import atexit
        import shutil
        import tempfile

        root = Path(tempfile.mkdtemp(prefix="vlmi-tiny-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        _MADE[key] = make_tiny_checkpoint(model_type, root / f"tiny-{model_type}", seed=seed)
    return _MADE[key]


__all__ = ["TINY_RECIPES", "TinyRecipe", "make_tiny_checkpoint", "tiny_checkpoint"]
