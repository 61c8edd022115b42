"""The curated models: strong open 2-10B VLMs that Transformers 5.x runs natively.

Each is declared data; any other checkpoint of a supported architecture is
served too, by hub id or local folder (see :mod:`vlmi_transformers.resolving`).
A name means one weights repository, whichever plugin serves it: a
Transformers-converted repository gets a name of its own (``-hf``), never an
alias of the original model's name.
ModelScope ids are listed only where the publisher mirrors the repository there.
"""

from __future__ import annotations

from typing import Any

from vlmi.plugin import ModelSpec
from vlmi_transformers.architectures import video_fields

FACTORY = "vlmi_transformers.model:TransformersModel"
FAMILY = "transformers"
ENGINE = "transformers"


def _spec(
    name: str,
    huggingface: str,
    description: str,
    model_type: str,
    *,
    modelscope: str | None = None,
    aliases: tuple[str, ...] = (),
    max_images: int | None = None,
    defaults: dict[str, Any] | None = None,
) -> ModelSpec:
    weights = {"huggingface": huggingface}
    if modelscope:
        weights["modelscope"] = modelscope
    return ModelSpec(
        name=name,
        factory=FACTORY,
        family=FAMILY,
        engine=ENGINE,
        # an engine plugin: a family plugin serving the same name is the default
        generic=True,
        weights=weights,
        aliases=aliases,
        max_images=max_images,
        defaults=defaults or {},
        description=description,
        **video_fields(model_type),
    )


CURATED: tuple[ModelSpec, ...] = (
    _spec(
        "qwen2.5-vl-7b",
        "Qwen/Qwen2.5-VL-7B-Instruct",
        "Qwen2.5-VL 7B Instruct",
        "qwen2_5_vl",
        modelscope="Qwen/Qwen2.5-VL-7B-Instruct",
        aliases=("qwen2.5-vl-7b-instruct", "qwen2_5-vl-7b"),
    ),
    _spec(
        "qwen2.5-vl-3b",
        "Qwen/Qwen2.5-VL-3B-Instruct",
        "Qwen2.5-VL 3B Instruct",
        "qwen2_5_vl",
        modelscope="Qwen/Qwen2.5-VL-3B-Instruct",
        aliases=("qwen2.5-vl-3b-instruct",),
    ),
    _spec(
        "qwen3-vl-8b",
        "Qwen/Qwen3-VL-8B-Instruct",
        "Qwen3-VL 8B Instruct",
        "qwen3_vl",
        modelscope="Qwen/Qwen3-VL-8B-Instruct",
        aliases=("qwen3-vl-8b-instruct",),
    ),
    _spec(
        "qwen3-vl-4b",
        "Qwen/Qwen3-VL-4B-Instruct",
        "Qwen3-VL 4B Instruct",
        "qwen3_vl",
        modelscope="Qwen/Qwen3-VL-4B-Instruct",
        aliases=("qwen3-vl-4b-instruct",),
    ),
    # The Transformers-native conversions of InternVL have names of their own: the plain
    # names (internvl3-8b, internvl3.5-8b) mean the authors' remote-code repositories,
    # which other engines serve, and one name means one set of weights.
    _spec(
        "internvl3-8b-hf",
        "OpenGVLab/InternVL3-8B-hf",
        "InternVL3 8B, Transformers-native conversion (not the remote-code InternVL2 format)",
        "internvl",
    ),
    _spec(
        "internvl3.5-8b-hf",
        "OpenGVLab/InternVL3_5-8B-HF",
        "InternVL3.5 8B, Transformers-native conversion",
        "internvl",
        aliases=("internvl3_5-8b-hf",),
    ),
    _spec(
        "gemma-3-4b-it",
        "google/gemma-3-4b-it",
        "Gemma 3 4B instruction-tuned (gated on Hugging Face: accept the licence first)",
        "gemma3",
        modelscope="LLM-Research/gemma-3-4b-it",
        aliases=("gemma3-4b",),
    ),
    _spec(
        "glm-4.1v-9b-thinking",
        "zai-org/GLM-4.1V-9B-Thinking",
        "GLM-4.1V 9B Thinking (reasons before answering: long outputs)",
        "glm4v",
        modelscope="ZhipuAI/GLM-4.1V-9B-Thinking",
        aliases=("glm4.1v-9b",),
        defaults={"max_new_tokens": 8192},
    ),
    _spec(
        "llava-onevision-7b",
        "llava-hf/llava-onevision-qwen2-7b-ov-hf",
        "LLaVA-OneVision Qwen2 7B (OV)",
        "llava_onevision",
        aliases=("llava-onevision-qwen2-7b-ov",),
    ),
    _spec(
        "idefics3-8b",
        "HuggingFaceM4/Idefics3-8B-Llama3",
        "Idefics3 8B (Llama 3.1 backbone)",
        "idefics3",
    ),
    _spec(
        "smolvlm-instruct",
        "HuggingFaceTB/SmolVLM-Instruct",
        "SmolVLM 2B Instruct (small and fast)",
        "idefics3",
        aliases=("smolvlm-2b",),
    ),
)


def curated_by_repo(repo_id: str) -> ModelSpec | None:
    """The curated spec whose default weights are ``repo_id`` (case-insensitive)."""
    wanted = repo_id.lower()
    for spec in CURATED:
        if any(repo.lower() == wanted for repo in spec.weights.values()):
            return spec
    return None


__all__ = ["CURATED", "ENGINE", "FACTORY", "FAMILY", "curated_by_repo"]
