"""A tiny MiniCPM-V-2.6 checkpoint and its tokenizer, made locally (nothing is downloaded).

The released MiniCPM-V-2.6 tokenizer is Qwen2's with the model's own special
tokens (image and slice markers, ``<unk>`` as the image placeholder) and the
ChatML chat template its ``tokenizer_config.json`` carries.

:func:`make_tiny_minicpmv` writes a folder shaped as the released checkpoint,
so that vLLM's own ``MiniCPMV`` architecture (``MiniCPMV2_6``) loads it:
config.json with ``auto_map`` to the configuration class and
preprocessor_config.json with ``auto_map`` to the image processor (both code
files copied in from :mod:`vlmi_testkit.minicpmv_code`), the tokenizer, and
random float32 weights under the released names (``llm.*`` Qwen2 text model,
``vpm.*`` SigLIP vision tower, ``resampler.*``). Sizes: text width 128 (head
size 32, one vLLM CPU attention supports), 2 layers; vision width 64, 3
layers, 56-pixel slices of 14-pixel patches; 8 tokens per slice; up to 4
slices plus the source image.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from vlmi_testkit.minicpmv_code import code_file
from vlmi_testkit.tokenizer import train_tokenizer

#: the code files of the released MiniCPM-V-2.6 folder this checkpoint carries (same names)
CODE_FILES_2_6 = ("configuration_minicpm.py", "image_processing_minicpmv.py")

#: the ChatML template of the released tokenizer_config.json (Qwen2's)
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

#: MiniCPM-V-2.6's special tokens, in the released tokenizer's order
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<unk>",
    "<image>",
    "</image>",
    "<slice>",
    "</slice>",
    "<image_id>",
    "</image_id>",
    "<ref>",
    "</ref>",
    "<box>",
    "</box>",
)


def minicpmv_tokenizer(seed: int = 0) -> Any:
    """A fast tokenizer with MiniCPM-V-2.6's special tokens, named tokens and chat template."""
    made = train_tokenizer(
        list(SPECIAL_TOKENS),
        named_tokens={
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "unk_token": "<unk>",
            # vLLM's MiniCPM-V processor prepends the BOS id: it must exist
            "bos_token": "<|im_start|>",
        },
        seed=seed,
    )
    made.chat_template = CHATML_TEMPLATE
    return made


#: the text model (Qwen2): width 128 in 4 heads of 32, 2 of them for keys and values
TEXT = {"hidden": 128, "layers": 2, "heads": 4, "kv_heads": 2, "intermediate": 256}
#: the vision tower (SigLIP): 56-pixel images in 14-pixel patches
VISION = {"hidden": 64, "layers": 3, "heads": 4, "intermediate": 128, "image": 56, "patch": 14}
#: resampler queries = ``<unk>`` tokens per slice; slices per image at most
QUERY_NUM = 8
MAX_SLICES = 4


def minicpmv_config(tokenizer: Any) -> dict[str, Any]:
    """config.json of the tiny checkpoint (MiniCPM-V-2.6's keys, tiny sizes)."""
    return {
        "architectures": ["MiniCPMV"],
        "model_type": "minicpmv",
        "auto_map": {"AutoConfig": "configuration_minicpm.MiniCPMVConfig"},
        "version": 2.6,
        "vocab_size": len(tokenizer),
        "hidden_size": TEXT["hidden"],
        "intermediate_size": TEXT["intermediate"],
        "num_hidden_layers": TEXT["layers"],
        "num_attention_heads": TEXT["heads"],
        "num_key_value_heads": TEXT["kv_heads"],
        "hidden_act": "silu",
        "rms_norm_eps": 1e-6,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0},
        "max_position_embeddings": 4096,
        "tie_word_embeddings": False,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "torch_dtype": "float32",
        "query_num": QUERY_NUM,
        "image_size": VISION["image"],
        "patch_size": VISION["patch"],
        "max_slice_num": MAX_SLICES,
        "slice_mode": True,
        "use_image_id": True,
        "drop_vision_last_layer": False,
        "batch_vision_input": True,
        "vision_config": {
            "model_type": "siglip_vision_model",
            "hidden_size": VISION["hidden"],
            "intermediate_size": VISION["intermediate"],
            "num_hidden_layers": VISION["layers"],
            "num_attention_heads": VISION["heads"],
            "image_size": VISION["image"],
            "patch_size": VISION["patch"],
        },
    }


def minicpmv_preprocessor_config() -> dict[str, Any]:
    """preprocessor_config.json: the image processor in the folder, vLLM's processor class."""
    return {
        "image_processor_type": "MiniCPMVImageProcessor",
        "auto_map": {"AutoImageProcessor": "image_processing_minicpmv.MiniCPMVImageProcessor"},
        "processor_class": "MiniCPMVProcessor",
        "max_slice_nums": MAX_SLICES,
        "scale_resolution": VISION["image"],
        "patch_size": VISION["patch"],
        "image_feature_size": QUERY_NUM,
        "use_image_id": True,
        "slice_mode": True,
        "norm_mean": [0.5, 0.5, 0.5],
        "norm_std": [0.5, 0.5, 0.5],
    }


