"""A tiny Keye-VL-1.5 checkpoint that vLLM's own ``KeyeVL1_5ForConditionalGeneration`` loads.

Nothing is downloaded, and the released ``Kwai-Keye/Keye-VL-1_5-8B`` files
(its config, processor and modelling code are the repository's own Python
code) could not be read here: the keys and names follow what vLLM 0.32's
loader reads (``vllm/model_executor/models/keye.py`` and
``keye_vl1_5.py``), which names the released checkpoint's tensors:

- ``config.json``: ``KeyeVL1_5ForConditionalGeneration`` with a Qwen3 text
  model at the top level (``head_dim`` 32, vLLM's CPU attention takes 32),
  M-RoPE (``rope_scaling.mrope_section``), and a SigLIP ``vision_config``
  (patch 14, ``spatial_merge_size`` 2). :data:`CONFIG_SOURCE` is a
  configuration class of our own (the released one is remote code).
- the processor: a processor of our own (:data:`PROCESSOR_SOURCE`) with the
  interface vLLM's Keye code calls: ``image_token`` ``<|image_pad|>`` and
  ``video_token``, an image processor with ``size`` as ``min_pixels`` /
  ``max_pixels``, ``merge_size`` and ``patch_size``, giving ``pixel_values``
  as (patches, 3, 14, 14) in row-major patch order and ``image_grid_thw``.
- the tokenizer: trained locally with Qwen's ChatML and vision tokens, and a
  ChatML chat template that writes each image as vLLM's placeholder for this
  architecture, ``<|vision_start|><|image_pad|><|vision_end|>``.
- weights: ``model.*`` / ``lm_head.*`` (Qwen3), ``visual.vision_model.*``
  (SigLIP with q/k/v separate and a packing position table), ``mlp_AR.*``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlmi_testkit.tokenizer import train_tokenizer

SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<think>",
    "</think>",
)
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}"
    "{{ '<|im_end|>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
TEXT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 32,
}
VISION = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2}
#: the least and most pixels an image keeps after resizing (multiples of 28 x 28)
MIN_PIXELS, MAX_PIXELS = 28 * 28 * 4, 28 * 28 * 64

CONFIG_SOURCE = '''\
"""KeyeVL1_5Config for a tiny test checkpoint: a Qwen3 text config with a SigLIP vision config."""

from transformers import PretrainedConfig, Qwen3Config


class KeyeVisionConfig(PretrainedConfig):
    model_type = "siglip_vision_model"


class KeyeVL1_5Config(Qwen3Config):
    model_type = "KeyeVL1_5"
    sub_configs = {"vision_config": KeyeVisionConfig}

    def __init__(self, vision_config=None, **kwargs):
        if isinstance(vision_config, dict):
            vision_config = KeyeVisionConfig(**vision_config)
        self.vision_config = vision_config or KeyeVisionConfig()
        super().__init__(**kwargs)
'''

PROCESSOR_SOURCE = '''\
"""KeyeVL1_5Processor for a tiny test checkpoint: the interface vLLM calls, written anew."""

import math

import numpy as np
import torch
from PIL import Image
from transformers import BatchFeature
from transformers.image_processing_utils import BaseImageProcessor
from transformers.processing_utils import ProcessorMixin


class KeyeVL1_5ImageProcessor(BaseImageProcessor):
    model_input_names = ["pixel_values", "image_grid_thw"]

    def __init__(self, size=None, patch_size=14, merge_size=2, temporal_patch_size=1,
                 image_mean=(0.5, 0.5, 0.5), image_std=(0.5, 0.5, 0.5), **kwargs):
        super().__init__(**kwargs)
        self.size = dict(size or {"min_pixels": 3136, "max_pixels": 50176})
        self.patch_size, self.merge_size = patch_size, merge_size
        self.temporal_patch_size = temporal_patch_size
        self.image_mean, self.image_std = list(image_mean), list(image_std)

    def _resize(self, height, width):
        factor = self.patch_size * self.merge_size
        low, high = self.size["min_pixels"], self.size["max_pixels"]
        h = max(factor, round(height / factor) * factor)
        w = max(factor, round(width / factor) * factor)
        if h * w > high:
            beta = math.sqrt(height * width / high)
            h = max(factor, math.floor(height / beta / factor) * factor)
            w = max(factor, math.floor(width / beta / factor) * factor)
        elif h * w < low:
            beta = math.sqrt(low / (height * width))
            h = math.ceil(height * beta / factor) * factor
            w = math.ceil(width * beta / factor) * factor
        return h, w

    def preprocess(self, images, return_tensors=None, **kwargs):
        if not isinstance(images, (list, tuple)):
            images = [images]
        patches, grids = [], []
        p = self.patch_size
        mean = np.array(self.image_mean, dtype=np.float32)[:, None, None]
        std = np.array(self.image_std, dtype=np.float32)[:, None, None]
        for image in images:
            image = image.convert("RGB")
            h, w = self._resize(image.height, image.width)
            image = image.resize((w, h), Image.Resampling.BICUBIC)
            array = (np.asarray(image, dtype=np.float32).transpose(2, 0, 1) / 255.0 - mean) / std
            blocks = array.reshape(3, h // p, p, w // p, p).transpose(1, 3, 0, 2, 4)
            patches.append(torch.from_numpy(np.ascontiguousarray(blocks.reshape(-1, 3, p, p))))
            grids.append([1, h // p, w // p])
        return BatchFeature(
            {"pixel_values": torch.cat(patches), "image_grid_thw": torch.tensor(grids)}
        )

    __call__ = preprocess


class KeyeVL1_5Processor(ProcessorMixin):
    attributes = ["image_processor", "tokenizer"]
    image_processor_class = "AutoImageProcessor"
    tokenizer_class = "AutoTokenizer"

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        self.image_token, self.video_token = "<|image_pad|>", "<|video_pad|>"
        self.frame_token = "<|frame|>"
        self.fast_start, self.fast_end = "<|fast_start|>", "<|fast_end|>"
        super().__init__(image_processor, tokenizer, chat_template=chat_template)

    def __call__(self, images=None, text=None, videos=None, **kwargs):
        kwargs.pop("return_tensors", None)
        data = {}
        if images:
            data.update(self.image_processor(images))
        if text is not None:
            texts = [text] if isinstance(text, str) else list(text)
            if images:
                merge = self.image_processor.merge_size ** 2
                counts = [int(g.prod()) // merge for g in data["image_grid_thw"]]
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


def keye_vl1_5_tokenizer(seed: int = 0) -> Any:
    """A fast tokenizer with Qwen's ChatML and vision tokens and a ChatML image template."""
    tokenizer = train_tokenizer(
        SPECIAL_TOKENS,
        named_tokens={"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
        seed=seed,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def make_tiny_keye_vl1_5(folder: str | Path, *, seed: int = 0) -> Path:
    """Write the tiny Keye-VL-1.5 checkpoint into ``folder`` (created if missing)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    tokenizer = keye_vl1_5_tokenizer(seed)
    tokenizer.save_pretrained(target)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    config = _config(len(tokenizer), ids)
    (target / "config.json").write_text(json.dumps(config, indent=2))
    (target / "configuration_keye_vl_1_5.py").write_text(CONFIG_SOURCE)
    (target / "processing_keye_vl_1_5.py").write_text(PROCESSOR_SOURCE)
    auto_map = {
        "AutoProcessor": "processing_keye_vl_1_5.KeyeVL1_5Processor",
        "AutoImageProcessor": "processing_keye_vl_1_5.KeyeVL1_5ImageProcessor",
    }
    (target / "preprocessor_config.json").write_text(
        json.dumps(
            {
                "auto_map": auto_map,
                "image_processor_type": "KeyeVL1_5ImageProcessor",
                "processor_class": "KeyeVL1_5Processor",
                "size": {"min_pixels": MIN_PIXELS, "max_pixels": MAX_PIXELS},
                "patch_size": 14,
                "merge_size": 2,
                "temporal_patch_size": 1,
            },
            indent=2,
        )
    )
    (target / "processor_config.json").write_text(
        json.dumps({"auto_map": auto_map, "processor_class": "KeyeVL1_5Processor"}, indent=2)
    )
    (target / "generation_config.json").write_text(
        json.dumps({"eos_token_id": [ids["<|im_end|>"], ids["<|endoftext|>"]]}, indent=2)
    )
    _save_weights(config, target, seed)
    return target


def _config(vocab: int, ids: dict[str, int]) -> dict[str, Any]:
    return {
        **TEXT,
        "architectures": ["KeyeVL1_5ForConditionalGeneration"],
        "auto_map": {"AutoConfig": "configuration_keye_vl_1_5.KeyeVL1_5Config"},
        "model_type": "KeyeVL1_5",
        "vocab_size": vocab,
        "hidden_act": "silu",
        "max_position_embeddings": 40960,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0,
        "rope_scaling": {"type": "default", "mrope_section": [4, 6, 6]},
        "attention_bias": False,
        "tie_word_embeddings": False,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "torch_dtype": "bfloat16",
        "vision_config": {
            **VISION,
            "model_type": "siglip_vision_model",
            "num_attention_heads": 2,
            "image_size": 56,
            "patch_size": 14,
            "num_channels": 3,
            "spatial_merge_size": 2,
            "temporal_patch_size": 1,
            "hidden_act": "gelu_pytorch_tanh",
            "layer_norm_eps": 1e-6,
            "attention_dropout": 0.0,
        },
    }


def _save_weights(config: dict[str, Any], folder: Path, seed: int) -> None:
    """Random bfloat16 weights under the names vLLM's Keye-VL-1.5 loader reads."""
    import torch
    from safetensors.torch import save_file
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(seed)
    vision = config["vision_config"]
    v, inner, merged = vision["hidden_size"], vision["intermediate_size"], 4 * vision["hidden_size"]
    prefix = "visual.vision_model"
    shapes: dict[str, tuple[int, ...]] = {
        f"{prefix}.embeddings.patch_embedding.weight": (v, 3, 14, 14),
        f"{prefix}.embeddings.patch_embedding.bias": (v,),
        f"{prefix}.embeddings.position_embedding.weight": ((56 // 14) ** 2, v),
        f"{prefix}.embeddings.packing_position_embedding.weight": (32768, v),
        f"{prefix}.post_layernorm.weight": (v,),
        f"{prefix}.post_layernorm.bias": (v,),
        "mlp_AR.pre_norm.weight": (merged,),
        "mlp_AR.pre_norm.bias": (merged,),
        "mlp_AR.linear_1.weight": (merged, merged),
        "mlp_AR.linear_1.bias": (merged,),
        "mlp_AR.linear_2.weight": (config["hidden_size"], merged),
        "mlp_AR.linear_2.bias": (config["hidden_size"],),
    }
    for i in range(vision["num_hidden_layers"]):
        layer = f"{prefix}.encoder.layers.{i}"
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            shapes[f"{layer}.self_attn.{name}.weight"] = (v, v)
            shapes[f"{layer}.self_attn.{name}.bias"] = (v,)
        shapes |= {
            f"{layer}.mlp.fc1.weight": (inner, v),
            f"{layer}.mlp.fc1.bias": (inner,),
            f"{layer}.mlp.fc2.weight": (v, inner),
            f"{layer}.mlp.fc2.bias": (v,),
        }
        for norm in ("layer_norm1", "layer_norm2"):
            shapes |= {f"{layer}.{norm}.weight": (v,), f"{layer}.{norm}.bias": (v,)}
    tensors = {name: torch.randn(shape) * 0.2 for name, shape in shapes.items()}
    text = {k: config[k] for k in (*TEXT, "vocab_size", "rms_norm_eps", "tie_word_embeddings")}
    llm = Qwen3ForCausalLM(Qwen3Config(**text, initializer_range=0.2))
    tensors |= dict(llm.state_dict())
    save_file(
        {name: t.to(torch.bfloat16).contiguous() for name, t in tensors.items()},
        str(folder / "model.safetensors"),
        metadata={"format": "pt"},
    )


__all__ = ["CHAT_TEMPLATE", "CONFIG_SOURCE", "PROCESSOR_SOURCE", "make_tiny_keye_vl1_5"]
