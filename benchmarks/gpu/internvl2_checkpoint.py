"""An InternVL2-8B-shaped checkpoint with random weights, in the released layout, for LMDeploy.

InternVL2-8B is InternViT-300M + an MLP projector + InternLM2 (internlm2_5-7b-chat).
:func:`make_internvl2_checkpoint` writes a folder LMDeploy reads as it reads
the released one: ``config.json`` with the released keys (``llm_config`` of an
``InternLM2ForCausalLM``), a ``configuration_internvl_chat.py`` of our own that
reads them (the released file ships with the weights and is not fetched here),
the test kit's tokenizer (InternVL2's special tokens, InternLM2-chat
template), and random weights under the released names
(``vision_model.*``, ``mlp1.*``, ``language_model.model.layers.N.attention.wqkv``,
...), generated on ``device`` one tensor at a time and saved in shards.

:data:`SHAPES_8B` are the released sizes; :data:`SHAPES_TINY` shrink every
dimension for a CPU check of the same code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SHAPES_8B = {
    "vision": {"hidden_size": 1024, "intermediate_size": 4096, "heads": 16, "layers": 24},
    "text": {
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "heads": 32,
        "kv_heads": 8,
        "layers": 32,
        "vocab_size": 92553,
    },
}
SHAPES_TINY = {
    "vision": {"hidden_size": 32, "intermediate_size": 64, "heads": 2, "layers": 2},
    "text": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "heads": 4,
        "kv_heads": 2,
        "layers": 2,
        "vocab_size": 1024,
    },
}

CONFIG_SOURCE = '''\
"""InternVLChatConfig of a random-weight checkpoint: reads a released InternVL2 config's keys."""

from transformers import PretrainedConfig


class InternVisionConfig(PretrainedConfig):
    model_type = "intern_vit_6b"


class InternLM2Config(PretrainedConfig):
    model_type = "internlm2"

    def __init__(self, rope_scaling=None, **kwargs):
        super().__init__(**kwargs)
        self.rope_scaling = rope_scaling  # kept as the released InternLM2 config keeps it


class InternVLChatConfig(PretrainedConfig):
    model_type = "internvl_chat"
    is_composition = True

    def __init__(self, vision_config=None, llm_config=None, **kwargs):
        super().__init__(**kwargs)
        self.vision_config = InternVisionConfig(**(vision_config or {}))
        self.llm_config = InternLM2Config(**(llm_config or {}))

    def to_dict(self):
        output = super().to_dict()
        output["vision_config"] = self.vision_config.to_dict()
        output["llm_config"] = self.llm_config.to_dict()
        return output
