"""vlmi samples as chat conversations for a processor's own chat template.

The model-specific prompt format (image placeholders, roles, generation
prompt) lives in each checkpoint's chat template; this module only turns a
:class:`vlmi.Sample` into the message structure those templates read, in the
order the user gave: ``{"type": "image", "image": <PIL>}`` and
``{"type": "text", "text": ...}`` parts of one user turn.
"""

from __future__ import annotations

from typing import Any

from vlmi.plugin import ImagePart, Sample, TextPart

Conversation = list[dict[str, Any]]


def to_conversation(sample: Sample) -> Conversation:
    """One user turn holding the sample's parts, images as decoded PIL images."""
    content: list[dict[str, Any]] = []
    for part in sample.parts:
        if isinstance(part, ImagePart):
            content.append({"type": "image", "image": part.image})
        elif isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
    return [{"role": "user", "content": content}]


def prompt_text(processor: Any, sample: Sample) -> str:
    """The exact prompt string the chat template makes for ``sample`` (before image expansion)."""
    text = processor.apply_chat_template(
        to_conversation(sample), add_generation_prompt=True, tokenize=False
    )
    return str(text)


def length_key(sample: Sample) -> tuple[int, int, int]:
    """A cheap sort key that groups samples of similar prompt length.

    Image token counts grow with image count and size; text length breaks
    ties. Sorting by it before chunking keeps padding small.
    """
    images = [p.image for p in sample.parts if isinstance(p, ImagePart)]
    pixels = sum(img.width * img.height for img in images if img is not None)
    text = sum(len(p.text) for p in sample.parts if isinstance(p, TextPart))
    return (len(images), pixels, text)


__all__ = ["Conversation", "length_key", "prompt_text", "to_conversation"]
