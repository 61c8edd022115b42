"""Test kit for vlmi plugins (install ``vlmi-core[testing]``).

- :class:`ModelConformance`: subclass it in a test module, set ``model_name``
  (and ``load_options``, ``plugin_module``), and pytest runs the whole
  conformance suite against your model.
- :mod:`vlmi.testing.inputs`: every kind of image input, made locally.
- :mod:`vlmi.testing.pytest_plugin` (loaded by pytest through vlmi-core's
  ``pytest11`` entry point) adds the ``gpu`` marker, which skips with a clear
  reason where CUDA is missing.
"""

from __future__ import annotations

from vlmi.testing.conformance import HEAVY_MODULES, ModelConformance, heavy_modules_after_import
from vlmi.testing.inputs import IMAGE_KINDS, image_inputs, make_picture, serve_folder
from vlmi.testing.pytest_plugin import cuda_available, weights_from_env

__all__ = [
    "HEAVY_MODULES",
    "IMAGE_KINDS",
    "ModelConformance",
    "cuda_available",
    "heavy_modules_after_import",
    "image_inputs",
    "make_picture",
    "serve_folder",
    "weights_from_env",
]
