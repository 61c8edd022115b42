"""Prompts as each model was trained: the one place that knows the formats.

A sample becomes one vLLM request, ``{"prompt": text, "multi_modal_data":
{"image": [PIL, ...]}}`` (no ``multi_modal_data`` for text only), with the
image placeholders where the sample puts its images; vLLM's processor for
the architecture expands each placeholder into the image's tokens. Three
layouts (:mod:`vlmi_vllm.architectures`):

- ``chat_template`` (Transformers-native models: Qwen-VL, InternVL ``-hf``,
  Gemma 3, LLaVA, GLM-4.1V, ...): the processor's own chat template over one
  user turn of ``{"type": "image"}`` / ``{"type": "text"}`` parts in the
  sample's order, exactly what ``processor.apply_chat_template`` makes for
  Transformers;
- ``internvl_chat`` (InternVL's remote-code checkpoints): the layout of the
  model's own ``chat()``: one image is ``<image>\\n`` before its text; several
  are labelled ``Image-1: <image>``, ``Image-2: <image>``, ... as InternVL's
  multi-image examples write them, each piece on its own line, then the
  tokenizer's chat template (the InternVL system message included);
- ``minicpmv``: MiniCPM-V's ``(<image>./</image>)`` placeholder per image,
  pieces joined by newlines as its own ``chat()`` joins a message's content,
  then the tokenizer's chat template.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vlmi.errors import InvalidSampleError
from vlmi.plugin import ImagePart, Sample, TextPart
from vlmi_vllm.architectures import INTERNVL_CHAT, MINICPMV, Architecture

INTERNVL_IMAGE = "<image>"
MINICPMV_IMAGE = "(<image>./</image>)"


def to_conversation(sample: Sample) -> list[dict[str, Any]]:
    """One user turn holding the sample's parts in order (images as ``{"type": "image"}``)."""
    content: list[dict[str, Any]] = []
    for part in sample.parts:
        if isinstance(part, ImagePart):
            content.append({"type": "image"})
        elif isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
    return [{"role": "user", "content": content}]


def _pieces(sample: Sample, image_piece: Any, placeholder: str) -> Iterable[str]:
    images = sum(isinstance(p, ImagePart) for p in sample.parts)
    index = 0
    for part in sample.parts:
        if isinstance(part, ImagePart):
            index += 1
            yield image_piece(index, images)
        elif isinstance(part, TextPart):
            if placeholder in part.text:
                raise InvalidSampleError(
                    f"the text holds the model's image placeholder {placeholder!r}; pass "
                    "images as images (vlmi places the placeholders)"
                )
            yield part.text


def _internvl_image(index: int, count: int) -> str:
    return INTERNVL_IMAGE if count == 1 else f"Image-{index}: {INTERNVL_IMAGE}"


def user_text(arch: Architecture, sample: Sample) -> str:
    """The user turn's text for the placeholder layouts (``internvl_chat``, ``minicpmv``)."""
    if arch.prompt == INTERNVL_CHAT:
        return "\n".join(_pieces(sample, _internvl_image, INTERNVL_IMAGE))
    if arch.prompt == MINICPMV:
        return "\n".join(_pieces(sample, lambda i, n: MINICPMV_IMAGE, MINICPMV_IMAGE))
    raise ValueError(f"{arch.name} builds its prompt from the chat template")


def prompt_text(
    arch: Architecture,
    template_owner: Any,
    sample: Sample,
    template_kwargs: dict[str, Any] | None = None,
) -> str:
    """The exact prompt string (before vLLM expands the image placeholders).

    :param template_owner: the processor (``chat_template`` layout) or the
        tokenizer (the placeholder layouts) whose chat template applies.
    :param template_kwargs: variables for the chat template, e.g.
        ``{"enable_thinking": False}`` (see ``VllmOptions.enable_thinking``).
    """
    if arch.prompt in (INTERNVL_CHAT, MINICPMV):
        messages: Any = [{"role": "user", "content": user_text(arch, sample)}]
    else:
        messages = to_conversation(sample)
    text = template_owner.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, **(template_kwargs or {})
    )
    return str(text)


def build_request(
    arch: Architecture,
    template_owner: Any,
    sample: Sample,
    template_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The vLLM prompt dict for one sample: ``prompt`` and, with images, ``multi_modal_data``."""
    request: dict[str, Any] = {"prompt": prompt_text(arch, template_owner, sample, template_kwargs)}
    images = [p.image for p in sample.parts if isinstance(p, ImagePart)]
    if images:
        request["multi_modal_data"] = {"image": images}
    return request


def stop_token_ids(
    arch: Architecture, tokenizer: Any, generation_config: dict[str, Any] | None
) -> list[int]:
    """Where generation ends besides the tokenizer's EOS: the checkpoint's and the family's.

    The checkpoint's ``generation_config.json`` ``eos_token_id`` (vLLM is told
    to ignore that file's sampling defaults, so its end ids are passed here)
    and the architecture's end-of-turn tokens that this tokenizer has.
    """
    ids: list[int] = []
    eos = (generation_config or {}).get("eos_token_id")
    for value in eos if isinstance(eos, list) else [eos]:
        if isinstance(value, int) and value not in ids:
            ids.append(value)
    vocab = tokenizer.get_vocab()
    for token in arch.stop_tokens:
        if token in vocab and int(vocab[token]) not in ids:
            ids.append(int(vocab[token]))
    return ids


__all__ = [
    "INTERNVL_IMAGE",
    "MINICPMV_IMAGE",
    "build_request",
    "prompt_text",
    "stop_token_ids",
    "to_conversation",
    "user_text",
]
