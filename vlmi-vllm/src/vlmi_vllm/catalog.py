"""The curated models: the leaderboard's top open 2-12B VLMs that vLLM runs natively.

Each name means the weights its authors published under it (the remote-code
repositories for InternVL and MiniCPM-V; the ``-hf`` names mean Transformers
conversions). Any other checkpoint whose architecture vLLM serves is served
too, by hub id or local folder (see :mod:`vlmi_vllm.resolving`). ModelScope
ids are listed only where the publisher mirrors the repository there.

``trust_remote_code`` defaults to True only for the curated remote-code
repositories listed here (their spec vouches for the code); elsewhere it is
the user's opt-in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vlmi.plugin import ModelSpec
from vlmi_vllm.architectures import ARCHITECTURES

FACTORY = "vlmi_vllm.model:VllmModel"
ENGINE = "vllm"


@dataclass(frozen=True)
class Curated:
    """One curated model: its spec and the vLLM architecture its config.json names."""

    architecture: str
    spec: ModelSpec


@dataclass(frozen=True)
class _Entry:
    name: str
    huggingface: str
    architecture: str
    family: str
    description: str
    modelscope: str | None = None
    aliases: tuple[str, ...] = ()
    max_images: int = 8
    remote_code: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)

    def curated(self) -> Curated:
        weights = {"huggingface": self.huggingface}
        if self.modelscope:
            weights["modelscope"] = self.modelscope
        defaults = dict(self.defaults)
        if self.remote_code:
            defaults["trust_remote_code"] = True
        spec = ModelSpec(
            name=self.name,
            factory=FACTORY,
            family=self.family,
            engine=ENGINE,
            weights=weights,
            aliases=self.aliases,
            max_images=self.max_images,
            defaults=defaults,
            description=f"{self.description} (vLLM)",
            generic=True,
            preference=PREFERENCE,
            **ARCHITECTURES[self.architecture].video_fields(self.max_images),
        )
        return Curated(self.architecture, spec)


#: an engine plugin (generic), preferred over one-at-a-time engines when several serve a name
PREFERENCE = 10

_QWEN3_VL = "Qwen3VLForConditionalGeneration"
_QWEN2_5_VL = "Qwen2_5_VLForConditionalGeneration"
_INTERNVL_CHAT = "InternVLChatModel"
_GEMMA3 = "Gemma3ForConditionalGeneration"
#: thinking models write long reasoning before the answer
_THINKING = {"max_new_tokens": 8192}

_ENTRIES: tuple[_Entry, ...] = (
    _Entry(
        "qwen3-vl-8b",
        "Qwen/Qwen3-VL-8B-Instruct",
        _QWEN3_VL,
        "qwen3-vl",
        "Qwen3-VL 8B Instruct",
        modelscope="Qwen/Qwen3-VL-8B-Instruct",
        aliases=("qwen3-vl-8b-instruct",),
    ),
    _Entry(
        "qwen3-vl-4b",
        "Qwen/Qwen3-VL-4B-Instruct",
        _QWEN3_VL,
        "qwen3-vl",
        "Qwen3-VL 4B Instruct",
        modelscope="Qwen/Qwen3-VL-4B-Instruct",
        aliases=("qwen3-vl-4b-instruct",),
    ),
    _Entry(
        "qwen3.5-9b",
        "Qwen/Qwen3.5-9B",
        "Qwen3_5ForConditionalGeneration",
        "qwen3.5",
        "Qwen3.5 9B (natively multimodal)",
        modelscope="Qwen/Qwen3.5-9B",
    ),
    _Entry(
        "qwen2.5-vl-7b",
        "Qwen/Qwen2.5-VL-7B-Instruct",
        _QWEN2_5_VL,
        "qwen2.5-vl",
        "Qwen2.5-VL 7B Instruct",
        modelscope="Qwen/Qwen2.5-VL-7B-Instruct",
        aliases=("qwen2.5-vl-7b-instruct", "qwen2_5-vl-7b"),
    ),
    _Entry(
        "qwen2.5-vl-3b",
        "Qwen/Qwen2.5-VL-3B-Instruct",
        _QWEN2_5_VL,
        "qwen2.5-vl",
        "Qwen2.5-VL 3B Instruct",
        modelscope="Qwen/Qwen2.5-VL-3B-Instruct",
        aliases=("qwen2.5-vl-3b-instruct",),
    ),
    _Entry(
        "internvl3.5-8b",
        "OpenGVLab/InternVL3_5-8B",
        _INTERNVL_CHAT,
        "internvl",
        "InternVL3.5 8B (the authors' remote-code format)",
        modelscope="OpenGVLab/InternVL3_5-8B",
        aliases=("internvl3_5-8b",),
        remote_code=True,
    ),
    _Entry(
        "internvl3.5-8b-hf",
        "OpenGVLab/InternVL3_5-8B-HF",
        "InternVLForConditionalGeneration",
        "internvl",
        "InternVL3.5 8B, Transformers-native conversion",
    ),
    _Entry(
        "internvl3-8b",
        "OpenGVLab/InternVL3-8B",
        _INTERNVL_CHAT,
        "internvl",
        "InternVL3 8B (the authors' remote-code format)",
        modelscope="OpenGVLab/InternVL3-8B",
        remote_code=True,
    ),
    _Entry(
        "internvl2.5-8b",
        "OpenGVLab/InternVL2_5-8B",
        _INTERNVL_CHAT,
        "internvl",
        "InternVL2.5 8B (the authors' remote-code format)",
        modelscope="OpenGVLab/InternVL2_5-8B",
        aliases=("internvl2_5-8b",),
        remote_code=True,
    ),
    _Entry(
        "glm-4.1v-9b-thinking",
        "zai-org/GLM-4.1V-9B-Thinking",
        "Glm4vForConditionalGeneration",
        "glm-4.1v",
        "GLM-4.1V 9B Thinking (reasons before answering: long outputs)",
        modelscope="ZhipuAI/GLM-4.1V-9B-Thinking",
        aliases=("glm4.1v-9b",),
        defaults=_THINKING,
    ),
    _Entry(
        "minicpm-v-4.5",
        "openbmb/MiniCPM-V-4_5",
        "MiniCPMV",
        "minicpmv",
        "MiniCPM-V 4.5 (answers directly; enable_thinking=True reasons first)",
        modelscope="OpenBMB/MiniCPM-V-4_5",
        aliases=("minicpm-v-4_5", "minicpmv-4.5"),
        remote_code=True,
        # the authors' chat() applies the template with enable_thinking=False by default
        defaults={"enable_thinking": False},
    ),
    _Entry(
        "ovis2.5-9b",
        "AIDC-AI/Ovis2.5-9B",
        "Ovis2_5",
        "ovis2.5",
        "Ovis2.5 9B",
        aliases=("ovis2_5-9b",),
        remote_code=True,
    ),
    _Entry(
        "keye-vl-1.5-8b",
        "Kwai-Keye/Keye-VL-1_5-8B",
        "KeyeVL1_5ForConditionalGeneration",
        "keye-vl",
        "Keye-VL 1.5 8B",
        aliases=("keye-vl-1_5-8b",),
        remote_code=True,
    ),
    _Entry(
        "mimo-vl-7b-rl",
        "XiaomiMiMo/MiMo-VL-7B-RL",
        _QWEN2_5_VL,
        "mimo-vl",
        "MiMo-VL 7B RL (Qwen2.5-VL architecture; thinks before answering)",
        defaults=_THINKING,
    ),
    _Entry(
        "gemma-3-4b-it",
        "google/gemma-3-4b-it",
        _GEMMA3,
        "gemma3",
        "Gemma 3 4B instruction-tuned (gated on Hugging Face: accept the licence first)",
        modelscope="LLM-Research/gemma-3-4b-it",
        aliases=("gemma3-4b",),
    ),
    _Entry(
        "gemma-3-12b-it",
        "google/gemma-3-12b-it",
        _GEMMA3,
        "gemma3",
        "Gemma 3 12B instruction-tuned (gated on Hugging Face: accept the licence first)",
        modelscope="LLM-Research/gemma-3-12b-it",
        aliases=("gemma3-12b",),
    ),
    _Entry(
        "kimi-vl-a3b-instruct",
        "moonshotai/Kimi-VL-A3B-Instruct",
        "KimiVLForConditionalGeneration",
        "kimi-vl",
        "Kimi-VL A3B Instruct (16B mixture of experts, 3B active)",
        aliases=("kimi-vl-a3b",),
        remote_code=True,
    ),
    _Entry(
        "llava-onevision-7b",
        "llava-hf/llava-onevision-qwen2-7b-ov-hf",
        "LlavaOnevisionForConditionalGeneration",
        "llava-onevision",
        "LLaVA-OneVision Qwen2 7B (OV)",
        aliases=("llava-onevision-qwen2-7b-ov",),
    ),
)

#: InternVL2 by size: its weights repository (the same as vlmi-internvl2's, the family plugin,
#: which stays the default provider of these names: a family plugin ranks before an engine one)
_INTERNVL2 = {
    "1b": "OpenGVLab/InternVL2-1B",
    "2b": "OpenGVLab/InternVL2-2B",
    "4b": "OpenGVLab/InternVL2-4B",
    "8b": "OpenGVLab/InternVL2-8B",
    "26b": "OpenGVLab/InternVL2-26B",
    "40b": "OpenGVLab/InternVL2-40B",
    "76b": "OpenGVLab/InternVL2-Llama3-76B",
}
_ENTRIES += tuple(
    _Entry(
        f"internvl2-{size}",
        repo,
        _INTERNVL_CHAT,
        "internvl2",
        f"InternVL2 {size.upper()} (the authors' remote-code format)",
        modelscope=repo,
        aliases=(f"internvl2_{size}", repo.split("/")[1].lower()),
        remote_code=True,
    )
    for size, repo in _INTERNVL2.items()
)

CURATED_MODELS: tuple[Curated, ...] = tuple(entry.curated() for entry in _ENTRIES)
CURATED: tuple[ModelSpec, ...] = tuple(c.spec for c in CURATED_MODELS)


def curated_by_repo(repo_id: str) -> ModelSpec | None:
    """The curated spec whose default weights are ``repo_id`` (case-insensitive)."""
    wanted = repo_id.lower()
    for spec in CURATED:
        if any(repo.lower() == wanted for repo in spec.weights.values()):
            return spec
    return None


__all__ = ["CURATED", "CURATED_MODELS", "ENGINE", "FACTORY", "Curated", "curated_by_repo"]
