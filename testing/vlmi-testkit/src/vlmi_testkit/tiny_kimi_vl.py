"""A tiny Kimi-VL checkpoint that vLLM's own ``KimiVLForConditionalGeneration`` loads.

Nothing is downloaded. Sources of the keys and names: vLLM 0.32's loader and
config (``vllm/model_executor/models/kimi_vl.py``, ``moonvit.py``,
``deepseek_v2.py``; ``vllm/transformers_utils/configs/kimi_vl.py`` and
``moonvit.py``, vLLM's own ``KimiVLConfig``, so no configuration code is
needed in the folder) and the released ``moonshotai/Kimi-VL-A3B-Instruct``
layout those files follow:

- ``config.json``: ``KimiVLForConditionalGeneration`` / ``kimi_vl`` with
  ``media_placeholder_token_id`` 163605 (``<|media_pad|>``), a MoonViT
  ``vision_config`` (patch 14, 2x2 merge, a learnable 64x64 position grid)
  and a DeepSeek-V3-style ``text_config``: multi-head latent attention with
  the released latent sizes (``kv_lora_rank`` 512, ``qk_rope_head_dim`` 64,
  the only ones vLLM's CPU MLA kernel takes: head size 576), no query
  compression (``q_lora_rank`` null), the first layer dense and the rest a
  mixture of experts (sigmoid scores, ``noaux_tc`` routing with a score
  correction bias, shared experts), as released but with 4 routed experts.
- the processor: the released one is the repository's own code
  (``processing_kimi_vl.py``, ``image_processing_kimi_vl.py``) and its
  tokenizer is a tiktoken tokenizer (``tokenization_moonshot.py``); neither
  ships here. :data:`PROCESSOR_SOURCE` is a processor of our own with the
  interface vLLM calls (``image_token``, ``image_processor.patch_size``,
  ``merge_kernel_size``, ``in_token_limit``; ``pixel_values`` as 14-pixel
  patches and ``image_grid_hws``), and the tokenizer is a locally trained
  byte-level BPE padded to Kimi's ids: its special tokens sit at the
  released ids from 163584 on (``[BOS]``, ``[EOS]``, ``<|im_end|>``, ...).
- weights under vLLM's module names for this architecture (``vision_tower.*``,
  ``multi_modal_projector.*``, ``language_model.*``).

Sizes: text width 64, 2 heads, 2 layers (one dense, one of experts); vision
width 64 in 2 heads of 32, 2 layers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlmi_testkit.tokenizer import padded_tokenizer

#: Kimi's special tokens and their ids in the released tokenizer
SPECIALS = {
    "[BOS]": 163584,
    "[EOS]": 163585,
    "<|im_end|>": 163586,
    "<|im_user|>": 163587,
    "<|im_assistant|>": 163588,
    "<|im_system|>": 163594,
    "<|im_middle|>": 163601,
    "<|media_start|>": 163602,
    "<|media_content|>": 163603,
    "<|media_end|>": 163604,
    "<|media_pad|>": 163605,
    "[PAD]": 163839,
}
VOCAB_SIZE = 163840
#: Kimi-VL's chat template: a default system turn, ``<|im_user|>user<|im_middle|>``
#: turns, each image as vLLM's placeholder string for this architecture
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if loop.first and messages[0]['role'] != 'system' -%}"
    "<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|>{%- endif -%}"
    "{%- if message['role'] == 'system' -%}<|im_system|>{%- endif -%}"
    "{%- if message['role'] == 'user' -%}<|im_user|>{%- endif -%}"
    "{%- if message['role'] == 'assistant' -%}<|im_assistant|>{%- endif -%}"
    "{{- message['role'] -}}<|im_middle|>"
    "{%- if message['content'] is string -%}{{- message['content'] + '<|im_end|>' -}}"
    "{%- else -%}{%- for content in message['content'] -%}"
    "{%- if content['type'] == 'image' or 'image' in content or 'image_url' in content -%}"
    "<|media_start|>image<|media_content|><|media_pad|><|media_end|>"
    "{%- else -%}{{ content['text'] }}{%- endif -%}{%- endfor -%}<|im_end|>{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|im_assistant|>assistant<|im_middle|>{%- endif -%}"
)
VISION = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2}
TEXT = {"hidden_size": 64, "num_attention_heads": 2, "num_hidden_layers": 2}
MOE = {"n_routed_experts": 4, "num_experts_per_tok": 2, "n_shared_experts": 1}
MLA = {"kv_lora_rank": 512, "qk_rope_head_dim": 64, "qk_nope_head_dim": 128, "v_head_dim": 128}

PROCESSOR_SOURCE = '''\
"""KimiVLProcessor for a tiny test checkpoint: the interface vLLM calls, written anew."""

import math

import numpy as np
import torch
from PIL import Image
from transformers import BatchFeature
from transformers.image_processing_utils import BaseImageProcessor
from transformers.processing_utils import ProcessorMixin


class KimiVLImageProcessor(BaseImageProcessor):
    model_input_names = ["pixel_values", "image_grid_hws"]

    def __init__(self, patch_size=14, pad_input=True, image_mean=(0.5, 0.5, 0.5),
                 image_std=(0.5, 0.5, 0.5), in_token_limit=4096, merge_kernel_size=(2, 2),
                 **kwargs):
        super().__init__(**kwargs)
        self.patch_size, self.pad_input = patch_size, pad_input
        self.image_mean, self.image_std = list(image_mean), list(image_std)
        self.in_token_limit, self.merge_kernel_size = in_token_limit, list(merge_kernel_size)

    def _fit(self, image):
        w, h = image.size
        p = self.patch_size
        if (w // p) * (h // p) > self.in_token_limit:
            scale = math.sqrt(self.in_token_limit / ((w // p) * (h // p)))
            image = image.resize((int(w * scale), int(h * scale)), Image.Resampling.BICUBIC)
        w, h = image.size
        step_h, step_w = self.merge_kernel_size[0] * p, self.merge_kernel_size[1] * p
        padded = Image.new("RGB", (w + (-w) % step_w, h + (-h) % step_h), (0, 0, 0))
        padded.paste(image, (0, 0))
        return padded

    def preprocess(self, images, return_tensors=None, **kwargs):
        if not isinstance(images, (list, tuple)):
            images = [images]
        patches, grids = [], []
        p = self.patch_size
        for image in images:
            image = self._fit(image.convert("RGB"))
            array = np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0
            mean = np.array(self.image_mean, dtype=np.float32)[:, None, None]
            std = np.array(self.image_std, dtype=np.float32)[:, None, None]
            array = (array - mean) / std
            c, h, w = array.shape
            blocks = array.reshape(c, h // p, p, w // p, p).transpose(1, 3, 0, 2, 4)
            patches.append(torch.from_numpy(np.ascontiguousarray(blocks.reshape(-1, c, p, p))))
            grids.append([h // p, w // p])
        return BatchFeature(
            {"pixel_values": torch.cat(patches), "image_grid_hws": torch.tensor(grids)}
        )

    __call__ = preprocess


class KimiVLProcessor(ProcessorMixin):
    attributes = ["image_processor", "tokenizer"]
    image_processor_class = "AutoImageProcessor"
    tokenizer_class = "AutoTokenizer"

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        self.image_token = "<|media_pad|>"
        super().__init__(image_processor, tokenizer, chat_template=chat_template)

    def __call__(self, images=None, text=None, **kwargs):
        kwargs.pop("return_tensors", None)
        data = {}
        if images is not None:
            data.update(self.image_processor(images))
        if text is not None:
            texts = [text] if isinstance(text, str) else list(text)
            if images is not None:
                merge = self.image_processor.merge_kernel_size
                counts = [int(g.prod()) // (merge[0] * merge[1]) for g in data["image_grid_hws"]]
                index = 0
                for i, one in enumerate(texts):
                    while self.image_token in one:
                        one = one.replace(self.image_token, "<|placeholder|>" * counts[index], 1)
                        index += 1
                    texts[i] = one.replace("<|placeholder|>", self.image_token)
            ids = [self.tokenizer(one, add_special_tokens=False)["input_ids"] for one in texts]
            data["input_ids"] = torch.tensor(ids)
            data["attention_mask"] = torch.ones_like(data["input_ids"])
        return BatchFeature(data)
'''


def kimi_vl_tokenizer(seed: int = 0) -> Any:
    """A fast tokenizer with Kimi's special tokens at their released ids, and its chat template."""
    return padded_tokenizer(
        SPECIALS,
        named_tokens={"bos_token": "[BOS]", "eos_token": "[EOS]", "pad_token": "[PAD]"},
        chat_template=CHAT_TEMPLATE,
        seed=seed,
    )


