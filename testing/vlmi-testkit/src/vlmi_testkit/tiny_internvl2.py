"""A tiny InternVL2-shaped checkpoint, written locally for tests (nothing is downloaded).

The folder has what LMDeploy reads from a released InternVL2 checkpoint:

- ``config.json``: ``InternVLChatModel`` with the released keys (tiling,
  ``force_image_size`` 448, ``downsample_ratio`` 0.5, ``ps_version``, a
  ``vision_config`` for InternViT with patch 14, an ``llm_config``), so one
  448x448 tile is 256 image tokens, as in the real models. The text backbone
  is Qwen2-shaped, as in InternVL2-1B.
- ``configuration_internvl_chat.py``: the config class ``auto_map`` names.
  The released file ships with the checkpoint and cannot be fetched here;
  :data:`CONFIG_SOURCE` is a small class of our own that reads the same keys
  (``llm_config`` becomes a Transformers ``Qwen2Config``).
- a byte-level BPE tokenizer trained here with InternVL2's special tokens
  and the InternLM2-chat template (``{{ bos_token }}`` + ChatML) that
  InternVL2-2B/8B/26B carry in ``tokenizer_config.json``.
- random weights in the released layout (``vision_model.*``, ``mlp1.*``,
  ``language_model.*``), for an engine that loads them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The InternLM2-chat template of the released InternVL2-2B/8B/26B tokenizers.
INTERNLM2_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = (
    "<unk>",
    "<s>",
    "</s>",
    "<|im_start|>",
    "<|im_end|>",
    "<img>",
    "</img>",
    "<IMG_CONTEXT>",
    "<quad>",
    "</quad>",
    "<ref>",
    "</ref>",
    "<box>",
    "</box>",
)
VISION_SIZES = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_hidden_layers": 2,
    "image_size": 448,
    "patch_size": 14,
}
TEXT_SIZES = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "num_hidden_layers": 2,
    "max_position_embeddings": 32768,
}

CONFIG_SOURCE = '''\
"""InternVLChatConfig for a tiny test checkpoint: reads the keys of a released InternVL2 config."""

from transformers import PretrainedConfig, Qwen2Config


class InternVisionConfig(PretrainedConfig):
    model_type = "intern_vit_6b"


class InternVLChatConfig(PretrainedConfig):
    model_type = "internvl_chat"
    is_composition = True

    def __init__(self, vision_config=None, llm_config=None, **kwargs):
        super().__init__(**kwargs)
        self.vision_config = InternVisionConfig(**(vision_config or {}))
        self.llm_config = Qwen2Config(**(llm_config or {}))

    def to_dict(self):
        output = super().to_dict()
        output["vision_config"] = self.vision_config.to_dict()
        output["llm_config"] = self.llm_config.to_dict()
        return output
'''


def make_tiny_internvl2(folder: str | Path, *, seed: int = 0) -> Path:
    """Write the tiny InternVL2-shaped checkpoint into ``folder`` (created if missing)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(seed)
    tokenizer.save_pretrained(target)
    config = _config(tokenizer)
    (target / "config.json").write_text(json.dumps(config, indent=2))
    (target / "configuration_internvl_chat.py").write_text(CONFIG_SOURCE)
    (target / "generation_config.json").write_text(
        json.dumps({"eos_token_id": tokenizer.convert_tokens_to_ids("</s>")}, indent=2)
    )
    _save_weights(config, target, seed)
    return target


def _tokenizer(seed: int) -> Any:
    from vlmi_testkit.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(
        SPECIAL_TOKENS,
        named_tokens={
            "bos_token": "<s>",
            "eos_token": "</s>",
            "pad_token": "</s>",
            "unk_token": "<unk>",
        },
        seed=seed,
    )
    tokenizer.chat_template = INTERNLM2_CHAT_TEMPLATE
    return tokenizer


def _config(tokenizer: Any) -> dict[str, Any]:
    vocab = len(tokenizer)
    return {
        "architectures": ["InternVLChatModel"],
        "auto_map": {
            "AutoConfig": "configuration_internvl_chat.InternVLChatConfig",
            "AutoModel": "modeling_internvl_chat.InternVLChatModel",
            "AutoModelForCausalLM": "modeling_internvl_chat.InternVLChatModel",
        },
        "model_type": "internvl_chat",
        "template": "Hermes-2",
        "torch_dtype": "float16",
        "downsample_ratio": 0.5,
        "dynamic_image_size": True,
        "force_image_size": 448,
        "min_dynamic_patch": 1,
        "max_dynamic_patch": 12,
        "use_thumbnail": True,
        "ps_version": "v2",
        "select_layer": -1,
        "vision_config": {
            **VISION_SIZES,
            "architectures": ["InternVisionModel"],
            "model_type": "intern_vit_6b",
            "hidden_act": "gelu",
            "norm_type": "layer_norm",
            "layer_norm_eps": 1e-6,
            "qkv_bias": True,
            "qk_normalization": False,
            "use_flash_attn": False,
            "drop_path_rate": 0.0,
            "initializer_factor": 1.0,
            "torch_dtype": "float16",
        },
        "llm_config": {
            **TEXT_SIZES,
            "architectures": ["Qwen2ForCausalLM"],
            "model_type": "qwen2",
            "vocab_size": vocab,
            "bos_token_id": tokenizer.convert_tokens_to_ids("<s>"),
            "eos_token_id": tokenizer.convert_tokens_to_ids("</s>"),
            "tie_word_embeddings": False,
            "torch_dtype": "float16",
        },
    }


def _save_weights(config: dict[str, Any], folder: Path, seed: int) -> None:
    """Random weights named and shaped as in a released InternVL2 checkpoint."""
    import torch
    from safetensors.torch import save_file
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    vision, text = config["vision_config"], config["llm_config"]
    width, inner = vision["hidden_size"], vision["intermediate_size"]
    positions = (vision["image_size"] // vision["patch_size"]) ** 2 + 1
    shapes: dict[str, tuple[int, ...]] = {
        "vision_model.embeddings.class_embedding": (1, 1, width),
        "vision_model.embeddings.patch_embedding.weight": (width, 3, 14, 14),
        "vision_model.embeddings.patch_embedding.bias": (width,),
        "vision_model.embeddings.position_embedding": (1, positions, width),
    }
    for i in range(vision["num_hidden_layers"]):
        layer = f"vision_model.encoder.layers.{i}"
        shapes |= {
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
    shuffled = width * 4  # pixel shuffle with downsample_ratio 0.5
    llm_width = text["hidden_size"]
    shapes |= {
        "mlp1.0.weight": (shuffled,),
        "mlp1.0.bias": (shuffled,),
        "mlp1.1.weight": (llm_width, shuffled),
        "mlp1.1.bias": (llm_width,),
        "mlp1.3.weight": (llm_width, llm_width),
        "mlp1.3.bias": (llm_width,),
    }
    tensors = {
        name: torch.randn(shape, dtype=torch.float16) * 0.02 for name, shape in shapes.items()
    }
    llm = Qwen2ForCausalLM(Qwen2Config(**text)).to(torch.float16)
    for name, tensor in llm.state_dict().items():
        tensors[f"language_model.{name}"] = tensor.contiguous()
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})


__all__ = ["CONFIG_SOURCE", "INTERNLM2_CHAT_TEMPLATE", "SPECIAL_TOKENS", "make_tiny_internvl2"]
