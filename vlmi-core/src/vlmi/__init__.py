"""vlmi: one inference API for vision-language models, engines supplied by plugins.

>>> import vlmi
>>> model = vlmi.load("internvl2-8b")                     # doctest: +SKIP
>>> model.eval("Describe the picture.", imgs=["cat.jpg"])  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vlmi import errors, hookspecs
from vlmi.generation import GenerationOptions
from vlmi.hookspecs import hookimpl
from vlmi.options import EngineOptions, LoadOptions
from vlmi.sample import ImagePart, Sample, TextPart
from vlmi.spec import ModelSpec

if TYPE_CHECKING:
    from vlmi.api import ModelInfo, list_models, load
    from vlmi.images import load_img
    from vlmi.model import BatchedModel, EvalInterface, Model
    from vlmi.runner import RunSummary, run

__version__ = "0.1.0"

# Imported on first use, so that `import vlmi` (done by every plugin) stays cheap.
_LAZY = {
    "ModelInfo": "vlmi.api",
    "list_models": "vlmi.api",
    "load": "vlmi.api",
    "load_img": "vlmi.images",
    "Model": "vlmi.model",
    "BatchedModel": "vlmi.model",
    "EvalInterface": "vlmi.model",
    "run": "vlmi.runner",
    "RunSummary": "vlmi.runner",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vlmi' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BatchedModel",
    "EngineOptions",
    "EvalInterface",
    "GenerationOptions",
    "ImagePart",
    "LoadOptions",
    "Model",
    "ModelInfo",
    "ModelSpec",
    "RunSummary",
    "Sample",
    "TextPart",
    "__version__",
    "errors",
    "hookimpl",
    "hookspecs",
    "list_models",
    "load",
    "load_img",
    "run",
]
