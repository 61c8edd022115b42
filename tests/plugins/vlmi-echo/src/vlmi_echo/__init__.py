"""Test-only vlmi plugin: registers the echo models (nothing heavy is imported)."""

from __future__ import annotations

from collections.abc import Callable

from vlmi.plugin import ModelSpec, hookimpl


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(
            name="echo",
            aliases=("echo-test",),
            factory="vlmi_echo.model:EchoModel",
            family="echo",
            engine="python",
            weights={"huggingface": "vlmi/echo"},
            max_images=4,
            description="echoes its input; for tests and benchmarks",
        )
    )
    register(
        ModelSpec(
            name="echo-text",
            factory="vlmi_echo.model:EchoModel",
            family="echo",
            engine="python",
            max_images=0,
            description="text-only echo",
        )
    )