def minicpmv_weight_shapes(vocab_size: int) -> dict[str, tuple[int, ...]]:
    """Every weight of the released checkpoint's layout, by name, at the tiny sizes."""
    d, inter = TEXT["hidden"], TEXT["intermediate"]
    head = d // TEXT["heads"]
    kv = TEXT["kv_heads"] * head
    shapes: dict[str, tuple[int, ...]] = {
        "llm.model.embed_tokens.weight": (vocab_size, d),
        "llm.model.norm.weight": (d,),
        "llm.lm_head.weight": (vocab_size, d),
    }
    for n in range(TEXT["layers"]):
        layer = f"llm.model.layers.{n}"
        for name, rows in (("q_proj", d), ("k_proj", kv), ("v_proj", kv)):
            shapes[f"{layer}.self_attn.{name}.weight"] = (rows, d)
            shapes[f"{layer}.self_attn.{name}.bias"] = (rows,)
        shapes[f"{layer}.self_attn.o_proj.weight"] = (d, d)
        shapes[f"{layer}.mlp.gate_proj.weight"] = (inter, d)
        shapes[f"{layer}.mlp.up_proj.weight"] = (inter, d)
        shapes[f"{layer}.mlp.down_proj.weight"] = (d, inter)
        shapes[f"{layer}.input_layernorm.weight"] = (d,)
        shapes[f"{layer}.post_attention_layernorm.weight"] = (d,)
    shapes.update(vision_resampler_shapes(d))
    return shapes


def vision_resampler_shapes(text_hidden: int) -> dict[str, tuple[int, ...]]:
    """The SigLIP tower's (``vpm.*``) and the resampler's weights, feeding a text width."""
    d = text_hidden
    shapes: dict[str, tuple[int, ...]] = {}
    v, v_inter, patch = VISION["hidden"], VISION["intermediate"], VISION["patch"]
    positions = (VISION["image"] // patch) ** 2
    shapes["vpm.embeddings.patch_embedding.weight"] = (v, 3, patch, patch)
    shapes["vpm.embeddings.patch_embedding.bias"] = (v,)
    shapes["vpm.embeddings.position_embedding.weight"] = (positions, v)
    for n in range(VISION["layers"]):
        layer = f"vpm.encoder.layers.{n}"
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            shapes[f"{layer}.self_attn.{name}.weight"] = (v, v)
            shapes[f"{layer}.self_attn.{name}.bias"] = (v,)
        for norm in ("layer_norm1", "layer_norm2"):
            shapes[f"{layer}.{norm}.weight"] = (v,)
            shapes[f"{layer}.{norm}.bias"] = (v,)
        shapes[f"{layer}.mlp.fc1.weight"] = (v_inter, v)
        shapes[f"{layer}.mlp.fc1.bias"] = (v_inter,)
        shapes[f"{layer}.mlp.fc2.weight"] = (v, v_inter)
        shapes[f"{layer}.mlp.fc2.bias"] = (v,)
    shapes["vpm.post_layernorm.weight"] = (v,)
    shapes["vpm.post_layernorm.bias"] = (v,)
    shapes["resampler.query"] = (QUERY_NUM, d)
    shapes["resampler.proj"] = (d, d)
    shapes["resampler.kv_proj.weight"] = (d, v)
    shapes["resampler.attn.in_proj_weight"] = (3 * d, d)
    shapes["resampler.attn.in_proj_bias"] = (3 * d,)
    shapes["resampler.attn.out_proj.weight"] = (d, d)
    shapes["resampler.attn.out_proj.bias"] = (d,)
    for norm in ("ln_q", "ln_kv", "ln_post"):
        shapes[f"resampler.{norm}.weight"] = (d,)
        shapes[f"resampler.{norm}.bias"] = (d,)
    return shapes


def random_weights(shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, Any]:
    """Seeded weights: norms' scales 1, other vectors small, matrices N(0, 0.05)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    weights: dict[str, Any] = {}
    for name, shape in shapes.items():
        if "norm" in name or ".ln_" in name:
            is_scale = name.endswith(".weight")
            weights[name] = torch.ones(shape) if is_scale else torch.zeros(shape)
        else:
            weights[name] = torch.randn(shape, generator=generator) * 0.05
    return weights


def make_tiny_minicpmv(folder: str | Path, seed: int = 0) -> Path:
    """Write the tiny MiniCPM-V-2.6 checkpoint into ``folder`` (made if missing); return it."""
    tokenizer = minicpmv_tokenizer(seed)
    config = minicpmv_config(tokenizer)
    return write_folder(
        Path(folder),
        tokenizer,
        config,
        minicpmv_preprocessor_config(),
        {name: name for name in CODE_FILES_2_6},
        minicpmv_weight_shapes(config["vocab_size"]),
        seed,
    )


def write_folder(
    target: Path,
    tokenizer: Any,
    config: dict[str, Any],
    preprocessor: dict[str, Any],
    code: dict[str, str],
    shapes: dict[str, tuple[int, ...]],
    seed: int,
) -> Path:
    """Write a tiny MiniCPM-V folder: tokenizer, both configs, code files, seeded weights.

    :param code: the folder's code file names, each to the
        :mod:`vlmi_testkit.minicpmv_code` file written under it.
    """
    from safetensors.torch import save_file

    target.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(target)
    (target / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (target / "preprocessor_config.json").write_text(
        json.dumps(preprocessor, indent=2), encoding="utf-8"
    )
    for name, source in code.items():
        shutil.copyfile(code_file(source), target / name)
    weights = random_weights(shapes, seed)
    save_file(weights, str(target / "model.safetensors"), metadata={"format": "pt"})
    return target


__all__ = [
    "CHATML_TEMPLATE",
    "MAX_SLICES",
    "QUERY_NUM",
    "SPECIAL_TOKENS",
    "TEXT",
    "VISION",
    "make_tiny_minicpmv",
    "minicpmv_config",
    "minicpmv_preprocessor_config",
    "minicpmv_tokenizer",
    "minicpmv_weight_shapes",
    "random_weights",
    "vision_resampler_shapes",
    "write_folder",
]