def make_tiny_kimi_vl(folder: str | Path, *, seed: int = 0) -> Path:
    """Write the tiny Kimi-VL checkpoint into ``folder`` (created if missing)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    kimi_vl_tokenizer(seed).save_pretrained(target)
    config = _config()
    (target / "config.json").write_text(json.dumps(config, indent=2))
    (target / "processing_kimi_vl.py").write_text(PROCESSOR_SOURCE)
    auto_map = {
        "AutoProcessor": "processing_kimi_vl.KimiVLProcessor",
        "AutoImageProcessor": "processing_kimi_vl.KimiVLImageProcessor",
    }
    (target / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "auto_map": auto_map,
                "image_processor_type": "KimiVLImageProcessor",
                "processor_class": "KimiVLProcessor",
                "patch_size": 14,
                "pad_input": True,
                "in_token_limit": 4096,
                "merge_kernel_size": [2, 2],
                "image_mean": [0.5, 0.5, 0.5],
                "image_std": [0.5, 0.5, 0.5],
            },
            indent=2,
        )
    )
    (target / "processor_config.json").write_text(
        json.dumps({"auto_map": auto_map, "processor_class": "KimiVLProcessor"}, indent=2)
    )
    (target / "generation_config.json").write_text(
        json.dumps({"eos_token_id": [SPECIALS["[EOS]"], SPECIALS["<|im_end|>"]]}, indent=2)
    )
    _save_weights(config, target, seed)
    return target


def _config() -> dict[str, Any]:
    return {
        "architectures": ["KimiVLForConditionalGeneration"],
        "model_type": "kimi_vl",
        "media_placeholder_token_id": SPECIALS["<|media_pad|>"],
        "pad_token_id": 0,
        "ignore_index": -100,
        "torch_dtype": "bfloat16",
        "vision_config": {
            **VISION,
            "model_type": "moonvit",
            "patch_size": 14,
            "num_attention_heads": 2,
            "init_pos_emb_height": 64,
            "init_pos_emb_width": 64,
            "merge_kernel_size": [2, 2],
        },
        "text_config": {
            **TEXT,
            **MOE,
            **MLA,
            "model_type": "deepseek_v3",
            "architectures": ["DeepseekV3ForCausalLM"],
            "vocab_size": VOCAB_SIZE,
            "intermediate_size": 128,
            "moe_intermediate_size": 32,
            "num_key_value_heads": TEXT["num_attention_heads"],
            "q_lora_rank": None,
            "first_k_dense_replace": 1,
            "moe_layer_freq": 1,
            "topk_method": "noaux_tc",
            "scoring_func": "sigmoid",
            "n_group": 1,
            "topk_group": 1,
            "norm_topk_prob": True,
            "routed_scaling_factor": 2.446,
            "hidden_act": "silu",
            "rms_norm_eps": 1e-5,
            "rope_theta": 800000.0,
            "rope_scaling": None,
            "max_position_embeddings": 131072,
            "tie_word_embeddings": False,
            "bos_token_id": SPECIALS["[BOS]"],
            "eos_token_id": SPECIALS["[EOS]"],
            "pad_token_id": SPECIALS["[PAD]"],
            "num_nextn_predict_layers": 0,
        },
    }


def _save_weights(config: dict[str, Any], folder: Path, seed: int) -> None:
    """Random bfloat16 weights under vLLM's names for this architecture (the released layout)."""
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    vision, text = config["vision_config"], config["text_config"]
    v, inner = vision["hidden_size"], vision["intermediate_size"]
    shapes: dict[str, tuple[int, ...]] = {
        "vision_tower.patch_embed.proj.weight": (v, 3, 14, 14),
        "vision_tower.patch_embed.proj.bias": (v,),
        "vision_tower.patch_embed.pos_emb.weight": (64, 64, v),
        "vision_tower.encoder.final_layernorm.weight": (v,),
        "vision_tower.encoder.final_layernorm.bias": (v,),
        "multi_modal_projector.pre_norm.weight": (v,),
        "multi_modal_projector.pre_norm.bias": (v,),
        "multi_modal_projector.linear_1.weight": (4 * v, 4 * v),
        "multi_modal_projector.linear_1.bias": (4 * v,),
        "multi_modal_projector.linear_2.weight": (text["hidden_size"], 4 * v),
        "multi_modal_projector.linear_2.bias": (text["hidden_size"],),
    }
    for i in range(vision["num_hidden_layers"]):
        block = f"vision_tower.encoder.blocks.{i}"
        shapes |= {
            f"{block}.wqkv.weight": (3 * v, v),
            f"{block}.wqkv.bias": (3 * v,),
            f"{block}.wo.weight": (v, v),
            f"{block}.wo.bias": (v,),
            f"{block}.mlp.fc0.weight": (inner, v),
            f"{block}.mlp.fc0.bias": (inner,),
            f"{block}.mlp.fc1.weight": (v, inner),
            f"{block}.mlp.fc1.bias": (v,),
        }
        for norm in ("norm0", "norm1"):
            shapes |= {f"{block}.{norm}.weight": (v,), f"{block}.{norm}.bias": (v,)}
    shapes |= _text_shapes(text)
    tensors = {name: torch.randn(shape) * 0.2 for name, shape in shapes.items()}
    for name, tensor in tensors.items():  # layer norms start at scale 1, shift 0
        if "norm" in name:
            tensors[name] = torch.ones_like(tensor) if name.endswith("weight") else tensor * 0
    save_file(
        {name: t.to(torch.bfloat16).contiguous() for name, t in tensors.items()},
        str(folder / "model.safetensors"),
        metadata={"format": "pt"},
    )


