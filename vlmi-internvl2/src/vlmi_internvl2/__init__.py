"""vlmi plugin for InternVL2 through LMDeploy: registers the models, imports nothing heavy."""

from __future__ import annotations

from collections.abc import Callable

import vlmi

#: size -> (Hugging Face id, ModelScope id). The same ids serve both hubs.
SIZES = {
    "1b": "OpenGVLab/InternVL2-1B",
    "2b": "OpenGVLab/InternVL2-2B",
    "4b": "OpenGVLab/InternVL2-4B",
    "8b": "OpenGVLab/InternVL2-8B",
    "26b": "OpenGVLab/InternVL2-26B",
    "40b": "OpenGVLab/InternVL2-40B",
    "76b": "OpenGVLab/InternVL2-Llama3-76B",
}


@vlmi.hookimpl
def register_models(register: Callable[[vlmi.ModelSpec], None]) -> None:
    for size, repo in SIZES.items():
        register(
            vlmi.ModelSpec(
                name=f"internvl2-{size}",
                aliases=(f"internvl2_{size}", repo.split("/")[1].lower()),
                factory="vlmi_internvl2.model:InternVL2Model",
                family="internvl2",
                engine="lmdeploy",
                weights={"huggingface": repo, "modelscope": repo},
                max_images=8,
                description=f"InternVL2 {size.upper()} (LMDeploy)",
            )
        )
