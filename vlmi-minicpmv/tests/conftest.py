"""Fixtures: a locally trained MiniCPM-V-2.6 tokenizer, the tiny checkpoint, one real vLLM engine.

Everything is made here by vlmi-testkit (nothing is downloaded). The engine is
real ``vllm.LLM`` (vLLM's CPU backend in CI) over the tiny MiniCPM-V-2.6
checkpoint, started once per test session (:func:`engine`): it takes seconds
to tens of seconds to start. The files vLLM writes (cache root, RPC socket
files, the checkpoint's code modules) go to one temporary folder, removed at
the end of the session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import vlmi
from vlmi.testing.inputs import make_picture
from vlmi_testkit import make_tiny_minicpmv, minicpmv_tokenizer

#: the `gpu` marker and CUDA skips (vlmi-core's opt-in pytest plugin)
pytest_plugins = ["vlmi.testing.pytest_plugin"]

#: vLLM's and Transformers' own files, kept out of the home folder and /tmp
CONTAINED = Path(tempfile.mkdtemp(prefix="vlmi-minicpmv-vllm-"))
for _variable, _folder in (
    ("VLLM_CACHE_ROOT", "vllm-cache"),
    ("VLLM_RPC_BASE_PATH", "vllm-rpc"),
    ("HF_MODULES_CACHE", "hf-modules"),
):
    (CONTAINED / _folder).mkdir()
    os.environ[_variable] = str(CONTAINED / _folder)

#: how the session's engine is loaded: greedy answers are exact in float32; a small KV cache
CPU_LOAD: dict[str, Any] = {
    "max_model_len": 1024,
    "dtype": "float32",
    "kv_cache_memory_bytes": 256 * 1024**2,
}


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(CONTAINED, ignore_errors=True)


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    return minicpmv_tokenizer()


@pytest.fixture(scope="session")
def tiny_minicpmv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny MiniCPM-V-2.6 checkpoint folder (config and image-processor code inside)."""
    return make_tiny_minicpmv(tmp_path_factory.mktemp("tiny-minicpmv"))


@dataclass
class Engine:
    """The session's loaded model; a test that closes it puts a new one in ``model``."""

    folder: Path
    model: vlmi.Model
    loads: int = 1
    load_options: dict[str, Any] = field(default_factory=dict)

    def reload(self) -> vlmi.Model:
        self.model = vlmi.load("minicpm-v-2.6", model_path=str(self.folder), **self.load_options)
        self.loads += 1
        return self.model


@pytest.fixture(scope="session")
def engine(tiny_minicpmv: Path) -> Iterator[Engine]:
    """vlmi-minicpmv on a real vLLM engine over the tiny checkpoint, started once."""
    options = {**CPU_LOAD}
    model = vlmi.load("minicpm-v-2.6", model_path=str(tiny_minicpmv), **options)
    box = Engine(tiny_minicpmv, model, load_options=options)
    yield box
    box.model.close()


@pytest.fixture(scope="session")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Pictures of sizes that give 1, 2x2, 3x1 and 1x3 grids of slices (see the tests)."""
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    for seed, size in enumerate([(40, 40), (120, 90), (200, 100), (100, 300)]):
        path = folder / f"picture{seed}.png"
        make_picture(*size, seed=seed).save(path)
        paths.append(path)
    return paths
