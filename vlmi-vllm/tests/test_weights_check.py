"""vlmi-testkit's weights check catches what a model's ``load_weights`` skips or claims falsely.

vLLM's real ``DefaultModelLoader`` reads a real safetensors folder into a small
module whose ``load_weights`` loads two tensors into shards of one parameter,
transforms a third, skips a fourth silently, and reports as loaded a parameter
it never wrote (vLLM's own name-based check believes it). No engine starts.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from vlmi_testkit import weights_check


def test_skipped_tensor_and_unwritten_parameter_are_reported(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file
    from vllm.config import LoadConfig, VllmConfig, set_current_vllm_config
    from vllm.model_executor.model_loader.default_loader import DefaultModelLoader

    class Toy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = torch.nn.Parameter(torch.zeros(4, 2), requires_grad=False)
            self.norm = torch.nn.Parameter(torch.zeros(2), requires_grad=False)
            self.forgotten = torch.nn.Parameter(torch.zeros(2), requires_grad=False)

        def load_weights(self, weights: Any) -> set[str]:
            for name, tensor in weights:
                if name in ("q", "k"):
                    self.qkv.data.narrow(0, 0 if name == "q" else 2, 2).copy_(tensor)
                elif name == "norm":
                    self.norm.data.copy_(torch.cat([tensor[:1], tensor[1:]]) + 1)
            return {"qkv", "norm", "forgotten"}  # "skipped" dropped, "forgotten" never written

    save_file(
        {
            "q": torch.ones(2, 2),
            "k": torch.ones(2, 2),
            "norm": torch.ones(2),
            "skipped": torch.ones(3),
        },
        str(tmp_path / "model.safetensors"),
    )
    weights_check.install()
    weights_check.install()  # idempotent
    model = Toy()
    config = SimpleNamespace(
        model=str(tmp_path), revision=None, quantization=None, is_moe=False, multimodal_config=None
    )
    with set_current_vllm_config(VllmConfig()):
        DefaultModelLoader(LoadConfig()).load_weights(model, config)
    llm = SimpleNamespace(apply_model=lambda function: [function(model)])

    report = weights_check.weights_report(llm)
    assert report.in_folder == {"q", "k", "norm", "skipped"}
    assert report.unused == {"skipped"}
    assert report.unloaded == {"forgotten"}
    assert float(model.qkv.sum()) == 8.0  # the loading itself went through unchanged
    with pytest.raises(AssertionError, match=r"never loaded: \['skipped'\]\n.*\['forgotten'\]"):
        weights_check.assert_all_weights_loaded(llm)
    # a tensor allowed as unused by design leaves only the unwritten parameter
    with pytest.raises(AssertionError, match=r"^parameters left as initialised: \['forgotten'\]$"):
        weights_check.assert_all_weights_loaded(llm, allow_unused=("skip",))


def test_an_engine_without_a_record_is_named() -> None:
    llm = SimpleNamespace(apply_model=lambda function: [function(object())])
    with pytest.raises(AssertionError, match=r"install\(\) before the engine starts"):
        weights_check.weights_report(llm)
