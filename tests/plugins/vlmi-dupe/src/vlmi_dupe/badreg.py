"""A plugin whose register_models raises."""

from __future__ import annotations

from collections.abc import Callable

from vlmi.plugin import ModelSpec, hookimpl


@hookimpl
def register_models(register: Callable[[ModelSpec], None]) -> None:
    raise RuntimeError("badreg cannot reach its model catalogue")
