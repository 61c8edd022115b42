"""Registration, name resolution and errors, through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import vlmi
from vlmi.errors import EngineUnavailableError, InvalidOptionError, UnknownModelError
from vlmi.plugin import find_spec
from vlmi.testing import heavy_modules_after_import
from vlmi_testkit import tiny_checkpoint
from vlmi_transformers.catalog import CURATED


def test_curated_models_are_listed_with_hub_ids() -> None:
    listed = {m.name: m for m in vlmi.list_models() if m.engine == "transformers"}
    assert set(listed) == {spec.name for spec in CURATED}
    qwen = listed["qwen2.5-vl-7b"]
    assert qwen.distribution == "vlmi-transformers"
    assert qwen.weights == {
        "huggingface": "Qwen/Qwen2.5-VL-7B-Instruct",
        "modelscope": "Qwen/Qwen2.5-VL-7B-Instruct",
    }
    assert listed["internvl3-8b-hf"].weights["huggingface"] == "OpenGVLab/InternVL3-8B-hf"


def test_import_and_listing_load_no_torch_or_transformers() -> None:
    assert heavy_modules_after_import("vlmi_transformers") == []


def test_a_local_folder_is_claimed() -> None:
    folder = tiny_checkpoint("llava")
    spec = find_spec(str(folder))
    assert spec.defaults == {"model_path": str(folder.resolve())}
    assert spec.plugin is not None and spec.plugin.distribution == "vlmi-transformers"


def test_a_hub_id_is_claimed_and_curated_ids_keep_their_defaults() -> None:
    spec = find_spec("someone/Some-VLM-7B")
    assert spec.name == "someone--some-vlm-7b"
    assert spec.weights["huggingface"] == "someone/Some-VLM-7B"
    assert find_spec("zai-org/GLM-4.1V-9B-Thinking").name == "glm-4.1v-9b-thinking"


def test_remote_code_folders_are_left_to_other_plugins(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "internvl_chat", "auto_map": {"AutoConfig": "x.Y"}})
    )
    with pytest.raises(UnknownModelError, match="no installed plugin"):
        vlmi.load(str(tmp_path))


def test_unsupported_architecture_says_so(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(UnknownModelError, match="'bert' model.*AutoModelForImageTextToText"):
        vlmi.load(str(tmp_path))


def test_remote_code_weights_under_a_curated_name_point_to_the_engine_plugins(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "internvl_chat", "auto_map": {"AutoConfig": "x.Y"}})
    )
    with pytest.raises(UnknownModelError, match="vlmi-internvl2"):
        vlmi.load("internvl3-8b-hf", model_path=str(tmp_path))


def test_missing_folder_names_the_fix() -> None:
    with pytest.raises(vlmi.errors.WeightsNotFoundError, match="model_path"):
        vlmi.load("qwen2.5-vl-7b", model_path="/no/such/folder")


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("dtype", "float8", "dtype must be one of"),
        ("cache_implementation", "paged", "cache_implementation must be one of"),
        ("batch_size", 0, "batch_size must be >= 1"),
        ("cache_len_multiple_of", 0, "cache_len_multiple_of must be >= 1"),
        ("compile", "sometimes", "compile"),
        ("batch_size", "many", "batch_size"),
    ],
)
def test_bad_engine_options(option: str, value: object, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        vlmi.load(str(tiny_checkpoint("llava")), **{option: value})


def test_cuda_without_cuda_names_the_fix() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(EngineUnavailableError, match="device='cpu'"):
        vlmi.load(str(tiny_checkpoint("llava")), device="cuda")


def test_a_hub_checkpoint_is_checked_from_its_config_before_the_weights_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote-code hub id costs one config.json, not the whole checkpoint."""
    import huggingface_hub

    # an offline Hugging Face cache holding only the checkpoint's config.json
    repo = tmp_path / "hub" / "models--OpenGVLab--InternVL2-8B"
    snapshot = repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(snapshot.name)
    (snapshot / "config.json").write_text(
        json.dumps({"model_type": "internvl_chat", "auto_map": {"AutoConfig": "x.Y"}})
    )
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    downloads: list[str] = []
    real = huggingface_hub.snapshot_download

    def counting(repo_id: str, **kwargs: object) -> str:
        downloads.append(repo_id)
        return real(repo_id, **kwargs)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", counting)
    with pytest.raises(UnknownModelError, match="remote-code checkpoint.*vlmi-internvl2"):
        vlmi.load("OpenGVLab/InternVL2-8B")
    assert downloads == []
