"""The family plugin of the made-up ``parrot`` models (test only)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vlmi.plugin import ModelSpec, hookimpl

FACTORY = "vlmi_parrot.model:ParrotModel"


def _spec(name: str, **fields: Any) -> ModelSpec:
    return ModelSpec(
        name=name,
        factory=FACTORY,
        family="parrot",
        engine="python",
        weights={"huggingface": f"parrot-org/{name}"},
        description="a parrot model, from its family plugin",
        needs_gpu=False,
        **fields,
    )


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(_spec("parrot-1b", aliases=("parrot-small",)))
    # served generically here too: the declared preference decides against vlmi-mimic
    register(_spec("parrot-3b", generic=True))
    # the same standing as vlmi-mimic's: no rule decides
    register(_spec("parrot-tie", generic=True, preference=5))


@hookimpl
def resolve_model(name: str, config: Mapping[str, Any] | None) -> ModelSpec | None:
    if config is None or "ParrotForCausalLM" not in config.get("architectures", ()):
        return None
    return _spec("parrot-checkpoint", defaults={"model_path": name})
