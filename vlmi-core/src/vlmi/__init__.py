"""vlmi: one inference API for vision-language models, engines supplied by plugins.

>>> import vlmi
>>> model = vlmi.load("internvl2-8b")                     # doctest: +SKIP
>>> model.eval("Describe the picture.", imgs=["cat.jpg"])  # doctest: +SKIP

This module is the users' face. Plugin authors use :mod:`vlmi.plugin`;
modules whose names start with ``_`` are private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vlmi import errors

from ._generation import GenerationOptions
from ._lazy import lazy_getattr
from ._sample import ImagePart, Sample, TextPart, VideoPart
from ._video.values import Video, VideoSampling

if TYPE_CHECKING:
    __version__: str
    from ._api import ModelInfo, list_models, load
    from ._images import load_img
    from ._model import Model
    from ._run.api import run
    from ._run.output import RunSummary
    from ._vlmevalkit.api import score

# Imported on first use, so that `import vlmi` (done by every plugin) stays cheap.
_LAZY = {
    "ModelInfo": "vlmi._api",
    "list_models": "vlmi._api",
    "load": "vlmi._api",
    "load_img": "vlmi._images",
    "Model": "vlmi._model",
    "run": "vlmi._run.api",
    "RunSummary": "vlmi._run.output",
    "score": "vlmi._vlmevalkit.api",
}


_lazy_attribute = lazy_getattr(__name__, _LAZY, globals())


def __getattr__(name: str) -> Any:
    if name == "__version__":  # from the installed metadata: pyproject.toml is the one place
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("vlmi-core")
        except PackageNotFoundError:  # pragma: no cover - a source tree on sys.path
            found = "0+unknown"
        globals()["__version__"] = found
        return found
    return _lazy_attribute(name)


__all__ = [
    "GenerationOptions",
    "ImagePart",
    "Model",
    "ModelInfo",
    "RunSummary",
    "Sample",
    "TextPart",
    "Video",
    "VideoPart",
    "VideoSampling",
    "__version__",
    "errors",
    "list_models",
    "load",
    "load_img",
    "run",
    "score",
]
