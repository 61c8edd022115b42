"""Test-only vlmi plugin: registers the ``constant`` model (nothing heavy is imported)."""

from __future__ import annotations

from collections.abc import Callable

from vlmi.plugin import ModelSpec, hookimpl


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(
            name="constant",
            factory="vlmi_constant.model:ConstantModel",
            family="constant",
            engine="python",
            max_images=4,
            needs_gpu=False,
            description="answers every sample with its `answer` option; for tests",
        )
    )
