"""A tiny Ovis2.5 checkpoint that vLLM's own ``Ovis2_5`` architecture loads (nothing is downloaded).

Sources of the keys and names (the released ``AIDC-AI/Ovis2.5-9B`` files, as
mirrored in github.com/Theo-Yim/VLMs ``Ovis/HF_Repo/`` at commit 42837fe,
and vLLM 0.32's loader, ``vllm/model_executor/models/ovis2_5.py`` and
``siglip2navit.py``):

- ``config.json``: ``Ovis2_5`` / ``ovis2_5`` with the released top-level keys
  (``hidden_size``, ``vocab_size``, ``visual_vocab_size``,
  ``conversation_formatter_class``), an ``llm_config`` (Qwen3) and a
  ``vit_config`` (``siglip2_navit``: patch 16, ``hidden_stride`` 2, RoPE,
  original position embedding kept). The released configuration class is
  remote code (``configuration_ovis2_5.py``); :data:`CONFIG_SOURCE` is a
  small class of our own that reads the same keys.
- the tokenizer: Qwen3's ids. vLLM's Ovis2.5 code hard-codes them
  (``<|image_pad|>`` 151655; the indicator tokens 151672-151675, which its
  processor adds after ``<|im_start|>`` ... ``</think>`` as 151669-151675),
  so a locally trained byte-level BPE vocabulary is padded with unused
  tokens to 151643 and the released added tokens follow at their released
  ids. The chat template is the released ``tokenizer_config.json``'s.
- ``preprocessor_config.json``: a SigLIP image processor (vLLM's
  ``Ovis2_5Processor`` resizes each image itself and asks the image
  processor for one (3, H, W) array).
- weights under the released names: ``llm.*`` (Qwen3), ``visual_tokenizer.vit.
  vision_model.*`` (SigLIP2-NaViT; q/k/v separate), ``visual_tokenizer.head.0``
  (no bias) and ``.head.1`` (layer norm), ``vte.weight``.

Sizes: text width 64 in 2 heads of 32 (vLLM's CPU attention takes 32), 2
layers; vision width 64 in 2 heads of 32, 2 layers; 64 visual words.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlmi_testkit.tokenizer import padded_tokenizer

#: the released tokenizer's added tokens, from id 151643 on, in order
QWEN3_ADDED = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
    "<tool_response>",
    "</tool_response>",
    "<think>",
    "</think>",
)
#: Qwen3's first added-token id (the BPE vocabulary is padded up to it)
FIRST_ADDED_ID = 151643
#: the embedding rows of the released text model
VOCAB_SIZE = 151936

#: the released chat template (tokenizer_config.json and chat_template.json)
CHAT_TEMPLATE = (
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n'}}"
    "{%- if message.role == 'system' or message.role == 'user' %}"
    "{%- if message.content is string %}"
    "{{- message.content | replace('<image>', '') | replace('<video>', '') }}"
    "{%- else %}{%- for item in message.content %}"
    "{%- if item.type == 'text' and 'text' in item %}"
    "{{- item.text | replace('<image>', '') | replace('<video>', '') }}"
    "{%- elif item.type == 'image' %}{{- '<image>'}}"
    "{%- elif item.type == 'video' %}{{- '<video>'}}"
    "{%- else %}{{- raise_exception('Invalid content type. Supported types for system and "
    "user are text, image, video.')}}{%- endif %}"
    "{%- if not loop.last %}{{- '\\n'}}{%- endif %}{%- endfor %}{%- endif %}"
    "{%- elif message.role == 'assistant' %}{%- set content = '' %}"
    "{%- if message.content is string %}"
    "{%- set content = message.content | replace('<image>', '') | replace('<video>', '') %}"
    "{%- else %}{%- for item in message.content %}"
    "{%- if item.type == 'text' and 'text' in item %}"
    "{%- set content = content ~ (item.text | replace('<image>', '') "
    "| replace('<video>', '')) %}"
    "{%- else %}{{- raise_exception('Invalid content type. Supported type for assistant is "
    "text.')}}{%- endif %}{%- endfor %}{%- endif %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}{{- content }}"
    "{%- else %}{{- raise_exception('Invalid role. Supported roles are system, user, "
    "assistant.')}}{%- endif %}{{- '<|im_end|>\\n'}}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}"
)

TEXT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 32,
}
VISION = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "image_size": 64,
    "patch_size": 16,
    "hidden_stride": 2,
}
VISUAL_VOCAB = 64

CONFIG_SOURCE = '''\
"""Ovis2_5_Config for a tiny test checkpoint: reads the keys of a released Ovis2.5 config."""

from transformers import AutoConfig, PretrainedConfig


class Siglip2NavitConfig(PretrainedConfig):
    model_type = "siglip2_navit"


class Ovis2_5_Config(PretrainedConfig):
    model_type = "ovis2_5"
    sub_configs = {"vit_config": Siglip2NavitConfig}

    def __init__(self, llm_config=None, vit_config=None, visual_vocab_size=65536,
                 hidden_size=None, conversation_formatter_class=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(llm_config, dict):
            llm = dict(llm_config)
            llm_config = AutoConfig.for_model(llm.pop("model_type", "qwen3"), **llm)
        self.llm_config = llm_config
        if isinstance(vit_config, dict):
            vit_config = Siglip2NavitConfig(**vit_config)
        self.vit_config = vit_config
        self.visual_vocab_size = visual_vocab_size
        self.hidden_size = hidden_size
        self.conversation_formatter_class = conversation_formatter_class

    def to_dict(self):
        output = super().to_dict()
        for key in ("llm_config", "vit_config"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, dict):
                output[key] = value.to_dict()
        return output
'''


def ovis2_5_tokenizer(seed: int = 0) -> Any:
    """A fast tokenizer with Qwen3's added tokens at their released ids, and Ovis2.5's template."""
    return padded_tokenizer(
        {token: FIRST_ADDED_ID + i for i, token in enumerate(QWEN3_ADDED)},
        named_tokens={"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
        chat_template=CHAT_TEMPLATE,
        seed=seed,
    )


def make_tiny_ovis2_5(folder: str | Path, *, seed: int = 0) -> Path:
    """Write the tiny Ovis2.5 checkpoint into ``folder`` (created if missing)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    tokenizer = ovis2_5_tokenizer(seed)
    tokenizer.save_pretrained(target)
    ids = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_end|>"])
    config = _config(ids[0], ids[1])
    (target / "config.json").write_text(json.dumps(config, indent=2))
    (target / "configuration_ovis2_5.py").write_text(CONFIG_SOURCE)
    (target / "generation_config.json").write_text(
        json.dumps({"eos_token_id": [ids[1], ids[0]]}, indent=2)
    )
    (target / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "image_processor_type": "SiglipImageProcessor",
                "do_resize": True,
                "size": {"height": 448, "width": 448},
                "resample": 3,
                "do_rescale": True,
                "rescale_factor": 1 / 255,
                "do_normalize": True,
                "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.5, 0.5, 0.5],
            },
            indent=2,
        )
    )
    _save_weights(config, target, seed)
    return target


