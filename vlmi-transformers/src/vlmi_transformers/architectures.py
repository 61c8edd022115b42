"""The architectures this plugin serves: a static table, read without importing Transformers.

A checkpoint (hub id or local folder) is claimed when its ``config.json`` names
one of these ``model_type`` values and no remote code (``auto_map``). The table
is Transformers' own ``MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES`` (the
architectures ``AutoModelForImageTextToText`` loads) as of
:data:`TABLE_TRANSFORMERS_VERSION`; a test compares it with the installed
Transformers, so a new release that adds or renames one is noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: the Transformers release the table was taken from
TABLE_TRANSFORMERS_VERSION = "5.24.0"

#: model_type -> the class AutoModelForImageTextToText builds for it
ARCHITECTURES: dict[str, str] = {
    "apertus1p5": "Apertus1p5ForConditionalGeneration",
    "aria": "AriaForConditionalGeneration",
    "aya_vision": "AyaVisionForConditionalGeneration",
    "blip": "BlipForConditionalGeneration",
    "blip-2": "Blip2ForConditionalGeneration",
    "chameleon": "ChameleonForConditionalGeneration",
    "cohere2_vision": "Cohere2VisionForConditionalGeneration",
    "cohere_compass": "CohereCompassForConditionalGeneration",
    "cosmos3_edge": "Cosmos3EdgeForConditionalGeneration",
    "cosmos3_omni": "Cosmos3OmniForConditionalGeneration",
    "deepseek_ocr2": "DeepseekOcr2ForConditionalGeneration",
    "deepseek_vl": "DeepseekVLForConditionalGeneration",
    "deepseek_vl_hybrid": "DeepseekVLHybridForConditionalGeneration",
    "diffusion_gemma": "DiffusionGemmaForBlockDiffusion",
    "dots3_note": "Dots3NoteForConditionalGeneration",
    "emu3": "Emu3ForConditionalGeneration",
    "ernie4_5_vl_moe": "Ernie4_5_VLMoeForConditionalGeneration",
    "evolla": "EvollaForProteinText2Text",
    "exaone4_5": "Exaone4_5_ForConditionalGeneration",
    "fast_vlm": "FastVlmForConditionalGeneration",
    "florence2": "Florence2ForConditionalGeneration",
    "fuyu": "FuyuForCausalLM",
    "gemma3": "Gemma3ForConditionalGeneration",
    "gemma3n": "Gemma3nForConditionalGeneration",
    "gemma4": "Gemma4ForConditionalGeneration",
    "gemma4_unified": "Gemma4UnifiedForConditionalGeneration",
    "git": "GitForCausalLM",
    "glm46v": "Glm46VForConditionalGeneration",
    "glm4v": "Glm4vForConditionalGeneration",
    "glm4v_moe": "Glm4vMoeForConditionalGeneration",
    "glm5_next": "Glm5NextForConditionalGeneration",
    "glm_ocr": "GlmOcrForConditionalGeneration",
    "glmga": "Glm46VForConditionalGeneration",
    "got_ocr2": "GotOcr2ForConditionalGeneration",
    "granite4_vision": "Granite4VisionForConditionalGeneration",
    "granite_docling": "GraniteDoclingForConditionalGeneration",
    "hunyuan_vl": "HunYuanVLForConditionalGeneration",
    "hy_v4_vl": "HYV4VLForConditionalGeneration",
    "hyperclovax_vision_v2": "HyperCLOVAXVisionV2ForConditionalGeneration",
    "idefics": "IdeficsForVisionText2Text",
    "idefics2": "Idefics2ForConditionalGeneration",
    "idefics3": "Idefics3ForConditionalGeneration",
    "inkling2": "Inkling2ForConditionalGeneration",
    "inkling2_loop": "Inkling2LoopForConditionalGeneration",
    "inkling_mm_model": "InklingForConditionalGeneration",
    "instructblip": "InstructBlipForConditionalGeneration",
    "instructblipvideo": "InstructBlipVideoForConditionalGeneration",
    "internvl": "InternVLForConditionalGeneration",
    "janus": "JanusForConditionalGeneration",
    "kimi_k25": "Kimi_K25ForConditionalGeneration",
    "kosmos-2": "Kosmos2ForConditionalGeneration",
    "kosmos-2.5": "Kosmos2_5ForConditionalGeneration",
    "lfm2_vl": "Lfm2VlForConditionalGeneration",
    "lfm3_vl": "Lfm3VlForConditionalGeneration",
    "lighton_ocr": "LightOnOcrForConditionalGeneration",
    "llama4": "Llama4ForConditionalGeneration",
    "llava": "LlavaForConditionalGeneration",
    "llava_next": "LlavaNextForConditionalGeneration",
    "llava_next_video": "LlavaNextVideoForConditionalGeneration",
    "llava_onevision": "LlavaOnevisionForConditionalGeneration",
    "minicpm_ocr": "MiniCPMOcrForConditionalGeneration",
    "minicpmv4_6": "MiniCPMV4_6ForConditionalGeneration",
    "minicpmv4_7": "MiniCPMV4_7ForConditionalGeneration",
    "minimax_m3_vl": "MiniMaxM3SparseForConditionalGeneration",
    "mistral3": "Mistral3ForConditionalGeneration",
    "mistral4": "Mistral4ForCausalLM",
    "mistral_large4": "MistralLarge4ForConditionalGeneration",
    "mllama": "MllamaForConditionalGeneration",
    "molmo2": "Molmo2ForConditionalGeneration",
    "muse_glimmer": "MuseGlimmerForConditionalGeneration",
    "muse_spark": "MuseSparkForConditionalGeneration",
    "nemotron_h_omni": "NemotronH_Omni_Reasoning_V3",
    "ovis2": "Ovis2ForConditionalGeneration",
    "paddleocr_vl": "PaddleOCRVLForConditionalGeneration",
    "paligemma": "PaliGemmaForConditionalGeneration",
    "perception_lm": "PerceptionLMForConditionalGeneration",
    "pi0": "PI0ForConditionalGeneration",
    "pix2struct": "Pix2StructForConditionalGeneration",
    "pp_chart2table": "GotOcr2ForConditionalGeneration",
    "pp_formulanet": "PPFormulaNetForConditionalGeneration",
    "qianfan_ocr": "QianfanOCRForConditionalGeneration",
    "qwen2_5_omni_thinker": "Qwen2_5OmniThinkerForConditionalGeneration",
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
    "qwen3_5": "Qwen3_5ForConditionalGeneration",
    "qwen3_5_moe": "Qwen3_5MoeForConditionalGeneration",
    "qwen3_omni_moe_thinker": "Qwen3OmniMoeThinkerForConditionalGeneration",
    "qwen3_vl": "Qwen3VLForConditionalGeneration",
    "qwen3_vl_moe": "Qwen3VLMoeForConditionalGeneration",
    "qwen4_exp": "Qwen4ExpForConditionalGeneration",
    "shieldgemma2": "Gemma3ForConditionalGeneration",
    "smolvlm": "SmolVLMForConditionalGeneration",
    "step3p7": "Step3p7ForConditionalGeneration",
    "t5gemma2": "T5Gemma2ForConditionalGeneration",
    "udop": "UdopForConditionalGeneration",
    "unlimited_ocr": "UnlimitedOcrForConditionalGeneration",
    "video_llama_3": "VideoLlama3ForConditionalGeneration",
    "video_llava": "VideoLlavaForConditionalGeneration",
    "vipllava": "VipLlavaForConditionalGeneration",
    "vision-encoder-decoder": "VisionEncoderDecoderModel",
}


#: model types whose processor takes a clip (a video processor, ``{"type": "video"}`` in
#: the chat template); every other takes a video's frames as images
NATIVE_VIDEO = frozenset(
    {"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe", "glm4v", "llava_onevision"}
)
#: default sampling, as VLMEvalKit's wrappers: qwen-vl-utils at 2 fps for Qwen-VL,
#: 16 frames by numpy.linspace for LLaVA-OneVision, else the dataset's 8 frames
_QWEN = frozenset({"qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_vl_moe"})
#: qwen-vl-utils' FPS_MAX_FRAMES; InternVL's frame prompt numbers at most 64 frames
_MAX_FRAMES = {**dict.fromkeys(_QWEN, 768), "internvl": 64}


def video_fields(model_type: str) -> dict[str, Any]:
    """The ``ModelSpec`` fields saying how a checkpoint of ``model_type`` takes video."""
    if model_type in _QWEN:
        sampling: dict[str, Any] = {"rule": "qwen", "fps": 2}
    elif model_type == "llava_onevision":
        sampling = {"rule": "linspace", "nframes": 16}
    else:
        sampling = {"rule": "vlmevalkit", "nframes": 8}
    return {
        "video": "native" if model_type in NATIVE_VIDEO else "frames",
        "video_sampling": sampling,
        "max_frames": _MAX_FRAMES.get(model_type),
    }


def served_model_type(config: Mapping[str, Any]) -> str | None:
    """The config's ``model_type`` when this plugin serves it, else None (remote code too)."""
    model_type = config.get("model_type")
    if "auto_map" in config or not isinstance(model_type, str):
        return None
    return model_type if model_type in ARCHITECTURES else None


__all__ = [
    "ARCHITECTURES",
    "NATIVE_VIDEO",
    "TABLE_TRANSFORMERS_VERSION",
    "served_model_type",
    "video_fields",
]
