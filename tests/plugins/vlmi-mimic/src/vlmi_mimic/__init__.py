"""An engine plugin serving the ``parrot`` models with its own engine (test only).

Its specs keep ``needs_gpu`` at the default (True), as a GPU engine plugin's do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vlmi.plugin import ModelSpec, hookimpl

FACTORY = "vlmi_mimic.model:MimicModel"
ARCHITECTURES = frozenset({"ParrotForCausalLM", "MimicForCausalLM"})


def _spec(name: str, **fields: Any) -> ModelSpec:
    fields.setdefault("description", "a parrot model, through the mimic engine")
    return ModelSpec(
        name=name,
        factory=FACTORY,
        family="parrot",
        engine="mimic",
        engine_distributions=("vlmi-mimic",),
        weights={"huggingface": f"parrot-org/{name}"},
        generic=True,
        preference=5,
        **fields,
    )


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    for name in (
        "parrot-1b",
        "parrot-3b",
        "parrot-tie",
        "mimic-only",
        "mimic-twice",
        "mimic-twice",
    ):
        register(_spec(name))


@hookimpl
def resolve_model(
    name: str, config: Mapping[str, Any] | None, hub: str, revision: str | None
) -> ModelSpec | None:
    """Claims by architecture; says in its description which hub and revision it was given."""
    if config is None or not ARCHITECTURES & set(config.get("architectures", ())):
        return None
    asked = f"asked for {hub}" + (f" at {revision}" if revision else "")
    return _spec("mimic-checkpoint", defaults={"model_path": name}, description=asked)
