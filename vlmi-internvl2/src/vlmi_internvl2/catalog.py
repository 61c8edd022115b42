"""The InternVL2 models vlmi-internvl2 serves: sizes, weights and default backends (data only)."""

from __future__ import annotations

from vlmi.plugin import ModelSpec

#: size -> (Hugging Face / ModelScope id, default LMDeploy backend). TurboMind serves
#: InternVL2 on InternLM2, Qwen2 and Llama backbones; the Phi-3 based 4B runs on the
#: PyTorch engine only.
SIZES = {
    "1b": ("OpenGVLab/InternVL2-1B", "turbomind"),
    "2b": ("OpenGVLab/InternVL2-2B", "turbomind"),
    "4b": ("OpenGVLab/InternVL2-4B", "pytorch"),
    "8b": ("OpenGVLab/InternVL2-8B", "turbomind"),
    "26b": ("OpenGVLab/InternVL2-26B", "turbomind"),
    "40b": ("OpenGVLab/InternVL2-40B", "turbomind"),
    "76b": ("OpenGVLab/InternVL2-Llama3-76B", "turbomind"),
}

CURATED = tuple(
    ModelSpec(
        name=f"internvl2-{size}",
        aliases=(f"internvl2_{size}", repo.split("/")[1].lower()),
        factory="vlmi_internvl2.model:InternVL2Model",
        family="internvl2",
        engine="lmdeploy",
        weights={"huggingface": repo, "modelscope": repo},
        max_images=8,
        # videos as frames (Frame-1: <image>, ...), VLMEvalKit's 8 by default; 16 at most,
        # as many as the session length (sized for 8 images of 3 tiles) holds at one tile each
        video="frames",
        video_sampling={"rule": "vlmevalkit", "nframes": 8},
        max_frames=16,
        defaults={"backend": backend},
        description=f"InternVL2 {size.upper()} (LMDeploy, {backend})",
    )
    for size, (repo, backend) in SIZES.items()
)

__all__ = ["CURATED", "SIZES"]
