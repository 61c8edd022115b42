"""Attributes imported on first use (PEP 562), so that importing vlmi's faces stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any


def lazy_getattr(
    module: str, where: Mapping[str, str | tuple[str, str]], namespace: MutableMapping[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``where[name]`` on first use.

    ``where[name]`` is a module, or ``(module, attribute)`` for a name kept under
    another one there. The value is stored in ``namespace`` (the module's
    globals), so each attribute is imported once.
    """

    def __getattr__(name: str) -> Any:
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        module_name, attribute = source if isinstance(source, tuple) else (source, name)
        value = getattr(importlib.import_module(module_name), attribute)
        namespace[name] = value
        return value

    return __getattr__


__all__ = ["lazy_getattr"]
