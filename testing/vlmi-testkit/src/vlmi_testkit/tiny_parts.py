"""What every tiny checkpoint shares: backbone sizes, init range, ChatML tokens, saving."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Variant:
    """A text backbone size, and what an engine other than Transformers needs of a checkpoint.

    ``default``: head size 16, the smallest that Transformers runs. ``vllm``: head
    size 32 (vLLM's CPU attention takes 32, 64, 80, ... only), the weight names
    of the real hub checkpoints where Transformers saves others (LLaVA's and Gemma 3's
    ``vision_tower.vision_model.``), and the whitespace tokens real tokenizers
    have and vLLM's processors look up (Gemma 3's ``"\\n"``, ``"\\n\\n"``, ...).
    """

    name: str
    sizes: dict[str, Any] = field(default_factory=lambda: dict(TEXT_SIZES))
    hub_weight_names: bool = False
    newline_tokens: bool = False

    @property
    def head_dim(self) -> int:
        return int(self.sizes["hidden_size"] // self.sizes["num_attention_heads"])

    @property
    def mrope_section(self) -> list[int]:
        """Qwen-VL's M-RoPE split of ``head_dim / 2`` (temporal, height, width)."""
        half = self.head_dim // 2
        return [half // 4, 3 * half // 8, half - half // 4 - 3 * half // 8]


VARIANTS: dict[str, Variant] = {
    "default": Variant("default"),
    "vllm": Variant(
        "vllm",
        {**TEXT_SIZES, "hidden_size": 128, "intermediate_size": 256},
        hub_weight_names=True,
        newline_tokens=True,
    ),
}
DEFAULT = VARIANTS["default"]

CHATML_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML_NAMED = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}


@dataclass(frozen=True)
class TinyRecipe:
    """How one architecture's tiny checkpoint is built."""

    model_type: str
    description: str
    build: Callable[[Path, int, Variant], None]


def save_model(config: Any, folder: Path, seed: int) -> None:
    """Random float32 weights for ``config``, seeded, saved as ``model.safetensors``."""
    import torch
    from transformers import AutoModelForImageTextToText

    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config, dtype=torch.float32)
    model.save_pretrained(folder)


def text_config(tokenizer: Any, variant: Variant = DEFAULT, **extra: Any) -> dict[str, Any]:
    """The tiny text backbone's config: the variant's sizes, the vocab, eos and pad ids."""
    return {
        **variant.sizes,
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
    "DEFAULT",
    "HEAD_DIM",
    "INIT_RANGE",
    "TEXT_SIZES",
    "VARIANTS",
    "VISION_SIZES",
    "TinyRecipe",
    "Variant",
    "save_model",
    "text_config",
]
