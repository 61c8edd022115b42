"""MiniCPM-V-2.6 prompts for vLLM: the one place that knows the model's format.

- The chat template is the checkpoint's own (ChatML, as Qwen2: a default
  system turn, ``<|im_start|>user ... <|im_end|>``, then
  ``<|im_start|>assistant``), applied by the checkpoint's tokenizer.
- Each image is one ``(<image>./</image>)`` placeholder at the image's place
  in the sample, and the parts are joined by newlines, as MiniCPM-V's own
  ``chat()`` joins a message's content (``eval(query, imgs)`` puts images
  first, as that code does). vLLM's MiniCPM-V processor
  expands each placeholder into the image's slice tokens and rejects a count
  that differs from the number of images passed.
- Images go to vLLM as decoded PIL images in ``multi_modal_data``; a
  text-only sample has no ``multi_modal_data`` at all.
- A video is its sampled frames, one placeholder each where the video
  stands, processed as images (VLMEvalKit's video setting of one slice per
  frame is the load option ``max_slice_nums=1``: vLLM 0.32 fails a request
  whose own processor options change the slicing).
- Generation ends at ``<|im_end|>`` or ``<|endoftext|>``, whose ids
  (151645, 151643 in the released tokenizer) are passed explicitly.
"""

from __future__ import annotations

from typing import Any

from vlmi.errors import InvalidSampleError
from vlmi.plugin import ImagePart, Sample, TextPart, VideoPart

IMAGE_PLACEHOLDER = "(<image>./</image>)"
STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")


def user_content(sample: Sample) -> str:
    """The user turn's text: placeholders and text in the sample's order."""
    pieces: list[str] = []
    for part in sample.parts:
        if isinstance(part, ImagePart):
            pieces.append(IMAGE_PLACEHOLDER)
        elif isinstance(part, VideoPart):
            pieces.extend(IMAGE_PLACEHOLDER for _ in part.frames or ())
        elif isinstance(part, TextPart):
            if IMAGE_PLACEHOLDER in part.text:
                raise InvalidSampleError(
                    f"the text holds MiniCPM-V's image placeholder {IMAGE_PLACEHOLDER!r}; pass "
                    "images as images (vlmi places the placeholders)"
                )
            pieces.append(part.text)
    return "\n".join(pieces)  # as MiniCPM-V's own chat() joins a message's parts


def build_request(tokenizer: Any, sample: Sample) -> dict[str, Any]:
    """The vLLM prompt dict for one sample: ``prompt`` and, with images, ``multi_modal_data``."""
    messages = [{"role": "user", "content": user_content(sample)}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    request: dict[str, Any] = {"prompt": prompt}
    images: list[Any] = []
    for part in sample.parts:
        if isinstance(part, ImagePart):
            images.append(part.image)
        elif isinstance(part, VideoPart):
            images.extend(part.frames or ())
    if images:
        request["multi_modal_data"] = {"image": images}
    return request


def stop_token_ids(tokenizer: Any) -> list[int]:
    """The ids of :data:`STOP_TOKENS` in this tokenizer (those it has)."""
    ids: list[int] = []
    vocab = tokenizer.get_vocab()
    for token in STOP_TOKENS:
        if token in vocab:
            ids.append(int(vocab[token]))
    return ids


__all__ = [
    "IMAGE_PLACEHOLDER",
    "STOP_TOKENS",
    "build_request",
    "stop_token_ids",
    "user_content",
]
