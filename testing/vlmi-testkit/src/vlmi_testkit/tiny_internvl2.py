"""Tiny InternVLChatModel checkpoints, written locally for tests (nothing is downloaded).

The folder has what LMDeploy and vLLM read from a released InternVL checkpoint
(the authors' remote-code format, ``InternVLChatModel``):

- ``config.json``: ``InternVLChatModel`` with the released keys (tiling,
  ``force_image_size`` 448, ``downsample_ratio`` 0.5, ``ps_version``,
  ``select_layer``, ``template``, a ``vision_config`` for InternViT with patch
  14, an ``llm_config``), so one 448x448 tile is 256 image tokens, as in the
  real models. The keys are those of the authors' ``config.json`` files
  (Hugging Face OpenGVLab/InternVL2-1B, -8B, InternVL3_5-8B) as vLLM 0.32's
  ``model_executor/models/internvl.py`` and ``intern_vit.py`` read them.
- ``configuration_internvl_chat.py``: the config class ``auto_map`` names.
  The released file ships with the checkpoint and cannot be fetched here;
  :data:`CONFIG_SOURCE` is a small class of our own that reads the same keys
  (``llm_config`` becomes a Transformers ``Qwen2Config``/``Qwen3Config``, or
  an InternLM2 config class of our own: InternLM2's is remote code too).
- a byte-level BPE tokenizer trained here with InternVL2's special tokens
  and the InternLM2-chat template (``{{ bos_token }}`` + ChatML) that
  InternVL2-2B/8B/26B carry in ``tokenizer_config.json``. It stands in for
  the released tokenizers (InternLM2's is SentencePiece remote code): the
  prompt layout and special tokens are the released ones, the ids are not.
- random weights in the released layout (``vision_model.*``, ``mlp1.*``,
  ``language_model.*``; the text backbone's names as its own checkpoints have
  them: ``model.tok_embeddings``, ``attention.wqkv``, ``feed_forward.w1/w2/w3``
  and ``output`` for InternLM2, as vLLM 0.32's ``internlm2.py`` loads them).

Backbones (:data:`BACKBONES`): ``qwen2`` (InternVL2-1B, template Hermes-2),
``internlm2`` (InternVL2-2B/8B/26B, template internlm2-chat) and ``qwen3``
(InternVL3.5, template internvl2_5). Variants: ``default`` (head size 16,
smallest; LMDeploy's preprocessing reads it) and ``vllm`` (head size 32, which
vLLM's CPU attention takes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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
#: the vllm variant: head size 32 in both towers (vLLM's CPU attention takes 32, 64, ...)
WIDER = {"hidden_size": 64, "intermediate_size": 128}


@dataclass(frozen=True)
class Backbone:
    """One text backbone of InternVLChatModel, as its released ``llm_config`` names it."""

    architecture: str
    model_type: str
    #: the conversation template the released config.json names (``template``)
    template: str
    released_as: str


BACKBONES = {
    "qwen2": Backbone("Qwen2ForCausalLM", "qwen2", "Hermes-2", "InternVL2-1B"),
    "internlm2": Backbone(
        "InternLM2ForCausalLM", "internlm2", "internlm2-chat", "InternVL2-2B, -8B, -26B"
    ),
    "qwen3": Backbone("Qwen3ForCausalLM", "qwen3", "internvl2_5", "InternVL3.5-1B ... -8B"),
}

CONFIG_SOURCE = '''\
"""InternVLChatConfig for a tiny test checkpoint: reads the keys of a released InternVL2 config."""

from transformers import PretrainedConfig, Qwen2Config, Qwen3Config


class InternVisionConfig(PretrainedConfig):
    model_type = "intern_vit_6b"


class InternLM2Config(PretrainedConfig):
    """The keys of the released InternLM2 config (its class ships as remote code)."""

    model_type = "internlm2"

    def __init__(self, rope_theta=10000, rope_scaling=None, **kwargs):
        # kept as attributes, as the released class keeps them (vLLM reads both)
        self.rope_theta = rope_theta
        self.rope_scaling = rope_scaling
        super().__init__(**kwargs)


TEXT_CONFIGS = {"qwen2": Qwen2Config, "qwen3": Qwen3Config, "internlm2": InternLM2Config}


class InternVLChatConfig(PretrainedConfig):
    model_type = "internvl_chat"
    is_composition = True

    def __init__(self, vision_config=None, llm_config=None, **kwargs):
        super().__init__(**kwargs)
        self.vision_config = InternVisionConfig(**(vision_config or {}))
        llm_config = dict(llm_config or {})
        self.llm_config = TEXT_CONFIGS[llm_config.get("model_type", "qwen2")](**llm_config)

    def to_dict(self):
        output = super().to_dict()
        output["vision_config"] = self.vision_config.to_dict()
        output["llm_config"] = self.llm_config.to_dict()
        return output
'''


def make_tiny_internvl2(
    folder: str | Path, *, seed: int = 0, backbone: str = "qwen2", variant: str = "default"
) -> Path:
    """Write a tiny InternVLChatModel checkpoint into ``folder`` (created if missing).

    :param backbone: a key of :data:`BACKBONES` (the text model and its template).
    :param variant: ``default`` (head size 16) or ``vllm`` (head size 32).
    """
    if backbone not in BACKBONES or variant not in ("default", "vllm"):
        raise ValueError(f"backbone is one of {sorted(BACKBONES)}, variant default or vllm")
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(seed)
    tokenizer.save_pretrained(target)
    config = _config(tokenizer, BACKBONES[backbone], wide=variant == "vllm")
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


def _config(tokenizer: Any, backbone: Backbone, wide: bool) -> dict[str, Any]:
    vocab = len(tokenizer)
    sizes = WIDER if wide else {}
    text: dict[str, Any] = {**TEXT_SIZES, **sizes}
    if backbone.model_type == "internlm2":  # the released InternLM2 llm_config's own keys
        text |= {"bias": False, "hidden_act": "silu", "rms_norm_eps": 1e-5}
        text |= {"rope_theta": 1000000, "rope_scaling": {"type": "dynamic", "factor": 2.0}}
    if backbone.model_type == "qwen3":
        text["head_dim"] = text["hidden_size"] // text["num_attention_heads"]
    return {
        "architectures": ["InternVLChatModel"],
        "auto_map": {
            "AutoConfig": "configuration_internvl_chat.InternVLChatConfig",
            "AutoModel": "modeling_internvl_chat.InternVLChatModel",
            "AutoModelForCausalLM": "modeling_internvl_chat.InternVLChatModel",
        },
        "model_type": "internvl_chat",
        "template": backbone.template,
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
            **sizes,
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
            **text,
            "architectures": [backbone.architecture],
            "model_type": backbone.model_type,
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
    if text["model_type"] == "internlm2":
        shapes |= {
            f"language_model.{name}": shape for name, shape in _internlm2_shapes(text).items()
        }
    tensors = {
        name: torch.randn(shape, dtype=torch.float16) * 0.02 for name, shape in shapes.items()
    }
    for name in tensors:
        if name.startswith("language_model.") and name.endswith("norm.weight"):
            tensors[name] += 1  # RMSNorm scales near 1, as trained ones are
    if text["model_type"] != "internlm2":
        import transformers

        kind = "Qwen3" if text["model_type"] == "qwen3" else "Qwen2"
        config_class = getattr(transformers, f"{kind}Config")
        llm = getattr(transformers, f"{kind}ForCausalLM")(config_class(**text)).to(torch.float16)
        for name, tensor in llm.state_dict().items():
            tensors[f"language_model.{name}"] = tensor.contiguous()
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})


def _internlm2_shapes(text: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """InternLM2's weight names and shapes (its checkpoints' ``modeling_internlm2.py`` layout)."""
    width, inner, vocab = text["hidden_size"], text["intermediate_size"], text["vocab_size"]
    head = width // text["num_attention_heads"]
    qkv = (text["num_attention_heads"] + 2 * text["num_key_value_heads"]) * head
    shapes: dict[str, tuple[int, ...]] = {
        "model.tok_embeddings.weight": (vocab, width),
        "model.norm.weight": (width,),
        "output.weight": (vocab, width),
    }
    for i in range(text["num_hidden_layers"]):
        layer = f"model.layers.{i}"
        shapes |= {
            f"{layer}.attention.wqkv.weight": (qkv, width),
            f"{layer}.attention.wo.weight": (width, width),
            f"{layer}.feed_forward.w1.weight": (inner, width),
            f"{layer}.feed_forward.w3.weight": (inner, width),
            f"{layer}.feed_forward.w2.weight": (width, inner),
            f"{layer}.attention_norm.weight": (width,),
            f"{layer}.ffn_norm.weight": (width,),
        }
    return shapes


__all__ = [
    "BACKBONES",
    "CONFIG_SOURCE",
    "INTERNLM2_CHAT_TEMPLATE",
    "SPECIAL_TOKENS",
    "Backbone",
    "make_tiny_internvl2",
]
