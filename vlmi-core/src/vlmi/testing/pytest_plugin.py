"""pytest plugin for vlmi plugin tests, loaded through vlmi-core's ``pytest11`` entry point.

Adds the ``gpu`` marker: such tests run where CUDA works and skip elsewhere,
saying why. Real-weight tests also call :func:`weights_from_env`.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def cuda_available() -> tuple[bool, str]:
    """Whether a CUDA device can be used, and if not, why."""
    try:
        import torch
    except ImportError:
        return False, "torch is not installed in this environment"
    try:
        if torch.cuda.is_available():
            return True, f"CUDA device: {torch.cuda.get_device_name(0)}"
    except Exception as exc:
        return False, f"CUDA check failed: {exc!r}"
    return False, "no CUDA device (torch.cuda.is_available() is False)"


def weights_from_env(variable: str) -> str:
    """The weights folder named by an environment variable, or skip the test saying which."""
    path = os.environ.get(variable)
    if not path:
        pytest.skip(f"set {variable}=/path/to/weights to run this test against real weights")
    if not os.path.isdir(path):
        pytest.skip(f"{variable}={path} is not a folder")
    return path


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "gpu: needs CUDA, the real engine and weights (skipped elsewhere)"
    )


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    ok, why = cuda_available()
    if ok:
        return
    skip = pytest.mark.skip(reason=f"gpu test: {why}")
    for item in gpu_items:
        item.add_marker(skip)
