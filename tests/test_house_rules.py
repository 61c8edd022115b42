"""The layout rules every distribution here keeps (and a new family plugin must keep).

- Plugins, the template, the test kit and the test plugins use vlmi's public faces only
  (``vlmi``, ``vlmi.plugin``, ``vlmi.errors``, ``vlmi.testing``), never ``vlmi._*``.
- No plugin imports another plugin; shared test helpers live in vlmi-testkit.
- Every family plugin has the same modules for the same jobs.
- Modules stay small.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

FAMILIES = sorted(
    p.parent for p in ROOT.glob("vlmi-*/pyproject.toml") if p.parent.name != "vlmi-core"
)
OUTSIDE_CORE = [
    *FAMILIES,
    *ROOT.glob("templates/*"),
    *ROOT.glob("testing/*"),
    *ROOT.glob("tests/plugins/*"),
]
SHAPE = {"__init__.py", "catalog.py", "model.py", "prompts.py", "engine_config.py", "py.typed"}


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if ".nox" not in p.parts)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def package_of(dist: Path) -> str:
    (package,) = [
        p.name for p in (dist / "src").iterdir() if p.is_dir() and p.name != "__pycache__"
    ]
    return package


@pytest.mark.parametrize("dist", OUTSIDE_CORE, ids=lambda p: p.name)
def test_only_public_vlmi_modules_are_imported(dist: Path):
    private = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files(dist)
        for module in imported_modules(path)
        if module.startswith("vlmi._")
    }
    assert private == set()


@pytest.mark.parametrize("dist", FAMILIES, ids=lambda p: p.name)
def test_no_plugin_imports_another_plugin(dist: Path):
    others = {package_of(other) for other in FAMILIES if other != dist}
    found = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files(dist)
        for module in imported_modules(path)
        if module.split(".")[0] in others
    }
    assert found == set()


@pytest.mark.parametrize("dist", [*FAMILIES, *ROOT.glob("templates/*")], ids=lambda p: p.name)
def test_every_family_plugin_has_the_same_shape(dist: Path):
    package = dist / "src" / package_of(dist)
    assert {p.name for p in package.iterdir()} >= SHAPE
    tests = {p.name for p in (dist / "tests").iterdir()}
    assert {"conftest.py", "test_conformance.py", "test_registration.py"} <= tests


def test_modules_stay_small():
    sources = [
        p
        for pattern in ("vlmi-*/src", "testing/*/src")
        for d in ROOT.glob(pattern)
        for p in python_files(d)
    ]
    long = {
        str(p.relative_to(ROOT)): n for p in sources if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}


@pytest.mark.parametrize("dist", [*FAMILIES, *ROOT.glob("templates/*")], ids=lambda p: p.name)
def test_engine_options_come_typed_from_the_base_class(dist: Path):
    """``Model[Options]`` types ``self.engine_options``; no plugin re-derives it."""
    own = [
        str(path.relative_to(ROOT))
        for path in python_files(dist / "src")
        if "def engine_options" in path.read_text(encoding="utf-8")
    ]
    assert own == []
