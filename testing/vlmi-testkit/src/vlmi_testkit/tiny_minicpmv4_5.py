"""A tiny MiniCPM-V-4.5 checkpoint and its tokenizer, made locally (nothing is downloaded).

MiniCPM-V-4.5 (``openbmb/MiniCPM-V-4_5``) is MiniCPM-V-2.6's vision side (a
SigLIP tower, a resampler of ``query_num`` queries, the same image slicing) on
a Qwen3 text model, with ``version`` 4.5 in its config.json. Sources of the
keys and names below:

- vLLM 0.32's loader, ``vllm/model_executor/models/minicpmv.py``: ``MiniCPMV``
  dispatches on ``str(config.version).split(".")`` to ``MiniCPMV4_5``, whose
  text model is ``Qwen3ForCausalLM`` under ``llm.`` (per-head ``q_norm`` /
  ``k_norm``, no q/k/v biases; ``head_dim`` read from the config), vision
  tower ``Idefics2VisionTransformer`` under ``vpm.`` and ``Resampler4_5`` under
  ``resampler.`` (2.6's weights; its temporal position table is a buffer,
  not a weight). Its ``hf_to_vllm_mapper`` drops ``apm.``/``audio``/``tts``
  names only, which a vision checkpoint does not have.
- The released openbmb/MiniCPM-V-4_5 files as that loader and the authors'
  ``chat()`` read them: config.json's top-level Qwen3 fields, ``version``,
  ``query_num``, ``image_size``, ``patch_size``, ``slice_config``,
  ``slice_mode``, ``use_image_id``, ``drop_vision_last_layer``,
  ``vision_config`` (``siglip_vision_model``), ``auto_map`` to
  ``configuration_minicpm.MiniCPMVConfig``; preprocessor_config.json's slicing
  defaults (up to 9 slices of 448², 64 tokens each, image ids on) and
  ``processor_class`` ``MiniCPMVProcessor``. The authors' ``chat()`` joins a
  message's images (``(<image>./</image>)``) and text with newlines and
  applies the tokenizer's chat template with ``enable_thinking`` (default
  False); the template is Qwen3's: with ``enable_thinking`` false the
  assistant turn opens with an empty ``<think>\\n\\n</think>\\n\\n``.
- vLLM's vendored ``MiniCPMVProcessor``
  (``vllm/transformers_utils/processors/minicpmv.py``): the image processor of
  the folder (``auto_map.AutoImageProcessor``) and a tokenizer with a BOS id.

The image processor is the 2.6 recipe's (:mod:`vlmi_testkit.minicpmv_code`):
MiniCPM-V-4.5 slices images by the same rules. Sizes: text width 128 in 4
heads of 32 (2 for keys and values), 2 layers; the vision side as the 2.6
recipe (:data:`vlmi_testkit.tiny_minicpmv.VISION`); 8 tokens per slice; up to
4 slices plus the source image.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vlmi_testkit.tiny_minicpmv import (
    MAX_SLICES,
    QUERY_NUM,
    SPECIAL_TOKENS,
    VISION,
    minicpmv_preprocessor_config,
    vision_resampler_shapes,
    write_folder,
)
from vlmi_testkit.tokenizer import train_tokenizer

#: the parts of Qwen3's chat template (the released MiniCPM-V-4.5 tokenizer's) that one
#: conversation without tools uses: the system turn as given (no default one), user
#: turns, assistant turns with their reasoning cut out of earlier rounds, and the
#: generation prompt with the thinking switch
QWEN3_TEMPLATE = (
    "{%- if messages[0].role == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- set ns = namespace(last_query_index=messages|length - 1) %}"
    "{%- for message in messages[::-1] %}"
    "{%- set index = (messages|length - 1) - loop.index0 %}"
    "{%- if message.role == 'user' and ns.last_query_index == messages|length - 1 %}"
    "{%- set ns.last_query_index = index %}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- for message in messages %}"
    "{%- set content = message.content if message.content is string else '' %}"
    "{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}"
    "{%- elif message.role == 'assistant' %}"
    "{%- set reasoning = '' %}"
    "{%- if '</think>' in content %}"
    "{%- set reasoning = content.split('</think>')[0].rstrip('\\n')"
    ".split('<think>')[-1].lstrip('\\n') %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}"
    "{%- endif %}"
    "{%- if loop.index0 > ns.last_query_index and (loop.last or reasoning) %}"
    "{{- '<|im_start|>assistant\\n<think>\\n' + reasoning.strip('\\n') + '\\n</think>\\n\\n'"
    " + content.lstrip('\\n') }}"
    "{%- else %}"
    "{{- '<|im_start|>assistant\\n' + content }}"
    "{%- endif %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
)

#: Qwen3's tool-call markers (special) and thinking markers (added, not special: they
#: stay in decoded text), besides MiniCPM-V's special tokens
QWEN3_SPECIAL_TOKENS = ("<tool_call>", "</tool_call>")
THINKING_TOKENS = ("<think>", "</think>")


def minicpmv4_5_tokenizer(seed: int = 0) -> Any:
    """A fast tokenizer with MiniCPM-V-4.5's special and thinking tokens and Qwen3's template."""
    made = train_tokenizer(
        [*SPECIAL_TOKENS, *QWEN3_SPECIAL_TOKENS],
        named_tokens={
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "unk_token": "<unk>",
            # vLLM's MiniCPM-V processor prepends the BOS id: it must exist
            "bos_token": "<|im_start|>",
        },
        seed=seed,
    )
    made.add_tokens(list(THINKING_TOKENS), special_tokens=False)
    made.chat_template = QWEN3_TEMPLATE
    return made


#: the text model (Qwen3): width 128 in 4 heads of 32 (head_dim), 2 of them for keys and values
TEXT = {"hidden": 128, "layers": 2, "heads": 4, "kv_heads": 2, "head_dim": 32, "intermediate": 256}


def minicpmv4_5_config(tokenizer: Any) -> dict[str, Any]:
    """config.json of the tiny checkpoint (MiniCPM-V-4.5's keys, tiny sizes)."""
    return {
        "architectures": ["MiniCPMV"],
        "model_type": "minicpmv",
        "auto_map": {"AutoConfig": "configuration_minicpm.MiniCPMVConfig"},
        "version": 4.5,
        "vocab_size": len(tokenizer),
        "hidden_size": TEXT["hidden"],
        "intermediate_size": TEXT["intermediate"],
        "num_hidden_layers": TEXT["layers"],
        "num_attention_heads": TEXT["heads"],
        "num_key_value_heads": TEXT["kv_heads"],
        "head_dim": TEXT["head_dim"],
        "attention_bias": False,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-6,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},
        "max_position_embeddings": 4096,
        "use_sliding_window": False,
        "tie_word_embeddings": False,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "torch_dtype": "float32",
        "query_num": QUERY_NUM,
        "image_size": VISION["image"],
        "patch_size": VISION["patch"],
        # vLLM sizes its profiling image by this (image_size x image_size * max_slice_num)
        "max_slice_num": MAX_SLICES,
        "slice_config": {
            "max_slice_nums": MAX_SLICES,
            "patch_size": VISION["patch"],
            "scale_resolution": VISION["image"],
        },
        "slice_mode": True,
        "use_image_id": True,
        "drop_vision_last_layer": False,
        "batch_vision_input": True,
        "vision_batch_size": 16,
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


def minicpmv4_5_weight_shapes(vocab_size: int) -> dict[str, tuple[int, ...]]:
    """Every weight of the released checkpoint's layout, by name, at the tiny sizes."""
    d, inter, head = TEXT["hidden"], TEXT["intermediate"], TEXT["head_dim"]
    q, kv = TEXT["heads"] * head, TEXT["kv_heads"] * head
    shapes: dict[str, tuple[int, ...]] = {
        "llm.model.embed_tokens.weight": (vocab_size, d),
        "llm.model.norm.weight": (d,),
        "llm.lm_head.weight": (vocab_size, d),
    }
    for n in range(TEXT["layers"]):
        layer = f"llm.model.layers.{n}"
        for name, rows in (("q_proj", q), ("k_proj", kv), ("v_proj", kv)):
            shapes[f"{layer}.self_attn.{name}.weight"] = (rows, d)
        shapes[f"{layer}.self_attn.o_proj.weight"] = (d, q)
        shapes[f"{layer}.self_attn.q_norm.weight"] = (head,)
        shapes[f"{layer}.self_attn.k_norm.weight"] = (head,)
        shapes[f"{layer}.mlp.gate_proj.weight"] = (inter, d)
        shapes[f"{layer}.mlp.up_proj.weight"] = (inter, d)
        shapes[f"{layer}.mlp.down_proj.weight"] = (d, inter)
        shapes[f"{layer}.input_layernorm.weight"] = (d,)
        shapes[f"{layer}.post_attention_layernorm.weight"] = (d,)
    shapes.update(vision_resampler_shapes(d))
    return shapes


def make_tiny_minicpmv4_5(folder: str | Path, seed: int = 0) -> Path:
    """Write the tiny MiniCPM-V-4.5 checkpoint into ``folder`` (made if missing); return it."""
    tokenizer = minicpmv4_5_tokenizer(seed)
    config = minicpmv4_5_config(tokenizer)
    target = write_folder(
        Path(folder),
        tokenizer,
        config,
        {**minicpmv_preprocessor_config(), "version": 4.5},
        {
            "configuration_minicpm.py": "configuration_minicpm_v4_5.py",
            "image_processing_minicpmv.py": "image_processing_minicpmv.py",
        },
        minicpmv4_5_weight_shapes(config["vocab_size"]),
        seed,
    )
    generation = {"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"]}
    (target / "generation_config.json").write_text(json.dumps(generation), encoding="utf-8")
    return target


__all__ = [
    "QWEN3_TEMPLATE",
    "TEXT",
    "THINKING_TOKENS",
    "make_tiny_minicpmv4_5",
    "minicpmv4_5_config",
    "minicpmv4_5_tokenizer",
    "minicpmv4_5_weight_shapes",
]
