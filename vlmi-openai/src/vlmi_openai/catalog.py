"""The curated API models: vlmi names for a few well-known OpenAI vision models.

Any other model of any OpenAI-compatible endpoint is reached as
``openai:<model id>`` (see :func:`vlmi_openai.resolve_model`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vlmi.plugin import ModelSpec

FACTORY = "vlmi_openai.model:OpenAIModel"
FAMILY = "openai"
ENGINE = "openai-api"
#: the prefix that sends any model id to an OpenAI-compatible endpoint
PREFIX = "openai:"


@dataclass(frozen=True)
class ApiModel:
    """One curated model: its vlmi name and the id the API knows it by."""

    name: str
    api_model: str
    description: str


CATALOG: tuple[ApiModel, ...] = (
    ApiModel("gpt-4o", "gpt-4o", "GPT-4o through the OpenAI API"),
    ApiModel("gpt-4o-mini", "gpt-4o-mini", "GPT-4o mini through the OpenAI API"),
    ApiModel("gpt-4.1", "gpt-4.1", "GPT-4.1 through the OpenAI API"),
    ApiModel("gpt-4.1-mini", "gpt-4.1-mini", "GPT-4.1 mini through the OpenAI API"),
)


def spec_for(api_model: str, *, name: str | None = None, description: str = "") -> ModelSpec:
    """The spec of an API model; ``name`` defaults to ``openai-<id>`` in vlmi's name alphabet."""
    return ModelSpec(
        name=name or vlmi_name(api_model),
        factory=FACTORY,
        family=FAMILY,
        engine=ENGINE,
        defaults={"api_model": api_model},
        needs_gpu=False,  # the endpoint answers; this environment holds no GPU for it
        # videos go to the server (video_url), or as vlmi's frames (video_as="frames"):
        # VLMEvalKit's API wrappers take the dataset's frames, 8 by default
        video="native",
        video_sampling={"rule": "vlmevalkit", "nframes": 8},
        description=description or f"{api_model} through an OpenAI-compatible endpoint",
    )


def vlmi_name(api_model: str) -> str:
    """A vlmi model name for an API model id (lower case; other characters become '-')."""
    return "openai-" + re.sub(r"[^a-z0-9._-]+", "-", api_model.lower()).strip("-")


def curated_specs() -> list[ModelSpec]:
    """The catalog as specs."""
    return [spec_for(m.api_model, name=m.name, description=m.description) for m in CATALOG]


__all__ = ["CATALOG", "PREFIX", "ApiModel", "curated_specs", "spec_for", "vlmi_name"]
