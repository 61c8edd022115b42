"""The tiny-checkpoint factory: real architectures, saved and reloaded by from_pretrained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

from vlmi_testkit import make_tiny_checkpoint, train_tokenizer


def test_folder_reloads_through_the_auto_classes(arch: str, tmp_path: Path) -> None:
    folder = make_tiny_checkpoint(arch, tmp_path / arch)
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert "chat_template.jinja" in names or "chat_template.json" in names
    config = AutoConfig.from_pretrained(folder)
    assert config.model_type == arch
    model = AutoModelForImageTextToText.from_pretrained(folder)
    processor = AutoProcessor.from_pretrained(folder)
    tokenizer = processor.tokenizer
    text = model.config.get_text_config()
    assert text.vocab_size == len(tokenizer)
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    # the token the processor expands each image into (Gemma 3 marks images with another one)
    image_token = getattr(tokenizer, "image_token", None) or processor.image_token
    assert tokenizer.convert_ids_to_tokens(model.config.image_token_id) == image_token
    assert sum(p.numel() for p in model.parameters()) < 500_000


def test_same_seed_same_checkpoint(tmp_path: Path) -> None:
    first = make_tiny_checkpoint("llava", tmp_path / "a", seed=3)
    second = make_tiny_checkpoint("llava", tmp_path / "b", seed=3)
    third = make_tiny_checkpoint("llava", tmp_path / "c", seed=4)
    assert (first / "model.safetensors").read_bytes() == (second / "model.safetensors").read_bytes()
    assert (first / "model.safetensors").read_bytes() != (third / "model.safetensors").read_bytes()
    assert (first / "tokenizer.json").read_text() == (second / "tokenizer.json").read_text()


def test_recipe_constraints(tmp_path: Path) -> None:
    qwen = json.loads(
        (make_tiny_checkpoint("qwen2_vl", tmp_path / "q") / "config.json").read_text()
    )
    text = qwen["text_config"]
    head_dim = text["hidden_size"] // text["num_attention_heads"]
    assert sum(text["rope_parameters"]["mrope_section"]) == head_dim // 2
    internvl = make_tiny_checkpoint("internvl", tmp_path / "i")
    config = AutoConfig.from_pretrained(internvl)
    processor = AutoProcessor.from_pretrained(internvl)
    assert config.image_seq_length == processor.image_seq_length


def test_tokenizer_keeps_special_tokens_whole() -> None:
    tokenizer = train_tokenizer(["<|im_end|>", "<image>"], named_tokens={"eos_token": "<|im_end|>"})
    ids = tokenizer("a cat<image>and text<|im_end|>", add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_tokens_to_ids("<image>") in ids
    assert ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == "a catand text"
    assert tokenizer("héllo 你好 🙂", add_special_tokens=False)["input_ids"]  # bytes never fail


def test_unknown_recipe_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="qwen2_vl"):
        make_tiny_checkpoint("gpt2", tmp_path)


def test_greedy_generation_is_deterministic(arch: str, tmp_path: Path) -> None:
    folder = make_tiny_checkpoint(arch, tmp_path / arch)
    model = AutoModelForImageTextToText.from_pretrained(folder)
    processor = AutoProcessor.from_pretrained(folder)
    inputs = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "text", "text": "hello"}]}],
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
    )
    with torch.inference_mode():
        a = model.generate(**inputs, max_new_tokens=6, do_sample=False)
        b = model.generate(**inputs, max_new_tokens=6, do_sample=False)
    assert torch.equal(a, b)
