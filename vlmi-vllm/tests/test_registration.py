"""Registration, the architecture table against vLLM's own registry, resolving, options.

No engine starts here: vLLM's ``ModelRegistry`` is read, not run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import checkpoint

import vlmi
from vlmi.plugin import find_spec
from vlmi.testing import heavy_modules_after_import
from vlmi_vllm.architectures import ARCHITECTURES
from vlmi_vllm.catalog import CURATED_MODELS

#: the leaderboard names the issue asks for, each with the architecture its config names
LEADERBOARD = {
    "qwen3-vl-8b",
    "qwen3-vl-4b",
    "qwen2.5-vl-7b",
    "qwen2.5-vl-3b",
    "internvl3.5-8b",
    "internvl3-8b",
    "internvl2.5-8b",
    "glm-4.1v-9b-thinking",
    "minicpm-v-4.5",
    "ovis2.5-9b",
    "keye-vl-1.5-8b",
    "mimo-vl-7b-rl",
    "gemma-3-4b-it",
    "gemma-3-12b-it",
    "kimi-vl-a3b-instruct",
    "llava-onevision-7b",
    "qwen3.5-9b",
}


def test_every_curated_and_table_architecture_is_in_vllms_registry():
    from vllm import ModelRegistry

    supported = set(ModelRegistry.get_supported_archs())
    assert {c.architecture for c in CURATED_MODELS} <= set(ARCHITECTURES)
    missing = sorted(set(ARCHITECTURES) - supported)
    assert missing == [], f"not in vLLM's ModelRegistry: {missing}"


def test_the_leaderboard_names_are_listed_with_engine_vllm():
    listed = {m.name: m for m in vlmi.list_models() if m.distribution == "vlmi-vllm"}
    assert set(listed) >= LEADERBOARD
    for name in LEADERBOARD:
        assert listed[name].engine == "vllm"
        assert listed[name].max_images and listed[name].max_images >= 1
        assert "/" in listed[name].weights["huggingface"]


def test_remote_code_is_vouched_only_by_curated_remote_code_models():
    for curated in CURATED_MODELS:
        remote = ARCHITECTURES[curated.architecture].remote_code
        assert curated.spec.defaults.get("trust_remote_code", False) == remote, curated.spec.name


def test_listing_imports_no_engine():
    assert heavy_modules_after_import("vlmi_vllm") == []


def test_a_folder_is_claimed_from_its_config(tmp_path: Path):
    spec = find_spec(str(checkpoint("qwen2_vl")))
    assert spec.engine == "vllm" and spec.family == "qwen2-vl"
    assert spec.plugin is not None and spec.plugin.distribution == "vlmi-vllm"
    other = tmp_path / "bert"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(vlmi.errors.UnknownModelError):
        find_spec(str(other))


def test_a_curated_hub_id_is_its_curated_name():
    assert find_spec("Qwen/Qwen3-VL-8B-Instruct").name == "qwen3-vl-8b"
    assert find_spec("OpenGVLab/InternVL3_5-8B").name == "internvl3.5-8b"


def test_a_hub_id_is_claimed_with_its_weights_on_the_hub_asked_for():
    """``vlmi.load("org/x", hub="modelscope")``: the claim names the weights on ModelScope."""
    import vlmi_vllm
    from vlmi.plugin import WeightsOptions, weights_id

    config = {"architectures": ["Qwen2VLForConditionalGeneration"]}
    for hub in ("huggingface", "modelscope"):
        spec = vlmi_vllm.resolve_model(name="some-org/Tiny-VL", config=config, hub=hub)
        assert spec is not None and spec.weights == {hub: "some-org/Tiny-VL"}
        assert weights_id(spec, WeightsOptions(hub=hub)) == "some-org/Tiny-VL"


def test_remote_code_needs_the_users_opt_in(tmp_path: Path):
    folder = tmp_path / "remote"
    folder.mkdir()
    config = {"architectures": ["InternVLChatModel"], "auto_map": {"AutoConfig": "x.Y"}}
    (folder / "config.json").write_text(json.dumps(config))
    from vlmi_vllm.resolving import check_checkpoint

    with pytest.raises(vlmi.errors.InvalidOptionError, match="trust_remote_code=True"):
        check_checkpoint(folder, "remote", trust_remote_code=False)
    assert check_checkpoint(folder, "remote", trust_remote_code=True).name == "InternVLChatModel"


def test_unknown_option_is_rejected_before_any_engine_work():
    with pytest.raises(vlmi.errors.InvalidOptionError, match="max_model_len"):
        vlmi.load("qwen3-vl-8b", max_len=4096)


def test_a_run_hands_vllm_max_num_seqs_samples_at_once_without_an_engine():
    from vlmi.plugin import describe_model  # options checked, no weights read, no engine

    assert describe_model("qwen3-vl-8b").preferred_batch_size == 256
    assert describe_model("qwen3-vl-8b", max_num_seqs=32).preferred_batch_size == 32
