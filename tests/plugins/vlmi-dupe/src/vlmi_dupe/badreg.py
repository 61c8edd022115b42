"""A plugin whose register_models raises."""

from __future__ import annotations

from collections.abc import Callable

import vlmi


@vlmi.hookimpl
def register_models(register: Callable[[vlmi.ModelSpec], None]) -> None:
    raise RuntimeError("badreg cannot reach its model catalogue")
