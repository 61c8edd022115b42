"""Test helpers for plugins built on Transformers: tiny local checkpoints."""

from __future__ import annotations

from vlmi_transformers.testing.tiny import (
    TINY_RECIPES,
    TinyRecipe,
    make_tiny_checkpoint,
    tiny_checkpoint,
)
from vlmi_transformers.testing.tokenizer import train_tokenizer

__all__ = [
    "TINY_RECIPES",
    "TinyRecipe",
    "make_tiny_checkpoint",
    "tiny_checkpoint",
    "train_tokenizer",
]
