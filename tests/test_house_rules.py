"""The layout rules every distribution here keeps (and a new family plugin must keep).

- Plugins, extensions, the template, the test kit and the test plugins use vlmi's public faces
  only (``vlmi``, ``vlmi.plugin``, ``vlmi.errors``, ``vlmi.testing``), never ``vlmi._*``.
- No plugin imports another plugin; shared test helpers live in vlmi-testkit.
- Every model family plugin has the same modules for the same jobs (extensions, marked
  ``[tool.vlmi] kind = "extension"``, have the shape of their job).
- The core has no import cycle, imports no private name of another of its modules, and keeps
  its layers (vlmi-core/README.md): a module imports only from its own layer or below.
- Modules stay small.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
import tomllib

from .conftest import ROOT


def kind_of(dist: Path) -> str:
    pyproject = tomllib.loads((dist / "pyproject.toml").read_text(encoding="utf-8"))
    return str(pyproject.get("tool", {}).get("vlmi", {}).get("kind", "family"))


DISTS = sorted(p.parent for p in ROOT.glob("vlmi-*/pyproject.toml") if p.parent.name != "vlmi-core")
FAMILIES = [dist for dist in DISTS if kind_of(dist) == "family"]
OUTSIDE_CORE = [
    *DISTS,
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


def test_extensions_are_marked_and_everything_else_is_a_family():
    assert {dist.name for dist in DISTS if kind_of(dist) == "extension"} >= {
        "vlmi-serve",
        "vlmi-ray",
    }
    assert {kind_of(dist) for dist in DISTS} <= {"family", "extension"}


@pytest.mark.parametrize("dist", DISTS, ids=lambda p: p.name)
def test_no_plugin_imports_another_plugin(dist: Path):
    """No distribution's code imports another; its tests may use an extension's public API
    (``vlmi_ray.RayPool``), as users do, but never another model plugin."""
    others = {package_of(other) for other in DISTS if other != dist}
    families = {package_of(other) for other in FAMILIES if other != dist}
    found = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in python_files(dist)
        for module in imported_modules(path)
        if module.split(".")[0] in (others if "src" in path.relative_to(dist).parts else families)
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


# --- the core's own layout -------------------------------------------------------------

CORE = ROOT / "vlmi-core" / "src"

#: vlmi-core's layers, top to bottom (vlmi-core/README.md says what each holds); the faces
#: (vlmi, vlmi.plugin, vlmi.testing) sit above them all
LAYERS: list[tuple[str, ...]] = [
    (
        "vlmi._cli",
        "vlmi._run.cli",
        "vlmi._vlmevalkit.cli",
        "vlmi._compare.cli",
        "vlmi._download.cli",
    ),
    ("vlmi._run", "vlmi._vlmevalkit", "vlmi._compare", "vlmi._judge", "vlmi._extensions"),
    (
        "vlmi._api",
        "vlmi._registry",
        "vlmi._plugins",
        "vlmi._hookspecs",
        "vlmi._weights",
        "vlmi._checkpoint",
        "vlmi._listing",
        "vlmi._download",
    ),
    (
        "vlmi._model",
        "vlmi._preparing",
        "vlmi._batching",
        "vlmi._options",
        "vlmi._spec",
        "vlmi._accelerator",
        "vlmi._progress",
        "vlmi._provenance",
    ),
    (
        "vlmi._sample",
        "vlmi._generation",
        "vlmi._images",
        "vlmi._video",
        "vlmi._download_checks",
        "vlmi._record",
        "vlmi._command",
        "vlmi._install_hints",
        "vlmi._lazy",
        "vlmi.errors",
    ),
]
FACES = ("vlmi", "vlmi.plugin", "vlmi.__main__")


def is_face(module: str) -> bool:
    return module in FACES or module == "vlmi.testing" or module.startswith("vlmi.testing.")


def core_modules() -> dict[str, Path]:
    modules = {}
    for path in python_files(CORE / "vlmi"):
        parts = path.relative_to(CORE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def core_imports(type_checking: bool) -> dict[str, set[tuple[str, tuple[str, ...]]]]:
    """module -> {(imported module, names)}; ``type_checking``: count `if TYPE_CHECKING` ones."""
    modules = core_modules()
    found: dict[str, set[tuple[str, tuple[str, ...]]]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = set()
        if not type_checking:
            for node in ast.walk(tree):
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                    skipped.update(id(child) for child in ast.walk(node))
        edges = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    if target in modules:  # a submodule imported by name
                        edges.add((target, ()))
                    elif base in modules:
                        edges.add((base, (alias.name,)))
            elif isinstance(node, ast.Import):
                edges.update((a.name, ()) for a in node.names if a.name in modules)
        found[name] = {(t, n) for t, n in edges if t != name}
    return found


def layer_of(module: str) -> int | None:
    for depth, layer in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in layer):
            # a command module inside an application package counts as a command
            return depth
    return None


def test_every_core_module_has_a_layer():
    unplaced = [m for m in core_modules() if not is_face(m) and layer_of(m) is None]
    assert not unplaced, f"add these to LAYERS (and vlmi-core/README.md): {unplaced}"


def test_the_core_keeps_its_layers():
    upward = sorted(
        f"{module} -> {target}"
        for module, edges in core_imports(type_checking=False).items()
        if not is_face(module)
        for target, _ in edges
        if not is_face(target) and (layer_of(target) or 0) < (layer_of(module) or 0)
    )
    assert upward == []


def test_the_core_has_no_import_cycle():
    graph = {m: {t for t, _ in e} for m, e in core_imports(type_checking=True).items()}
    # a package imports its own submodules (its __init__ re-exports them): not a cycle
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    seen: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for target in sorted(graph.get(node, ())):
            if seen.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in seen:
                visit(target, [*path, target])
        seen[node] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [module])
    assert cycles == []


def test_no_private_name_is_imported_across_core_modules():
    crossing = sorted(
        f"{module}: {name} from {target}"
        for module, edges in core_imports(type_checking=True).items()
        for target, names in edges
        for name in names
        if name.startswith("_") and not name.startswith("__")
    )
    assert crossing == []


def test_no_core_module_name_stands_in_for_a_package():
    flat = [m.rpartition(".")[2] for m in core_modules() if m.count(".") == 1]
    prefixes = {name.split("_")[1] for name in flat if name.startswith("_") and "_" in name[1:]}
    repeated = sorted(p for p in prefixes if sum(n.startswith(f"_{p}_") for n in flat) > 1)
    assert repeated == []


# --- one definition of each rule -------------------------------------------------------

SOURCES = sorted(
    p
    for pattern in ("vlmi-*/src", "testing/*/src")
    for d in ROOT.glob(pattern)
    for p in python_files(d)
)
HUB_CLIENT_MODULES = {
    "vlmi-core/src/vlmi/_download/huggingface.py",
    "vlmi-core/src/vlmi/_download/modelscope.py",
}


def _where(found: Callable[[ast.AST], bool]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if found(node)
    )


def _called(node: ast.AST, names: set[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) in names


def _strings(node: ast.AST) -> set[str]:
    if not isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return set()
    return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}


def test_each_rule_is_written_once():
    """What reads as a hub id, how a config.json is downloaded and the generation option names
    have one definition, in the core; plugins take them from ``vlmi.plugin``."""
    patterns = _where(lambda n: isinstance(n, ast.Constant) and r"/[\w.\-]+" in str(n.value))
    assert [p.split(":")[0] for p in patterns] == ["vlmi-core/src/vlmi/_checkpoint.py"]
    tests = _where(
        lambda n: isinstance(n, ast.FunctionDef) and n.name in {"is_hub_id", "is_repo_id"}
    )
    assert [p.split(":")[0] for p in tests] == ["vlmi-core/src/vlmi/_checkpoint.py"]
    downloads = _where(lambda n: _called(n, {"hf_hub_download", "model_file_download"}))
    assert {p.split(":")[0] for p in downloads} <= HUB_CLIENT_MODULES, downloads
    names = _where(lambda n: {"max_new_tokens", "temperature", "top_p"} <= _strings(n))
    assert names == []  # vlmi.plugin.GENERATION_OPTION_NAMES, made from GenerationOptions' fields


def test_every_plugin_is_asked_to_resolve_a_name():
    """Each plugin's ``resolve_model`` is called on its own and every claim counts, so its
    hookspec stops at no first result."""
    from vlmi._plugins import get_plugin_manager

    spec = get_plugin_manager().hook.resolve_model.spec
    assert spec is not None and not spec.opts.get("firstresult")
    assert spec.argnames == ("name", "config", "hub", "revision")