def _config(bos: int, eos: int) -> dict[str, Any]:
    return {
        "architectures": ["Ovis2_5"],
        "auto_map": {
            "AutoConfig": "configuration_ovis2_5.Ovis2_5_Config",
            "AutoModelForCausalLM": "modeling_ovis2_5.Ovis2_5",
        },
        "conversation_formatter_class": "Qwen3ConversationFormatter",
        "hidden_size": TEXT["hidden_size"],
        "vocab_size": VOCAB_SIZE,
        "num_attention_heads": TEXT["num_attention_heads"],
        "max_position_embeddings": 40960,
        "model_type": "ovis2_5",
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "visual_vocab_size": VISUAL_VOCAB,
        "llm_config": {
            **TEXT,
            "architectures": ["Qwen3ForCausalLM"],
            "model_type": "qwen3",
            "attention_bias": False,
            "bos_token_id": bos,
            "eos_token_id": eos,
            "hidden_act": "silu",
            "max_position_embeddings": 40960,
            "rms_norm_eps": 1e-6,
            "rope_theta": 1000000,
            "tie_word_embeddings": False,
            "vocab_size": VOCAB_SIZE,
        },
        "vit_config": {
            **VISION,
            "model_type": "siglip2_navit",
            "attention_dropout": 0.0,
            "fullatt_block_indexes": None,
            "hidden_act": "gelu_pytorch_tanh",
            "layer_norm_eps": 1e-6,
            "num_channels": 3,
            "num_patches": -1,
            "preserve_original_pe": True,
            "temporal_patch_size": 1,
            "use_rope": True,
            "window_size": 112,
        },
    }


