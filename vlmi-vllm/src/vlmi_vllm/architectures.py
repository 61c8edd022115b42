"""The vision-language architectures vlmi-vllm serves: a static table, no vLLM import.

A checkpoint is served when the first entry of its ``config.json``
``architectures`` list is a key of :data:`ARCHITECTURES`; deciding that needs
neither vLLM nor the weights. A test compares the table with the installed
vLLM's own ``ModelRegistry``, so it cannot name an architecture vLLM lacks.

Each entry says how vlmi builds the prompt (``prompt``), whether loading the
checkpoint needs its own code (``remote_code``), how ``max_image_pixels`` is
honoured (``pixels``: the vLLM ``mm_processor_kwargs`` it becomes, or None when
the architecture resizes every image to one fixed size and so cannot be
limited), the tokens generation stops at besides the tokenizer's EOS
(``stop_tokens``), what vLLM's CPU backend needs of it (``cpu_dtypes``: the
only dtypes its kernels take there; ``cpu_max_num_seqs``: the most sequences it
decodes at once there and still answers as one at a time), and how the model
takes video (``video``: ``"native"`` when vLLM's processor for it takes a clip,
``"frames"`` when vlmi lays the sampled frames out as images in the family's
layout, None when it refuses video), with the default sampling and frame limit
of VLMEvalKit's wrapper for the family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: how the prompt is built (see vlmi_vllm.prompts)
CHAT_TEMPLATE = "chat_template"  # the processor's own template over image/text parts
INTERNVL_CHAT = "internvl_chat"  # InternVL's remote-code chat() layout: Image-i: <image>
MINICPMV = "minicpmv"  # MiniCPM-V's (<image>./</image>) placeholders, joined by newlines

#: how max_image_pixels becomes mm_processor_kwargs (see vlmi_vllm.engine_config)
QWEN_PIXELS = "qwen"  # the image processor's longest_edge (max_pixels): a pixel budget
TILES = "tiles"  # InternVL-style 448px tiles: max_dynamic_patch / max_patches
SLICES = "slices"  # MiniCPM-V slices: max_slice_nums

#: how a video reaches the model (vlmi.plugin.ModelSpec.video)
NATIVE = "native"  # multi_modal_data["video"]: the frames and their metadata
FRAMES = "frames"  # the sampled frames as images, in the family's layout

#: default sampling (VLMEvalKit's wrappers): Qwen2/2.5/3-VL hand the file to qwen-vl-utils
#: at 2 fps (at most 768 frames); LLaVA-OneVision takes 16 frames by numpy.linspace; the
#: frame models take the dataset's frames (8 in Video-MME_8frame and MVBench_8frame)
QWEN_VIDEO: tuple[tuple[str, Any], ...] = (("rule", "qwen"), ("fps", 2))
LLAVA_OV_VIDEO: tuple[tuple[str, Any], ...] = (("rule", "linspace"), ("nframes", 16))
FRAME_VIDEO: tuple[tuple[str, Any], ...] = (("rule", "vlmevalkit"), ("nframes", 8))
#: qwen-vl-utils' FPS_MAX_FRAMES
QWEN_MAX_FRAMES = 768


@dataclass(frozen=True)
class Architecture:
    """How vlmi-vllm serves one vLLM architecture (a ``config.json`` architectures name)."""

    name: str
    family: str
    prompt: str = CHAT_TEMPLATE
    pixels: str | None = None
    remote_code: bool = False
    stop_tokens: tuple[str, ...] = ()
    #: how many images vLLM is told to expect per prompt when the model declares none
    default_max_images: int = 8
    #: the dtypes vLLM's CPU backend runs it in (empty: any)
    cpu_dtypes: tuple[str, ...] = ()
    #: the ``max_num_seqs`` default on vLLM's CPU backend (None: vLLM's own)
    cpu_max_num_seqs: int | None = None
    #: how the model takes video: NATIVE, FRAMES or None (refused)
    video: str | None = None
    #: the default video sampling (fields of vlmi.Video), as pairs
    video_sampling: tuple[tuple[str, Any], ...] = FRAME_VIDEO
    #: most frames one clip may give the model (None: no limit); frames sent as
    #: images count against vLLM's image limit, so there it is ``max_images``
    max_frames: int | None = None

    def video_fields(self, max_images: int | None = None) -> dict[str, Any]:
        """The ``ModelSpec`` fields saying how a model of this architecture takes video.

        :param max_images: the model's image limit (default: the architecture's).
        """
        if self.video is None:
            return {}
        most = self.max_frames
        if self.video == FRAMES:
            most = max_images or self.default_max_images
        return {
            "video": self.video,
            "video_sampling": dict(self.video_sampling),
            "max_frames": most,
        }


_CHATML_STOPS = ("<|im_end|>", "<|endoftext|>")
_QWEN_CLIP: dict[str, Any] = {
    "pixels": QWEN_PIXELS,
    "video": NATIVE,
    "video_sampling": QWEN_VIDEO,
    "max_frames": QWEN_MAX_FRAMES,
}

ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture("Qwen2VLForConditionalGeneration", "qwen2-vl", **_QWEN_CLIP),
        Architecture("Qwen2_5_VLForConditionalGeneration", "qwen2.5-vl", **_QWEN_CLIP),
        Architecture("Qwen3VLForConditionalGeneration", "qwen3-vl", **_QWEN_CLIP),
        Architecture("Qwen3VLMoeForConditionalGeneration", "qwen3-vl", **_QWEN_CLIP),
        # vLLM 0.32's CPU Gated DeltaNet kernel: "CPU GDN attention requires BF16"
        Architecture(
            "Qwen3_5ForConditionalGeneration", "qwen3.5", cpu_dtypes=("bfloat16",), **_QWEN_CLIP
        ),
        Architecture(
            "InternVLForConditionalGeneration",
            "internvl",
            pixels=TILES,
            video=FRAMES,
        ),
        Architecture(
            "InternVLChatModel",
            "internvl",
            prompt=INTERNVL_CHAT,
            pixels=TILES,
            remote_code=True,
            stop_tokens=(*_CHATML_STOPS, "<|end|>"),
            video=FRAMES,
        ),
        Architecture("Glm4vForConditionalGeneration", "glm-4.1v", pixels=QWEN_PIXELS, video=NATIVE),
        Architecture("Gemma3ForConditionalGeneration", "gemma3", video=FRAMES),
        Architecture("LlavaForConditionalGeneration", "llava", video=FRAMES),
        Architecture(
            "LlavaOnevisionForConditionalGeneration",
            "llava-onevision",
            video=NATIVE,
            video_sampling=LLAVA_OV_VIDEO,
        ),
        Architecture(
            "MiniCPMV",
            "minicpmv",
            prompt=MINICPMV,
            pixels=SLICES,
            remote_code=True,
            stop_tokens=_CHATML_STOPS,
            video=FRAMES,
        ),
        Architecture("Ovis2_5", "ovis2.5", remote_code=True),
        Architecture("KeyeVL1_5ForConditionalGeneration", "keye-vl", remote_code=True),
        # vLLM 0.32's CPU latent-attention decode answers differently when it decodes
        # several sequences in one step (docs/verification.md): one at a time there
        Architecture(
            "KimiVLForConditionalGeneration", "kimi-vl", remote_code=True, cpu_max_num_seqs=1
        ),
    )
}


def architecture_of(config: dict[str, object]) -> str | None:
    """The first name in a ``config.json``'s ``architectures`` list, if any."""
    names = config.get("architectures")
    if isinstance(names, list) and names and isinstance(names[0], str):
        return names[0]
    return None


__all__ = [
    "ARCHITECTURES",
    "CHAT_TEMPLATE",
    "FRAMES",
    "INTERNVL_CHAT",
    "MINICPMV",
    "NATIVE",
    "QWEN_PIXELS",
    "SLICES",
    "TILES",
    "Architecture",
    "architecture_of",
]
