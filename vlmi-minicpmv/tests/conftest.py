"""Fixtures: a MiniCPM-V-2.6-style tokenizer made locally, and vLLM's generate seam.

The tokenizer is trained here by vlmi-testkit (nothing is downloaded) with
MiniCPM-V-2.6's special tokens and its ChatML chat template. ``RecordingLLM`` stands in for ``vllm.LLM``
only at the GPU-bound seam: it records what vLLM would receive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from vlmi.testing.inputs import make_picture
from vlmi_testkit import minicpmv_tokenizer

#: the `gpu` marker and CUDA skips (vlmi-core's opt-in pytest plugin)
pytest_plugins = ["vlmi.testing.pytest_plugin"]


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    return minicpmv_tokenizer()


@dataclass
class Completion:
    text: str


@dataclass
class RequestOutput:
    outputs: list[Completion]


@dataclass
class RecordingLLM:
    """What ``vllm.LLM`` receives, recorded; answers say how many images each request held."""

    tokenizer: Any
    calls: list[tuple[list[dict[str, Any]], list[Any]]] = field(default_factory=list)

    def get_tokenizer(self) -> Any:
        return self.tokenizer

    def generate(
        self, prompts: list[dict[str, Any]], sampling_params: list[Any], use_tqdm: bool = True
    ):
        assert isinstance(prompts, list) and isinstance(sampling_params, list)
        assert len(prompts) == len(sampling_params)
        self.calls.append((prompts, sampling_params))
        outputs = []
        for request, params in zip(prompts, sampling_params):
            if "REJECT" in request["prompt"]:
                raise ValueError("request rejected by the engine")
            images = request.get("multi_modal_data", {}).get("image", [])
            sizes = ",".join(f"{im.width}x{im.height}" for im in images)
            text = f"{len(images)} image(s) {sizes} t={params.temperature}"
            outputs.append(RequestOutput([Completion(text[: params.max_tokens])]))
        return outputs


@pytest.fixture
def llm(tokenizer: Any) -> RecordingLLM:
    return RecordingLLM(tokenizer)


@pytest.fixture(scope="session")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    for seed, size in enumerate([(64, 48), (120, 40), (200, 200), (33, 90)]):
        path = folder / f"picture{seed}.png"
        make_picture(*size, seed=seed).save(path)
        paths.append(path)
    return paths
