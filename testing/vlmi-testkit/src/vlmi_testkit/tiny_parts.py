"""What every tiny checkpoint shares: backbone sizes, init range, ChatML tokens, saving."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Text backbone sizes shared by every tiny checkpoint (head_dim = 64 / 4 = 16).
TEXT_SIZES: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 4096,
}
#: Per-head size of the tiny text backbones.
HEAD_DIM = TEXT_SIZES["hidden_size"] // TEXT_SIZES["num_attention_heads"]
#: Larger than Transformers' 0.02, so that random logits have clear winners
#: and greedy decoding is not decided by float rounding.
INIT_RANGE = 0.2
#: Vision tower sizes of the ViT-style recipes (InternViT, CLIP, SigLIP).
VISION_SIZES: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "initializer_range": INIT_RANGE,
}

CHATML_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML_NAMED = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}


@dataclass(frozen=True)
class TinyRecipe:
    """How one architecture's tiny checkpoint is built."""

    model_type: str
    description: str
    build: Callable[[Path, int], None]


def save_model(config: Any, folder: Path, seed: int) -> None:
    """Random float32 weights for ``config``, seeded, saved as ``model.safetensors``."""
    import torch
    from transformers import AutoModelForImageTextToText

    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config, dtype=torch.float32)
    model.save_pretrained(folder)


def text_config(tokenizer: Any, **extra: Any) -> dict[str, Any]:
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


__all__ = [
    "CHATML_NAMED",
    "CHATML_SPECIALS",
    "HEAD_DIM",
    "INIT_RANGE",
    "TEXT_SIZES",
    "VISION_SIZES",
    "TinyRecipe",
    "save_model",
    "text_config",
]
