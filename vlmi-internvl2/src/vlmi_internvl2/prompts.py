"""InternVL2 prompts for LMDeploy: the one place that knows the model's input format.

Checked against lmdeploy 0.18 (``lmdeploy/vl/model/internvl.py``,
``lmdeploy/model.py``) and InternVL2's own chat code:

- The chat template is the checkpoint's own (LMDeploy 0.18 applies the
  tokenizer's ``chat_template``; InternLM2-chat and ChatML variants), with
  InternVL2's system message as the system turn, as the model's ``chat()``
  sends it. ``system_prompt=""`` leaves the system turn out.
- Images come before the question, as InternVL2 was trained. Each image is
  written as ``<IMAGE_TOKEN>`` in the text, which LMDeploy replaces in place
  by ``<img><IMG_CONTEXT></img>`` and expands to 256 tokens per 448x448
  tile. One image: ``<IMAGE_TOKEN>\\n`` then the question. Several images:
  ``Image-1: <IMAGE_TOKEN>\\nImage-2: <IMAGE_TOKEN>\\n`` then the question
  (InternVL2's multi-image convention; LMDeploy's docs use the same labels).
  An interleaved sample keeps each image at its place, every part on a line
  of its own: ``Compare\nImage-1: <IMAGE_TOKEN>\nwith\nImage-2: ...``.
- A video is its sampled frames, where the video stands, each labelled as
  VLMEvalKit prompts InternVL with video: ``Frame-1: <IMAGE_TOKEN>\nFrame-2:
  <IMAGE_TOKEN>\n...``; frames count as images for the tile budget.
- Images go to LMDeploy as the decoded PIL images (no re-encoding), each
  with its own ``max_dynamic_patch``: a sample's images share the
  ``max_total_tiles`` budget, so eight images do not ask for 8 x 13 tiles.
- LMDeploy 0.18 stops at the tokenizer's eos only; InternVL2 ends its turn
  with ``<|im_end|>`` (``<|end|>`` for the Phi-3 based 4B, ``<|eot_id|>`` for
  the Llama-3 based 76B), so those ids are passed as stop tokens.
"""

from __future__ import annotations

from typing import Any

from vlmi.errors import InvalidOptionError, InvalidSampleError
from vlmi.plugin import ImagePart, Sample, TextPart, VideoPart

#: lmdeploy.vl.constants.IMAGE_TOKEN (the tests check they agree)
IMAGE_TOKEN = "<IMAGE_TOKEN>"
#: the system message of InternVL2's own conversation templates
SYSTEM_PROMPT = (
    "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, "  # noqa: RUF001 (the exact text)
    "是一个有用无害的人工智能助手。"
)
END_OF_TURN_TOKENS = ("<|im_end|>", "<|end|>", "<|eot_id|>", "<|endoftext|>")
#: text the model reads as image markup; refused in user text
RESERVED_MARKUP = (IMAGE_TOKEN, "<image>", "<img>", "</img>", "<IMG_CONTEXT>")
TOKENS_PER_TILE = 256
#: every InternVL2 checkpoint tiles images into 448x448 pieces (``force_image_size``)
TILE_SIDE = 448
#: InternVL2's own default tile count (``max_dynamic_patch`` in its config.json)
DEFAULT_MAX_DYNAMIC_PATCH = 12
#: the per-image parameters LMDeploy's InternVL preprocessing reads that vlmi can pass on
PROCESSOR_KWARGS = ("max_dynamic_patch",)


