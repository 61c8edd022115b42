"""The API reference (built by ``nox -s docs`` before these tests) shows the documented public
names of vlmi, vlmi.plugin, vlmi.errors and vlmi.testing, and nothing of the private modules."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

PUBLIC = ("vlmi", "vlmi.plugin", "vlmi.errors", "vlmi.testing")
INVENTORY = Path(__file__).parent / "_build" / "html" / "objects.inv"


def documented() -> dict[str, str]:
    """Python object name -> the anchor of the entry that documents it."""
    if not INVENTORY.exists():
        pytest.skip("the site is not built: nox -s docs builds it first")
    from sphinx.util.inventory import InventoryFile

    with INVENTORY.open("rb") as stream:
        inventory = InventoryFile.load(stream, "", lambda base, uri: uri)
    found = {}
    tables = inventory.data if hasattr(inventory, "data") else inventory
    for kind, entries in tables.items():
        if kind.startswith("py:") and kind != "py:module":
            for name, item in entries.items():
                uri = item.uri if hasattr(item, "uri") else item[2]
                found[name] = uri.rsplit("#", 1)[-1]
    return found


def public_names() -> dict[str, object]:
    """``module.name`` -> object, for every name of the public modules' ``__all__``."""
    names = {}
    for module_name in PUBLIC:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            names[f"{module_name}.{name}"] = getattr(module, name)
    return names


def test_every_entry_is_a_public_name() -> None:
    public = public_names()
    for name, anchor in documented().items():
        top = next((n for n in public if anchor == n or anchor.startswith(f"{n}.")), None)
        assert top is not None, f"{name} is documented at {anchor}, outside the public API"


def test_every_documented_public_class_and_function_is_in_the_reference() -> None:
    anchors = set(documented().values())
    for name, obj in public_names().items():
        own_doc = (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__doc__
        if own_doc and not any(a.endswith(f".{name.rsplit('.', 1)[1]}") for a in anchors):
            pytest.fail(f"{name} has a docstring but no entry in the reference")
