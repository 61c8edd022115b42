"""Registers the model ``twin`` under an entry point named like vlmi-echo's."""

from __future__ import annotations

from collections.abc import Callable

from vlmi.plugin import ModelSpec, hookimpl


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(name="twin", factory="vlmi_echo.model:EchoModel", family="echo", engine="python")
    )