def tile_cap(
    max_dynamic_patch: int,
    max_image_pixels: int | None = None,
    mm_processor_kwargs: dict[str, Any] | None = None,
) -> int:
    """Most tiles one image may use: from exactly one of the three options that can say it.

    ``max_image_pixels`` keeps at most that many pixels of an image in whole
    448x448 tiles (InternVL adds a thumbnail tile above one tile, as it always
    does); below one tile it is refused. ``mm_processor_kwargs`` takes
    LMDeploy's own per-image ``max_dynamic_patch``.
    """
    expert = dict(mm_processor_kwargs or {})
    unknown = sorted(set(expert) - set(PROCESSOR_KWARGS))
    if unknown:
        raise InvalidOptionError(
            f"mm_processor_kwargs {unknown} are not read by LMDeploy's InternVL preprocessing; "
            f"it reads per image only {list(PROCESSOR_KWARGS)}"
        )
    setters = [
        name
        for name, given in (
            ("max_image_pixels", max_image_pixels is not None),
            ("max_dynamic_patch", max_dynamic_patch != DEFAULT_MAX_DYNAMIC_PATCH),
            ("mm_processor_kwargs['max_dynamic_patch']", "max_dynamic_patch" in expert),
        )
        if given
    ]
    if len(setters) > 1:
        raise InvalidOptionError(f"{' and '.join(setters)} all set the tiles per image: give one")
    if max_image_pixels is not None:
        tiles = max_image_pixels // (TILE_SIDE * TILE_SIDE)
        if tiles < 1:
            raise InvalidOptionError(
                f"max_image_pixels={max_image_pixels} is below one InternVL2 tile "
                f"({TILE_SIDE}x{TILE_SIDE}, {TILE_SIDE * TILE_SIDE} pixels), the least the model "
                f"keeps of an image; use at least {TILE_SIDE * TILE_SIDE}"
            )
        return tiles
    if "max_dynamic_patch" in expert:
        value = expert["max_dynamic_patch"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidOptionError(
                f"mm_processor_kwargs['max_dynamic_patch'] must be an int >= 1, got {value!r}"
            )
        return value
    return max_dynamic_patch


def tiles_per_image(images: int, max_dynamic_patch: int, max_total_tiles: int) -> int:
    """Tiles each image of a sample may use: the per-image cap, within the sample's budget."""
    if images <= 1:
        return max_dynamic_patch
    return max(1, min(max_dynamic_patch, max_total_tiles // images))


def worst_image_tokens(max_images: int, max_dynamic_patch: int, max_total_tiles: int) -> int:
    """Most image tokens one sample can hold (a thumbnail tile is added above one tile)."""
    worst = 0
    for images in range(1, max_images + 1):
        tiles = tiles_per_image(images, max_dynamic_patch, max_total_tiles)
        worst = max(worst, images * (tiles + (1 if tiles > 1 else 0)))
    return worst * TOKENS_PER_TILE


def user_content(
    sample: Sample, max_dynamic_patch: int, max_total_tiles: int
) -> str | list[dict[str, Any]]:
    """The user turn LMDeploy receives: a string, or one text part plus the image parts."""
    labelled = sum(isinstance(p, ImagePart) for p in sample.parts) > 1
    images: list[Any] = []
    pieces: list[str] = []
    seen = 0
    for part in sample.parts:
        if isinstance(part, ImagePart):
            seen += 1
            images.append(part.image)
            label = f"Image-{seen}: " if labelled else ""
            pieces.append(f"{label}{IMAGE_TOKEN}")
        elif isinstance(part, VideoPart):
            for index, frame in enumerate(part.frames or (), start=1):
                images.append(frame)
                pieces.append(f"Frame-{index}: {IMAGE_TOKEN}")
        elif isinstance(part, TextPart):
            for markup in RESERVED_MARKUP:
                if markup in part.text:
                    raise InvalidSampleError(
                        f"the text holds InternVL2's image markup {markup!r}; pass images as "
                        "images (vlmi places the image tokens)"
                    )
            pieces.append(part.text)
    text = "\n".join(pieces)  # one line per part, as InternVL2's chat() lays them out
    if not images:
        return text
    tiles = tiles_per_image(len(images), max_dynamic_patch, max_total_tiles)
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for image in images:
        parts.append({"type": "image_url", "image_url": {"url": image, "max_dynamic_patch": tiles}})
    return parts


def build_messages(
    sample: Sample, system_prompt: str, max_dynamic_patch: int, max_total_tiles: int
) -> list[dict[str, Any]]:
    """One conversation in LMDeploy's OpenAI-style format."""
    messages: list[dict[str, Any]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    content = user_content(sample, max_dynamic_patch, max_total_tiles)
    messages.append({"role": "user", "content": content})
    return messages


def stop_token_ids(vocab: dict[str, int], eos_token_id: int | None) -> list[int]:
    """Ids of :data:`END_OF_TURN_TOKENS` this vocabulary has, plus the eos id."""
    ids = [vocab[token] for token in END_OF_TURN_TOKENS if token in vocab]
    if eos_token_id is not None and eos_token_id not in ids:
        ids.append(eos_token_id)
    return ids


__all__ = [
    "DEFAULT_MAX_DYNAMIC_PATCH",
    "END_OF_TURN_TOKENS",
    "IMAGE_TOKEN",
    "PROCESSOR_KWARGS",
    "SYSTEM_PROMPT",
    "TILE_SIDE",
    "TOKENS_PER_TILE",
    "build_messages",
    "stop_token_ids",
    "tile_cap",
    "tiles_per_image",
    "user_content",
    "worst_image_tokens",
]
