"""Test-only vlmi plugin: registers the echo models (nothing heavy is imported)."""

from __future__ import annotations

from collections.abc import Callable

import vlmi


@vlmi.hookimpl
def register_models(register: Callable[[vlmi.ModelSpec], None]) -> None:
    register(
        vlmi.ModelSpec(
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
        vlmi.ModelSpec(
            name="echo-text",
            factory="vlmi_echo.model:EchoModel",
            family="echo",
            engine="python",
            max_images=0,
            description="text-only echo",
        )
    )
