"""Test kit for vlmi plugins (install ``vlmi-core[testing]``).

- :class:`ModelConformance`: subclass it in a test module, set ``model_name``
  (and ``load_options``, ``plugin_module``), and pytest runs the whole
  conformance suite against your model.
- :mod:`vlmi.testing.inputs`: every kind of image input, made locally.
- :mod:`vlmi.testing.serving`: ``vlmi serve`` in a child process on a free
  loopback port (``served_model``, ``start_server``).
- :mod:`vlmi.testing.pytest_plugin` (loaded by pytest through vlmi-core's
  ``pytest11`` entry point) adds the ``gpu`` marker, which skips with a clear
  reason where CUDA is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vlmi.testing.inputs import IMAGE_KINDS, image_inputs, make_picture, serve_folder
from vlmi.testing.serving import ServerProcess, served_model, start_server

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from vlmi.testing.conformance import (
        HEAVY_MODULES,
        ModelConformance,
        heavy_modules_after_import,
    )
    from vlmi.testing.pytest_plugin import cuda_available, weights_from_env

# these need pytest, so they are imported on first use: the image inputs work without it
_NEEDS_PYTEST = {
    "HEAVY_MODULES": "vlmi.testing.conformance",
    "ModelConformance": "vlmi.testing.conformance",
    "heavy_modules_after_import": "vlmi.testing.conformance",
    "cuda_available": "vlmi.testing.pytest_plugin",
    "weights_from_env": "vlmi.testing.pytest_plugin",
}


__getattr__ = lazy_getattr(__name__, _NEEDS_PYTEST, globals())


__all__ = [
    "HEAVY_MODULES",
    "IMAGE_KINDS",
    "ModelConformance",
    "ServerProcess",
    "cuda_available",
    "heavy_modules_after_import",
    "image_inputs",
    "make_picture",
    "serve_folder",
    "served_model",
    "start_server",
    "weights_from_env",
]
