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
  multi-image examples write them, each piece on its own line; the system
  turn is the system message of the conversation template the checkpoint's
  ``config.json`` names (``template``: Hermes-2, internlm2-chat, phi3-chat for
  InternVL2; internvl2_5 for InternVL2.5 and later), as ``chat()`` sends it;
  then the tokenizer's chat template renders the two turns (as LMDeploy 0.18
  does: its prompt is the reference the tests compare token by token);
- ``minicpmv``: MiniCPM-V's ``(<image>./</image>)`` placeholder per image,
  pieces joined by newlines as its own ``chat()`` joins a message's content,
  then the tokenizer's chat template.

Videos (each :class:`vlmi.plugin.VideoPart` holds its sampled frames) go as the
architecture takes them (:mod:`vlmi_vllm.architectures`): ``native`` ones as
``{"type": "video"}`` in the chat template and ``multi_modal_data["video"]``
items ``(frames, metadata)`` (the frames as one ``T x H x W x 3`` array; the
metadata their source's frame rate, duration, total frames and indices, from
which Qwen's processors compute the frames' times); ``frames`` ones as images
where the video stands: ``{"type": "image"}`` parts per frame in the chat
template, ``Frame-1: <image>``, ``Frame-2: <image>``, ... for InternVL's
remote-code layout (as VLMEvalKit prompts InternVL with video), and one
``(<image>./</image>)`` per frame for MiniCPM-V.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vlmi.errors import InvalidSampleError
from vlmi.plugin import ImagePart, Sample, TextPart, VideoPart
from vlmi_vllm.architectures import INTERNVL_CHAT, MINICPMV, NATIVE, Architecture

INTERNVL_IMAGE = "<image>"
MINICPMV_IMAGE = "(<image>./</image>)"

#: the system message of InternVL's own conversation templates (its ``conversation.py``),
#: by the ``template`` name a checkpoint's config.json gives
_INTERNVL2_SYSTEM = (
    "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, "  # noqa: RUF001 (the exact text)
    "是一个有用无害的人工智能助手。"
)
INTERNVL_SYSTEM_MESSAGES = {
    "Hermes-2": _INTERNVL2_SYSTEM,
    "internlm2-chat": _INTERNVL2_SYSTEM,
    "phi3-chat": _INTERNVL2_SYSTEM,
    "internvl2_5": (
        "你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位"  # noqa: RUF001
        "联合开发的多模态大语言模型。"
    ),
}


def system_message(arch: Architecture, config: dict[str, Any]) -> str | None:
    """The system turn the model's own ``chat()`` sends (InternVL), else None (none added)."""
    if arch.prompt != INTERNVL_CHAT:
        return None
    template = config.get("template")
    return INTERNVL_SYSTEM_MESSAGES.get(template) if isinstance(template, str) else None


def to_conversation(sample: Sample, native_video: bool = False) -> list[dict[str, Any]]:
    """One user turn holding the sample's parts in order (images as ``{"type": "image"}``).

    :param native_video: a video as one ``{"type": "video"}`` part; else each of its
        frames as an image part.
    """
    content: list[dict[str, Any]] = []
    for part in sample.parts:
        if isinstance(part, ImagePart):
            content.append({"type": "image"})
        elif isinstance(part, VideoPart):
            if native_video:
                content.append({"type": "video"})
            else:
                content.extend({"type": "image"} for _ in _frames(part))
        elif isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
    return [{"role": "user", "content": content}]


def _frames(part: VideoPart) -> tuple[Any, ...]:
    if part.frames is None:
        raise ValueError("the video was not loaded (prepare_samples loads every video)")
    return part.frames


