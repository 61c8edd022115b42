"""Everything a vlmi plugin needs, in one module.

A plugin declares its models in its top-level module with ``@hookimpl``
functions and implements a :class:`Model` (or :class:`BatchedModel`)
subclass in a module that ``vlmi.load`` imports only when the model is
loaded::

    from vlmi.plugin import ModelSpec, hookimpl

    @hookimpl
    def register_models(register):
        register(ModelSpec(name="myfamily-7b", factory="vlmi_myfamily.model:MyModel",
                           family="myfamily", engine="my-engine"))

The rest of ``vlmi``'s modules (``vlmi._*``) are private: their names and
signatures may change between releases; what is here does not without notice.
Heavy pieces (the model classes, weights resolution, the CUDA check) are
imported on first use, so importing this module from a plugin's
``__init__`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vlmi import errors
from vlmi.errors import (
    EngineOutOfMemoryError,
    EngineUnavailableError,
    GenerationError,
    InvalidOptionError,
    InvalidSampleError,
    PluginError,
    TooManyImagesError,
    VlmiError,
    WeightsNotFoundError,
)

from ._generation import GENERATION_OPTION_NAMES, GenerationOptions
from ._hookspecs import hookimpl
from ._lazy import lazy_getattr
from ._options import EngineOptions, LoadOptions, WeightsOptions
from ._sample import ImagePart, Sample, TextPart, as_sample
from ._spec import ModelSpec, PluginInfo

if TYPE_CHECKING:
    from ._accelerator import OUT_OF_MEMORY_PHRASES, is_out_of_memory, require_cuda
    from ._batching import DEFAULT_OOM_HINT, run_chunked
    from ._images import load_img
    from ._model import BatchedModel, EvalInterface, Model
    from ._options import parse_load_options
    from ._preparing import prepare_samples
    from ._progress import Progress, progress_shown
    from ._registry import find_spec
    from ._vlmevalkit_prompts import DatasetPrompt
    from ._weights import resolve_weights, weights_id

_LAZY = {
    "Model": "vlmi._model",
    "BatchedModel": "vlmi._model",
    "EvalInterface": "vlmi._model",
    "run_chunked": "vlmi._batching",
    "DEFAULT_OOM_HINT": "vlmi._batching",
    "Progress": "vlmi._progress",
    "progress_shown": "vlmi._progress",
    "require_cuda": "vlmi._accelerator",
    "is_out_of_memory": "vlmi._accelerator",
    "OUT_OF_MEMORY_PHRASES": "vlmi._accelerator",
    "resolve_weights": "vlmi._weights",
    "weights_id": "vlmi._weights",
    "load_img": "vlmi._images",
    "prepare_samples": "vlmi._preparing",
    "parse_load_options": "vlmi._options",
    "find_spec": "vlmi._registry",
    "DatasetPrompt": "vlmi._vlmevalkit_prompts",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


__all__ = [
    "DEFAULT_OOM_HINT",
    "GENERATION_OPTION_NAMES",
    "OUT_OF_MEMORY_PHRASES",
    "BatchedModel",
    "DatasetPrompt",
    "EngineOptions",
    "EngineOutOfMemoryError",
    "EngineUnavailableError",
    "EvalInterface",
    "GenerationError",
    "GenerationOptions",
    "ImagePart",
    "InvalidOptionError",
    "InvalidSampleError",
    "LoadOptions",
    "Model",
    "ModelSpec",
    "PluginError",
    "PluginInfo",
    "Progress",
    "Sample",
    "TextPart",
    "TooManyImagesError",
    "VlmiError",
    "WeightsNotFoundError",
    "WeightsOptions",
    "as_sample",
    "errors",
    "find_spec",
    "hookimpl",
    "is_out_of_memory",
    "load_img",
    "parse_load_options",
    "prepare_samples",
    "progress_shown",
    "require_cuda",
    "resolve_weights",
    "run_chunked",
    "weights_id",
]
