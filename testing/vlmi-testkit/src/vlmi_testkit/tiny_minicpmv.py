"""MiniCPM-V-2.6's tokenizer, trained locally for tests (nothing is downloaded).

The released MiniCPM-V-2.6 tokenizer is Qwen2's with the model's own special
tokens (image and slice markers, ``<unk>`` as the image placeholder) and the
ChatML chat template its ``tokenizer_config.json`` carries.
"""

from __future__ import annotations

from typing import Any

from vlmi_testkit.tokenizer import train_tokenizer

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
        },
        seed=seed,
    )
    made.chat_template = CHATML_TEMPLATE
    return made


__all__ = ["CHATML_TEMPLATE", "SPECIAL_TOKENS", "minicpmv_tokenizer"]
