"""The MiniCPM-V models vlmi-minicpmv serves (data only)."""

from __future__ import annotations

from vlmi.plugin import ModelSpec

CURATED = (
    ModelSpec(
        name="minicpm-v-2.6",
        aliases=("minicpm-v-2_6", "minicpm-v2.6", "minicpmv-2.6"),
        factory="vlmi_minicpmv.model:MiniCPMVModel",
        family="minicpmv",
        engine="vllm",
        weights={"huggingface": "openbmb/MiniCPM-V-2_6", "modelscope": "OpenBMB/MiniCPM-V-2_6"},
        max_images=8,
        # videos as frames (one placeholder each, VLMEvalKit's frame settings), its 8 by
        # default; the frames count against vLLM's image limit (max_images)
        video="frames",
        video_sampling={"rule": "vlmevalkit", "nframes": 8},
        max_frames=8,
        description="MiniCPM-V 2.6 (vLLM)",
    ),
)

__all__ = ["CURATED"]
