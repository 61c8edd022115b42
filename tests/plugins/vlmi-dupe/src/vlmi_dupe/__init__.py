"""Claims the model name ``echo``, which vlmi-echo claims too."""

from __future__ import annotations

from collections.abc import Callable

import vlmi


@vlmi.hookimpl
def register_models(register: Callable[[vlmi.ModelSpec], None]) -> None:
    register(
        vlmi.ModelSpec(
            name="echo", factory="vlmi_echo.model:EchoModel", family="echo", engine="python"
        )
    )
    register(
        vlmi.ModelSpec(
            name="dupe-ok", factory="vlmi_echo.model:EchoModel", family="echo", engine="python"
        )
    )