def _pieces(sample: Sample, image_piece: Any, placeholder: str, frame_piece: Any) -> Iterable[str]:
    images = sum(isinstance(p, ImagePart) for p in sample.parts)
    index = 0
    for part in sample.parts:
        if isinstance(part, ImagePart):
            index += 1
            yield image_piece(index, images)
        elif isinstance(part, VideoPart):
            yield from (frame_piece(i) for i in range(1, len(_frames(part)) + 1))
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
        frame = f"Frame-{{}}: {INTERNVL_IMAGE}".format
        return "\n".join(_pieces(sample, _internvl_image, INTERNVL_IMAGE, frame))
    if arch.prompt == MINICPMV:
        return "\n".join(
            _pieces(sample, lambda i, n: MINICPMV_IMAGE, MINICPMV_IMAGE, lambda i: MINICPMV_IMAGE)
        )
    raise ValueError(f"{arch.name} builds its prompt from the chat template")


def prompt_text(
    arch: Architecture,
    template_owner: Any,
    sample: Sample,
    template_kwargs: dict[str, Any] | None = None,
    system: str | None = None,
) -> str:
    """The exact prompt string (before vLLM expands the image placeholders).

    :param template_owner: the processor (``chat_template`` layout) or the
        tokenizer (the placeholder layouts) whose chat template applies.
    :param template_kwargs: variables for the chat template, e.g.
        ``{"enable_thinking": False}`` (see ``VllmOptions.enable_thinking``).
    :param system: a system turn put before the user turn (see :func:`system_message`).
    """
    if arch.prompt in (INTERNVL_CHAT, MINICPMV):
        messages: Any = [{"role": "user", "content": user_text(arch, sample)}]
    else:
        messages = to_conversation(sample, native_video=arch.video == NATIVE)
    if system:
        messages = [{"role": "system", "content": system}, *messages]
    text = template_owner.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True, **(template_kwargs or {})
    )
    return str(text)


def build_request(
    arch: Architecture,
    template_owner: Any,
    sample: Sample,
    template_kwargs: dict[str, Any] | None = None,
    system: str | None = None,
) -> dict[str, Any]:
    """The vLLM prompt dict for one sample: ``prompt`` and, with media, ``multi_modal_data``."""
    text = prompt_text(arch, template_owner, sample, template_kwargs, system)
    request: dict[str, Any] = {"prompt": text}
    images: list[Any] = []
    videos: list[Any] = []
    for part in sample.parts:
        if isinstance(part, ImagePart):
            images.append(part.image)
        elif isinstance(part, VideoPart):
            if arch.video == NATIVE:
                videos.append(video_item(part))
            else:
                images.extend(_frames(part))
    media: dict[str, Any] = {}
    if images:
        media["image"] = images
    if videos:
        media["video"] = videos
    if media:
        request["multi_modal_data"] = media
    return request


def video_item(part: VideoPart) -> tuple[Any, dict[str, Any]]:
    """One ``multi_modal_data["video"]`` item: the frames as an array, and their metadata.

    The metadata is what vLLM's Qwen2.5/3-VL and GLM-4.1V processors read
    (Transformers' ``VideoMetadata``): the source's frame rate and length and
    the sampled frames' indices; ``do_sample_frames`` False, as the frames are
    already sampled.
    """
    import numpy as np

    frames = _frames(part)
    sampling = part.sampling
    if sampling is None:
        raise ValueError("the video was not loaded (prepare_samples loads every video)")
    indices = list(sampling.indices)
    if len(frames) == 1:
        # one frame twice: Qwen3-VL's processor wants a whole temporal patch, which
        # Qwen2-VL's makes of one frame the same way
        frames, indices = frames * 2, indices * 2
    array = np.stack([np.asarray(frame.convert("RGB")) for frame in frames])
    metadata = {
        "fps": sampling.source_fps,
        "duration": sampling.duration,
        "total_num_frames": sampling.total_frames,
        "frames_indices": indices,
        "video_backend": sampling.decoder.split(" ")[0],
        "do_sample_frames": False,
    }
    return array, metadata


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
    "INTERNVL_SYSTEM_MESSAGES",
    "MINICPMV_IMAGE",
    "build_request",
    "prompt_text",
    "stop_token_ids",
    "system_message",
    "to_conversation",
    "user_text",
    "video_item",
]
