"""Shared fixtures: tiny checkpoints of each architecture, loaded once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import vlmi
from vlmi.plugin import Model
from vlmi.testing.inputs import make_picture
from vlmi_testkit import TINY_RECIPES, tiny_checkpoint

#: the `gpu` marker and CUDA skips (vlmi-core's opt-in pytest plugin)
pytest_plugins = ["vlmi.testing.pytest_plugin"]

#: recipes checked here by the conformance kit only (test_conformance): vlmi-vllm's tests load
#: them through vlmi-transformers too, token for token against vLLM
CONFORMANCE_ONLY = {"glm4v", "llava_onevision", "qwen3_5"}
#: the architectures every test below runs on
ARCHITECTURES = sorted(set(TINY_RECIPES) - CONFORMANCE_ONLY)


@pytest.fixture(scope="session", params=ARCHITECTURES)
def arch(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def tiny_models() -> Iterator[dict[str, Model]]:
    loaded: dict[str, Model] = {}
    yield loaded
    for model in loaded.values():
        model.close()


def session_model(arch: str, tiny_models: dict[str, Model]) -> Model:
    """The tiny checkpoint of ``arch``, loaded through vlmi.load(<folder>) once per session."""
    if arch not in tiny_models:
        tiny_models[arch] = vlmi.load(str(tiny_checkpoint(arch)))
    return tiny_models[arch]


@pytest.fixture(scope="session")
def tiny_model(arch: str, tiny_models: dict[str, Model]) -> Model:
    """The tiny checkpoint of ``arch``, loaded through vlmi.load(<folder>)."""
    return session_model(arch, tiny_models)


@pytest.fixture(scope="session")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Pictures of different sizes and aspect ratios (so their token counts differ)."""
    folder = tmp_path_factory.mktemp("pictures")
    sizes = [(64, 48), (120, 40), (200, 200), (33, 90), (300, 170)]
    paths = []
    for seed, (width, height) in enumerate(sizes):
        path = folder / f"picture{seed}.png"
        make_picture(width, height, seed=seed).save(path)
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def tiny_checkpoint_folder() -> Path:
    """One tiny checkpoint's folder (the first architecture), for tests that load their own."""
    return tiny_checkpoint(ARCHITECTURES[0])
