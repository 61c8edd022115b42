"""Test kit for vlmi plugins (install ``vlmi-core[testing]``).

- :class:`ModelConformance`: subclass it in a test module, set ``model_name``
  (and ``load_options``, ``plugin_module``), and pytest runs the whole
  conformance suite against your model.
- :mod:`vlmi.testing.inputs`: every kind of image input, made locally.
- :mod:`vlmi.testing.pytest_plugin`, opt-in (``pytest_plugins =
  ["vlmi.testing.pytest_plugin"]`` in a ``conftest.py``), adds the ``gpu``
  marker, which skips with a clear reason where CUDA is missing.

``vlmi serve`` in a child process (for tests of clients) is in vlmi-testkit:
``vlmi_testkit.serving``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vlmi.testing.inputs import IMAGE_KINDS, image_inputs, make_picture, serve_folder

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
    "cuda_available",
    "heavy_modules_after_import",
    "image_inputs",
    "make_picture",
    "serve_folder",
    "weights_from_env",
]
