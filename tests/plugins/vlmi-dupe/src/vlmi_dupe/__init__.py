"""Claims the model name ``echo``, which vlmi-echo claims too."""

from __future__ import annotations

from collections.abc import Callable

from vlmi.plugin import ModelSpec, hookimpl


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(name="echo", factory="vlmi_echo.model:EchoModel", family="echo", engine="python")
    )
    register(
        ModelSpec(
            name="dupe-ok", factory="vlmi_echo.model:EchoModel", family="echo", engine="python"
        )
    )
