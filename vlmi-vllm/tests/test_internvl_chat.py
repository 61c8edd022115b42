"""InternVL's remote-code checkpoints (InternVLChatModel) through vlmi-vllm.

The engine test runs on conftest's ``internvl_chat`` engine: vlmi-testkit's
tiny InternVLChatModel on InternLM2 (InternVL2-8B's shape), loaded as
``vlmi.load("internvl2-8b", plugin="vlmi-vllm", model_path=<folder>)``. Its
prompt ids are compared with those LMDeploy 0.18 built for the same samples
through vlmi-internvl2 (recorded by ``scripts/record_lmdeploy_internvl2_prompts.py``; no
prompt code is shared). The Qwen2 (InternVL2-1B) and Qwen3 (InternVL3.5)
backbones are checked without an engine: vLLM resolves their config and
architectures, and vlmi-vllm picks their system turn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import LMDEPLOY_PROMPTS, Engines, GenerateSpy, checkpoint, warm_vllm_model_info

from vlmi.plugin import find_spec
from vlmi.testing.inputs import make_picture
from vlmi_testkit import make_tiny_internvl2
from vlmi_testkit.tiny_internvl2 import BACKBONES
from vlmi_vllm.catalog import CURATED
from vlmi_vllm.prompts import INTERNVL_SYSTEM_MESSAGES

INTERNVL2 = [f"internvl2-{size}" for size in ("1b", "2b", "4b", "8b", "26b", "40b", "76b")]


def reference_samples(folder: Path) -> list[Any]:
    """The recorded samples, their images made again as the recording made them."""
    paths = []
    for width, height, seed in LMDEPLOY_PROMPTS["pictures"]:
        paths.append(str(folder / f"picture{seed}.png"))
        make_picture(width, height, seed=seed).save(paths[-1])
    return [
        {
            "messages": [
                {**part, "value": paths[part["value"]]} if part["type"] == "image" else part
                for part in sample["messages"]
            ]
        }
        for sample in LMDEPLOY_PROMPTS["samples"]
    ]


def test_prompt_ids_equal_lmdeploys(
    arch: str, engines: Engines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Token by token, vLLM's prompt is the one LMDeploy builds for InternVL2 (images expanded)."""
    if arch != "internvl_chat":
        pytest.skip("InternVLChatModel only")
    import hashlib

    model = engines.get(arch)  # the session's engine for this architecture
    spy = GenerateSpy(model.llm)
    monkeypatch.setattr(model.llm, "generate", spy)

    assert model.spec.name == "internvl2-8b"
    assert model.spec.plugin is not None and model.spec.plugin.distribution == "vlmi-vllm"
    tokenizer = (checkpoint(arch) / "tokenizer.json").read_bytes()
    assert hashlib.sha256(tokenizer).hexdigest() == LMDEPLOY_PROMPTS["tokenizer_sha256"], (
        "the tiny tokenizer changed: run scripts/record_lmdeploy_internvl2_prompts.py again"
    )
    answers = model.eval_batch(reference_samples(tmp_path), max_new_tokens=2)
    assert all(isinstance(answer, str) for answer in answers), answers
    expected = LMDEPLOY_PROMPTS["prompt_token_ids"]
    assert len(spy.outputs) == len(expected)
    for index, (output, reference) in enumerate(zip(spy.outputs, expected)):
        got = list(output.prompt_token_ids)
        first = next((i for i, (a, b) in enumerate(zip(got, reference)) if a != b), None)
        assert got == reference, (
            f"sample {index}: {len(got)} ids vs LMDeploy's {len(reference)}, first difference "
            f"at {first}: {LMDEPLOY_PROMPTS['prompts'][index]!r}"
        )


def test_internvl2_names_are_also_served_by_vllm() -> None:
    """internvl2-1b ... -76b: an engine plugin's spec, so vlmi-internvl2 stays the default."""
    curated = {spec.name: spec for spec in CURATED}
    for name in INTERNVL2:
        spec = find_spec(name, plugin="vlmi-vllm")
        assert spec.name == name and spec.weights == curated[name].weights
        assert spec.generic and spec.engine == "vllm" and spec.family == "internvl2"
        assert spec.defaults["trust_remote_code"] is True
        assert spec.weights["huggingface"].startswith("OpenGVLab/InternVL2-")
    assert find_spec("internvl2_8b", plugin="vlmi-vllm").name == "internvl2-8b"
    assert find_spec("OpenGVLab/InternVL2-8B").name == "internvl2-8b"


@pytest.mark.parametrize(
    ("backbone", "template"), [("qwen2", "Hermes-2"), ("qwen3", "internvl2_5")]
)
def test_other_backbones_resolve_in_vllm_without_an_engine(
    backbone: str, template: str, tmp_path: Path
) -> None:
    """vLLM builds the model config of the Qwen2 and Qwen3 backbones and resolves their classes."""
    from transformers import AutoTokenizer
    from vllm import EngineArgs, ModelRegistry

    from vlmi.plugin import Sample, TextPart
    from vlmi_vllm.engine_config import llm_kwargs
    from vlmi_vllm.model import VllmOptions
    from vlmi_vllm.prompts import prompt_text, system_message
    from vlmi_vllm.resolving import check_checkpoint, read_config

    folder = make_tiny_internvl2(tmp_path / backbone, backbone=backbone, variant="vllm")
    spec = find_spec(str(folder))
    assert spec.plugin is not None and spec.plugin.distribution == "vlmi-vllm"
    assert spec.family == "internvl"
    arch = check_checkpoint(folder, spec.name, trust_remote_code=True)
    config = read_config(folder) or {}
    assert config["template"] == template
    options = VllmOptions(trust_remote_code=True, dtype="float32")
    kwargs = llm_kwargs(str(folder), options, arch, 8, 1024, None, config, cpu=True)
    warm_vllm_model_info()
    model_config = EngineArgs(**kwargs).create_model_config()
    assert model_config.architectures == ["InternVLChatModel"]
    text = model_config.hf_config.get_text_config()
    assert text.architectures == [BACKBONES[backbone].architecture]
    _, resolved = ModelRegistry.resolve_model_cls(text.architectures, model_config)
    assert resolved == BACKBONES[backbone].architecture
    # the system turn of the template the config names, as the model's chat() sends it
    system = system_message(arch, config)
    assert system == INTERNVL_SYSTEM_MESSAGES[template]
    tokenizer = AutoTokenizer.from_pretrained(folder)
    prompt = prompt_text(arch, tokenizer, Sample(parts=(TextPart("Hi"),)), system=system)
    assert prompt.startswith(f"<s><|im_start|>system\n{system}<|im_end|>")


def test_no_system_turn_for_an_unknown_template() -> None:
    from vlmi_vllm.architectures import ARCHITECTURES
    from vlmi_vllm.prompts import system_message

    arch = ARCHITECTURES["InternVLChatModel"]
    assert system_message(arch, {"template": "some-new-template"}) is None
    assert system_message(ARCHITECTURES["MiniCPMV"], {"template": "Hermes-2"}) is None