'''


def config(
    shapes: dict[str, dict[str, int]], tokenizer: Any, dtype: str = "bfloat16"
) -> dict[str, Any]:
    """The released InternVL2-8B ``config.json`` keys, with the given sizes."""
    vision, text = shapes["vision"], shapes["text"]
    if len(tokenizer) > text["vocab_size"]:
        raise ValueError(f"vocab_size {text['vocab_size']} < tokenizer size {len(tokenizer)}")
    return {
        "architectures": ["InternVLChatModel"],
        "auto_map": {
            "AutoConfig": "configuration_internvl_chat.InternVLChatConfig",
            "AutoModel": "modeling_internvl_chat.InternVLChatModel",
            "AutoModelForCausalLM": "modeling_internvl_chat.InternVLChatModel",
        },
        "model_type": "internvl_chat",
        "template": "internlm2-chat",
        "torch_dtype": dtype,
        "downsample_ratio": 0.5,
        "dynamic_image_size": True,
        "force_image_size": 448,
        "min_dynamic_patch": 1,
        "max_dynamic_patch": 12,
        "use_thumbnail": True,
        "ps_version": "v2",
        "select_layer": -1,
        "vision_config": {
            "architectures": ["InternVisionModel"],
            "model_type": "intern_vit_6b",
            "hidden_size": vision["hidden_size"],
            "intermediate_size": vision["intermediate_size"],
            "num_attention_heads": vision["heads"],
            "num_hidden_layers": vision["layers"],
            "image_size": 448,
            "patch_size": 14,
            "num_channels": 3,
            "hidden_act": "gelu",
            "norm_type": "layer_norm",
            "layer_norm_eps": 1e-6,
            "qkv_bias": True,
            "qk_normalization": False,
            "use_flash_attn": False,
            "drop_path_rate": 0.0,
            "initializer_factor": 1.0,
            "torch_dtype": dtype,
        },
        "llm_config": {
            "architectures": ["InternLM2ForCausalLM"],
            "model_type": "internlm2",
            "hidden_size": text["hidden_size"],
            "intermediate_size": text["intermediate_size"],
            "num_attention_heads": text["heads"],
            "num_key_value_heads": text["kv_heads"],
            "num_hidden_layers": text["layers"],
            "vocab_size": text["vocab_size"],
            "hidden_act": "silu",
            "max_position_embeddings": 32768,
            "rms_norm_eps": 1e-5,
            "rope_theta": 1000000,
            "rope_scaling": {"type": "dynamic", "factor": 2.0},
            "bias": False,
            "tie_word_embeddings": False,
            "attn_implementation": "eager",
            "bos_token_id": tokenizer.convert_tokens_to_ids("<s>"),
            "eos_token_id": tokenizer.convert_tokens_to_ids("</s>"),
            "pad_token_id": tokenizer.convert_tokens_to_ids("</s>"),
            "torch_dtype": dtype,
        },
    }


def weight_shapes(shapes: dict[str, dict[str, int]]) -> dict[str, tuple[int, ...]]:
    """Every tensor of the released layout, name -> shape."""
    vision, text = shapes["vision"], shapes["text"]
    width, inner = vision["hidden_size"], vision["intermediate_size"]
    found: dict[str, tuple[int, ...]] = {
        "vision_model.embeddings.class_embedding": (1, 1, width),
        "vision_model.embeddings.patch_embedding.weight": (width, 3, 14, 14),
        "vision_model.embeddings.patch_embedding.bias": (width,),
        "vision_model.embeddings.position_embedding": (1, (448 // 14) ** 2 + 1, width),
    }
    for i in range(vision["layers"]):
        layer = f"vision_model.encoder.layers.{i}"
        found |= {
            f"{layer}.attn.qkv.weight": (3 * width, width),
            f"{layer}.attn.qkv.bias": (3 * width,),
            f"{layer}.attn.proj.weight": (width, width),
            f"{layer}.attn.proj.bias": (width,),
            f"{layer}.mlp.fc1.weight": (inner, width),
            f"{layer}.mlp.fc1.bias": (inner,),
            f"{layer}.mlp.fc2.weight": (width, inner),
            f"{layer}.mlp.fc2.bias": (width,),
            f"{layer}.norm1.weight": (width,),
            f"{layer}.norm1.bias": (width,),
            f"{layer}.norm2.weight": (width,),
            f"{layer}.norm2.bias": (width,),
            f"{layer}.ls1": (width,),
            f"{layer}.ls2": (width,),
        }
    hidden, shuffled = text["hidden_size"], width * 4  # pixel shuffle, downsample_ratio 0.5
    found |= {
        "mlp1.0.weight": (shuffled,),
        "mlp1.0.bias": (shuffled,),
        "mlp1.1.weight": (hidden, shuffled),
        "mlp1.1.bias": (hidden,),
        "mlp1.3.weight": (hidden, hidden),
        "mlp1.3.bias": (hidden,),
    }
    head = hidden // text["heads"]
    qkv = (text["heads"] + 2 * text["kv_heads"]) * head
    found["language_model.model.tok_embeddings.weight"] = (text["vocab_size"], hidden)
    for i in range(text["layers"]):
        layer = f"language_model.model.layers.{i}"
        found |= {
            f"{layer}.attention.wqkv.weight": (qkv, hidden),
            f"{layer}.attention.wo.weight": (hidden, text["heads"] * head),
            f"{layer}.feed_forward.w1.weight": (text["intermediate_size"], hidden),
            f"{layer}.feed_forward.w3.weight": (text["intermediate_size"], hidden),
            f"{layer}.feed_forward.w2.weight": (hidden, text["intermediate_size"]),
            f"{layer}.attention_norm.weight": (hidden,),
            f"{layer}.ffn_norm.weight": (hidden,),
        }
    found["language_model.model.norm.weight"] = (hidden,)
    found["language_model.output.weight"] = (text["vocab_size"], hidden)
    return found


def make_internvl2_checkpoint(
    folder: Path,
    shapes: dict[str, dict[str, int]] = SHAPES_8B,
    device: str = "cuda",
    dtype: str = "bfloat16",
    shard_bytes: int = 4 * 2**30,
    seed: int = 0,
) -> Path:
    """Write the checkpoint into ``folder``; norms are ones, other weights N(0, 0.02)."""
    import torch
    from safetensors.torch import save_file

    from vlmi_testkit import train_tokenizer
    from vlmi_testkit.tiny_internvl2 import INTERNLM2_CHAT_TEMPLATE, SPECIAL_TOKENS

    folder.mkdir(parents=True, exist_ok=True)
    names = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"}
    tokenizer = train_tokenizer(SPECIAL_TOKENS, named_tokens=names, seed=seed)
    tokenizer.chat_template = INTERNLM2_CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    (folder / "config.json").write_text(json.dumps(config(shapes, tokenizer, dtype), indent=2))
    (folder / "configuration_internvl_chat.py").write_text(CONFIG_SOURCE)
    eos = tokenizer.convert_tokens_to_ids("</s>")
    (folder / "generation_config.json").write_text(json.dumps({"eos_token_id": eos}))
    generator = torch.Generator(device=device).manual_seed(seed)
    kind = getattr(torch, dtype)
    index: dict[str, str] = {}
    shard: dict[str, Any] = {}
    shard_size = 0
    shards = 0

    def flush() -> None:
        nonlocal shard, shard_size, shards
        shards += 1
        name = f"model-{shards:05d}.safetensors"
        save_file({k: v.cpu() for k, v in shard.items()}, str(folder / name), {"format": "pt"})
        index.update(dict.fromkeys(shard, name))
        shard, shard_size = {}, 0

    for name, shape in weight_shapes(shapes).items():
        if name.endswith(("norm.weight", "norm1.weight", "norm2.weight", "mlp1.0.weight")):
            tensor = torch.ones(shape, dtype=kind, device=device)
        else:
            tensor = torch.randn(shape, generator=generator, device=device, dtype=kind) * 0.02
        shard[name] = tensor
        shard_size += tensor.numel() * tensor.element_size()
        if shard_size >= shard_bytes:
            flush()
    if shard:
        flush()
    total = sum((folder / f).stat().st_size for f in set(index.values()))
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": index}, indent=1)
    )
    return folder


__all__ = ["SHAPES_8B", "SHAPES_TINY", "make_internvl2_checkpoint", "weight_shapes"]
