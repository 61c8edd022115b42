"""Sphinx configuration of the vlmi documentation (``nox -s docs`` builds docs/_build/html)."""

from __future__ import annotations

import importlib
from typing import Any

import vlmi

project = "vlmi"
author = "the vlmi authors"
copyright = "the vlmi authors"
release = vlmi.__version__
version = release

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "conftest.py", "README.md"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings: list[str] = []

# every cross-reference must resolve: a missing page, anchor or API name is a warning, and the
# build treats warnings as errors
nitpicky = True
nitpick_ignore_regex = [
    # names of other projects (Python's own, Pillow, pluggy, numpy, argparse) in signatures
    (r"py:.*", r"(PIL|pluggy|numpy|np|argparse|pathlib|collections|typing|os|concurrent)\..*"),
    (r"py:mod", r"fnmatch"),
    (r"py:class", r"(abc\.ABC|_pytest\..*)"),
    # private type variables and aliases in public signatures (what they stand for is in the
    # docstring that uses them)
    (r"py:.*", r"vlmi\._\w+\.(T|R|S|OptionsT|ImageTaker|DownloadCheck|LoadOptions)"),
    (r"py:class", r"LoadOptions"),
    # the base class holding ModelConformance's video checks (described with the module
    # vlmi.testing.video_checks on the testing page; plugins subclass ModelConformance)
    (r"py:class", r"vlmi\.testing\.video_checks\.VideoConformance"),
    (r"py:.*", r"(Path|Image\.Image|Image|Namespace|ArgumentParser|PathLike|Iterator|Iterable)"),
    (r"py:.*", r"(Sequence|Mapping|Callable|Any|Self|TypeVar|Generic|Literal|Protocol|T|O)"),
    (r"py:.*", r"(Exception|BaseException|ValueError|RuntimeError|LookupError|OSError)"),
    (r"py:.*", r"(ImportError|TimeoutError|ConnectionError|MemoryError|Warning|object)"),
]

autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True

html_theme = "furo"
html_title = f"vlmi {release}"
html_static_path: list[str] = []

PUBLIC = ("vlmi", "vlmi.plugin", "vlmi.errors", "vlmi.testing")

# the public modules import most names on first use (to keep `import vlmi` light); autodoc lists
# a module's members from its namespace, so bring every name of `__all__` in first
for _module in PUBLIC:
    _public = importlib.import_module(_module)
    for _name in _public.__all__:
        getattr(_public, _name)


def _public_target(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolve ``vlmi._private.Name`` or a bare ``Name`` to the public page that documents it."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not (target.startswith("vlmi.") or "." not in target):
        return None
    parts = target.split(".")
    domain = env.get_domain("py")
    tails = [".".join(parts[i:]) for i in range(1, len(parts))] or [target]
    for module, tail in ((m, t) for t in tails for m in PUBLIC):
        candidate = f"{module}.{tail}"
        if candidate in domain.objects:
            node["reftarget"] = candidate
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], candidate, node, contnode
            )
    return None


def setup(app: Any) -> None:
    app.connect("missing-reference", _public_target)
