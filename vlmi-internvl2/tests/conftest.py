"""Fixtures: a tiny InternVL2-shaped checkpoint made here, and LMDeploy's pipeline on it.

``loaded`` builds models through ``vlmi.load`` and the real
``lmdeploy.pipeline``; only LMDeploy's GPU engine is replaced (see
``vlmi_testkit.scripted_lmdeploy``), and the CUDA check that guards it.
The PyTorch-engine path is the one that runs on a CPU: LMDeploy's
TurboMind path asks CUDA for free memory while building its vision model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import vlmi
import vlmi_internvl2.model as model_module
from vlmi.plugin import Model
from vlmi.testing.inputs import make_picture
from vlmi_testkit import ScriptedEngine, make_tiny_internvl2, scripted_engine

#: the `gpu` marker and CUDA skips (vlmi-core's opt-in pytest plugin)
pytest_plugins = ["vlmi.testing.pytest_plugin"]

Loader = Callable[..., Model]


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_internvl2(tmp_path_factory.mktemp("internvl2") / "tiny-internvl2")


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ScriptedEngine]]:
    monkeypatch.setattr(model_module, "_require_cuda", lambda: None)
    with scripted_engine() as built:
        yield built


@pytest.fixture
def loaded(tiny_folder: Path, engines: list[ScriptedEngine]) -> Iterator[Loader]:
    made: list[Model] = []

    def load(name: str = "internvl2-1b", **options: Any) -> Model:
        options = {"model_path": str(tiny_folder), "backend": "pytorch", **options}
        model = vlmi.load(name, **options)
        made.append(model)
        return model

    yield load
    for model in made:
        model.close()


@pytest.fixture(scope="session")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """640x480 (12 tiles + thumbnail at most), 200x200 (1 tile), 1000x300, 90x600."""
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    for seed, size in enumerate([(640, 480), (200, 200), (1000, 300), (90, 600)]):
        path = folder / f"picture{seed}.png"
        make_picture(*size, seed=seed).save(path)
        paths.append(path)
    return paths
