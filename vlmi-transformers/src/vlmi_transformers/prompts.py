"""vlmi samples as chat conversations for a processor's own chat template.

The model-specific prompt format (image placeholders, roles, generation
prompt) lives in each checkpoint's chat template; this module only turns a
:class:`vlmi.Sample` into the message structure those templates read, in the
order the user gave: ``{"type": "image", "image": <PIL>}`` and
``{"type": "text", "text": ...}`` parts of one user turn. A video is one
``{"type": "video"}`` part where the processor takes clips (its frames and
their metadata go to the processor beside the text, see
:func:`video_inputs`), else each of its sampled frames is an image part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vlmi.plugin import ImagePart, Sample, TextPart, VideoPart

Conversation = list[dict[str, Any]]


def to_conversation(sample: Sample, native_video: bool = False) -> Conversation:
    """One user turn holding the sample's parts, images as decoded PIL images.

    :param native_video: each video as one ``{"type": "video"}`` part (the
        processor takes its frames); else its frames as image parts.
    """
    content: list[dict[str, Any]] = []
    for part in sample.parts:
        if isinstance(part, ImagePart):
            content.append({"type": "image", "image": part.image})
        elif isinstance(part, VideoPart):
            if native_video:
                content.append({"type": "video"})
            else:
                content.extend({"type": "image", "image": f} for f in part.frames or ())
        elif isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
    return [{"role": "user", "content": content}]


def prompt_text(processor: Any, sample: Sample, native_video: bool = False) -> str:
    """The exact prompt string the chat template makes for ``sample`` (before image expansion)."""
    text = processor.apply_chat_template(
        to_conversation(sample, native_video), add_generation_prompt=True, tokenize=False
    )
    return str(text)


def video_inputs(samples: Sequence[Sample]) -> dict[str, Any]:
    """The processor's media arguments for samples whose videos go as clips.

    ``images`` (every image, in order), ``videos`` (each video's frames) and
    ``video_metadata`` (Transformers' ``VideoMetadata`` fields: the source's
    frame rate and length and the sampled indices, from which Qwen's processors
    compute the frames' times); ``do_sample_frames`` False, the frames being
    sampled already.
    """
    images: list[Any] = []
    videos: list[list[Any]] = []
    metadata: list[dict[str, Any]] = []
    for sample in samples:
        for part in sample.parts:
            if isinstance(part, ImagePart):
                images.append(part.image)
            elif isinstance(part, VideoPart) and part.sampling is not None:
                frames = list(part.frames or ())
                sampling = part.sampling
                indices = list(sampling.indices)
                if len(frames) == 1:
                    # one frame twice: Qwen3-VL's processor wants a whole temporal patch,
                    # which Qwen2-VL's makes of one frame the same way
                    frames, indices = frames * 2, indices * 2
                videos.append(frames)
                metadata.append(
                    {
                        "fps": sampling.source_fps,
                        "duration": sampling.duration,
                        "total_num_frames": sampling.total_frames,
                        "frames_indices": indices,
                        "video_backend": sampling.decoder.split(" ")[0],
                    }
                )
    found: dict[str, Any] = {}
    if images:
        found["images"] = images
    if videos:
        found.update(videos=videos, video_metadata=metadata, do_sample_frames=False)
    return found


def length_key(sample: Sample) -> tuple[int, int, int]:
    """A cheap sort key that groups samples of similar prompt length.

    Image token counts grow with image count and size; text length breaks
    ties. Sorting by it before chunking keeps padding small.
    """
    images = [p.image for p in sample.parts if isinstance(p, ImagePart)]
    images += [f for p in sample.parts if isinstance(p, VideoPart) for f in p.frames or ()]
    pixels = sum(img.width * img.height for img in images if img is not None)
    text = sum(len(p.text) for p in sample.parts if isinstance(p, TextPart))
    return (len(images), pixels, text)


__all__ = ["Conversation", "length_key", "prompt_text", "to_conversation", "video_inputs"]
