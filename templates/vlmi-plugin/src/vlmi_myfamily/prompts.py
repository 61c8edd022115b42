"""The one place that knows the model's input format: a vlmi Sample -> the engine's prompt."""

from __future__ import annotations

from vlmi.plugin import ImagePart, Sample, TextPart


def build_prompt(sample: Sample) -> str:
    """The prompt for one sample. ``sample.parts`` holds TextPart / ImagePart in the user's order.

    This placeholder describes its input; a real plugin writes the model's chat
    format here (image placeholders where the images go, the chat template).
    """
    pieces: list[str] = []
    for part in sample.parts:
        if isinstance(part, ImagePart):  # part.image: the decoded RGB PIL image
            pieces.append(f"<image {part.image.width}x{part.image.height}>")
        elif isinstance(part, TextPart):
            pieces.append(part.text)
    return "\n".join(pieces)


__all__ = ["build_prompt"]