def _text_shapes(text: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The DeepSeek-V3-style text model's weights (``language_model.*``)."""
    d, heads, vocab = text["hidden_size"], text["num_attention_heads"], text["vocab_size"]
    rank, rope = text["kv_lora_rank"], text["qk_rope_head_dim"]
    nope, value = text["qk_nope_head_dim"], text["v_head_dim"]
    shapes: dict[str, tuple[int, ...]] = {
        "language_model.model.embed_tokens.weight": (vocab, d),
        "language_model.model.norm.weight": (d,),
        "language_model.lm_head.weight": (vocab, d),
    }

    def mlp(prefix: str, width: int) -> None:
        shapes[f"{prefix}.gate_proj.weight"] = (width, d)
        shapes[f"{prefix}.up_proj.weight"] = (width, d)
        shapes[f"{prefix}.down_proj.weight"] = (d, width)

    for i in range(text["num_hidden_layers"]):
        layer = f"language_model.model.layers.{i}"
        shapes |= {
            f"{layer}.input_layernorm.weight": (d,),
            f"{layer}.post_attention_layernorm.weight": (d,),
            f"{layer}.self_attn.q_proj.weight": (heads * (nope + rope), d),
            f"{layer}.self_attn.kv_a_proj_with_mqa.weight": (rank + rope, d),
            f"{layer}.self_attn.kv_a_layernorm.weight": (rank,),
            f"{layer}.self_attn.kv_b_proj.weight": (heads * (nope + value), rank),
            f"{layer}.self_attn.o_proj.weight": (d, heads * value),
        }
        if i < text["first_k_dense_replace"]:
            mlp(f"{layer}.mlp", text["intermediate_size"])
            continue
        width = text["moe_intermediate_size"]
        shapes[f"{layer}.mlp.gate.weight"] = (text["n_routed_experts"], d)
        shapes[f"{layer}.mlp.gate.e_score_correction_bias"] = (text["n_routed_experts"],)
        for expert in range(text["n_routed_experts"]):
            mlp(f"{layer}.mlp.experts.{expert}", width)
        mlp(f"{layer}.mlp.shared_experts", width * text["n_shared_experts"])
    return shapes


__all__ = ["CHAT_TEMPLATE", "PROCESSOR_SOURCE", "kimi_vl_tokenizer", "make_tiny_kimi_vl"]