def _save_weights(config: dict[str, Any], folder: Path, seed: int) -> None:
    """Random weights named and shaped as in the released checkpoint (bfloat16, as released)."""
    import torch
    from safetensors.torch import save_file
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(seed)
    vit = config["vit_config"]
    width, inner, patch = vit["hidden_size"], vit["intermediate_size"], vit["patch_size"]
    prefix = "visual_tokenizer.vit.vision_model"
    positions = (vit["image_size"] // patch) ** 2
    shapes: dict[str, tuple[int, ...]] = {
        f"{prefix}.embeddings.patch_embedding.weight": (width, 3, patch, patch),
        f"{prefix}.embeddings.patch_embedding.bias": (width,),
        f"{prefix}.embeddings.position_embedding.weight": (positions, width),
        f"{prefix}.post_layernorm.weight": (width,),
        f"{prefix}.post_layernorm.bias": (width,),
        "visual_tokenizer.head.0.weight": (
            VISUAL_VOCAB - 4,
            width * vit["hidden_stride"] ** 2,
        ),
        "visual_tokenizer.head.1.weight": (VISUAL_VOCAB - 4,),
        "visual_tokenizer.head.1.bias": (VISUAL_VOCAB - 4,),
        "vte.weight": (VISUAL_VOCAB, config["hidden_size"]),
    }
    for i in range(vit["num_hidden_layers"]):
        layer = f"{prefix}.encoder.layers.{i}"
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            shapes[f"{layer}.self_attn.{name}.weight"] = (width, width)
            shapes[f"{layer}.self_attn.{name}.bias"] = (width,)
        shapes |= {
            f"{layer}.mlp.fc1.weight": (inner, width),
            f"{layer}.mlp.fc1.bias": (inner,),
            f"{layer}.mlp.fc2.weight": (width, inner),
            f"{layer}.mlp.fc2.bias": (width,),
            f"{layer}.layer_norm1.weight": (width,),
            f"{layer}.layer_norm1.bias": (width,),
            f"{layer}.layer_norm2.weight": (width,),
            f"{layer}.layer_norm2.bias": (width,),
        }
    tensors = {name: torch.randn(shape) * 0.2 for name, shape in shapes.items()}
    llm_config = {k: v for k, v in config["llm_config"].items() if k != "model_type"}
    llm = Qwen3ForCausalLM(Qwen3Config(**llm_config, initializer_range=0.2))
    for name, tensor in llm.state_dict().items():
        tensors[f"llm.{name}"] = tensor
    save_file(
        {name: t.to(torch.bfloat16).contiguous() for name, t in tensors.items()},
        str(folder / "model.safetensors"),
        metadata={"format": "pt"},
    )


__all__ = ["CHAT_TEMPLATE", "CONFIG_SOURCE", "make_tiny_ovis2_5", "ovis2_5_tokenizer"]
