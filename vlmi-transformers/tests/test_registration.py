"""Registration, name resolution and errors, through the real entry point."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import vlmi
from vlmi.errors import EngineUnavailableError, InvalidOptionError, UnknownModelError
from vlmi.plugin import find_spec
from vlmi.testing import heavy_modules_after_import
from vlmi_testkit import tiny_checkpoint
from vlmi_transformers.architectures import ARCHITECTURES, TABLE_TRANSFORMERS_VERSION
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


def test_every_tiny_architecture_is_claimed_from_its_config(arch: str) -> None:
    """The static table covers every architecture the tests run for real."""
    folder = tiny_checkpoint(arch)
    model_type = json.loads((folder / "config.json").read_text())["model_type"]
    assert model_type in ARCHITECTURES
    assert find_spec(str(folder)).plugin.distribution == "vlmi-transformers"


def test_a_local_folder_is_claimed() -> None:
    folder = tiny_checkpoint("llava")
    spec = find_spec(str(folder))
    assert spec.defaults == {"model_path": str(folder.resolve())}
    assert spec.plugin is not None and spec.plugin.distribution == "vlmi-transformers"


@pytest.fixture
def offline_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, dict], None]:
    """An offline Hugging Face cache; ``add(repo, config)`` puts one repo's config.json in it."""
    import huggingface_hub

    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)

    def add(repo_id: str, config: dict) -> None:
        repo = cache / f"models--{repo_id.replace('/', '--')}"
        snapshot = repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
        snapshot.mkdir(parents=True)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(snapshot.name)
        (snapshot / "config.json").write_text(json.dumps(config))

    return add


def test_a_hub_id_is_claimed_by_its_config_and_curated_ids_keep_their_defaults(
    offline_hub: Callable[[str, dict], None],
) -> None:
    offline_hub("someone/Some-VLM-7B", {"model_type": "qwen2_vl"})
    offline_hub("zai-org/GLM-4.1V-9B-Thinking", {"model_type": "glm4v"})
    spec = find_spec("someone/Some-VLM-7B")
    assert spec.name == "someone--some-vlm-7b"
    assert spec.weights["huggingface"] == "someone/Some-VLM-7B"
    assert spec.generic
    assert find_spec("zai-org/GLM-4.1V-9B-Thinking").name == "glm-4.1v-9b-thinking"


def test_a_hub_id_whose_config_cannot_be_read_is_not_claimed(
    offline_hub: Callable[[str, dict], None],
) -> None:
    with pytest.raises(UnknownModelError, match="config.json could not be fetched"):
        find_spec("someone/Not-In-The-Cache")


def test_a_hub_id_of_an_architecture_not_in_the_table_is_not_claimed(
    offline_hub: Callable[[str, dict], None],
) -> None:
    offline_hub("someone/Bert", {"model_type": "bert", "architectures": ["BertModel"]})
    with pytest.raises(UnknownModelError, match="model_type 'bert'"):
        find_spec("someone/Bert")


def test_the_architecture_table_is_the_installed_transformers_mapping() -> None:
    """The static table equals Transformers' own; other releases differ only as they must."""
    import transformers
    from packaging.version import Version
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    installed = dict(MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES)
    table_version = Version(TABLE_TRANSFORMERS_VERSION)
    running = Version(transformers.__version__)
    common = set(ARCHITECTURES) & set(installed)
    assert {k: ARCHITECTURES[k] for k in common} == {k: installed[k] for k in common}
    only_table = sorted(set(ARCHITECTURES) - set(installed))
    only_installed = sorted(set(installed) - set(ARCHITECTURES))
    if running == table_version:
        assert (only_table, only_installed) == ([], [])
    else:
        # an older release lacks some (loading one says so), a newer one may add some
        assert only_table == [] or running < table_version, only_table
        assert only_installed == [] or running > table_version, (
            f"transformers {running} serves {only_installed}, which the table (from "
            f"{table_version}) lacks: update vlmi_transformers/architectures.py"
        )


def test_converted_repositories_have_names_of_their_own() -> None:
    """Plain InternVL names mean the remote-code repositories, not the -hf conversions."""
    names = {label for spec in CURATED for label in spec.names}
    assert {"internvl3-8b-hf", "internvl3.5-8b-hf"} <= names
    assert not {"internvl3-8b", "internvl3.5-8b", "internvl3_5-8b"} & names
    assert all(spec.generic for spec in CURATED)  # an engine plugin: family plugins go first


def test_remote_code_folders_are_left_to_other_plugins(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "internvl_chat", "auto_map": {"AutoConfig": "x.Y"}})
    )
    with pytest.raises(UnknownModelError, match="no installed plugin"):
        vlmi.load(str(tmp_path))


def test_unsupported_architecture_is_not_claimed_and_the_error_says_what_it_is(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(UnknownModelError, match="no installed plugin serves.*model_type 'bert'"):
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
    offline_hub: Callable[[str, dict], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote-code hub id costs one config.json, not the whole checkpoint."""
    import huggingface_hub

    offline_hub(
        "OpenGVLab/InternVL2-8B", {"model_type": "internvl_chat", "auto_map": {"AutoConfig": "x.Y"}}
    )
    downloads: list[str] = []
    real = huggingface_hub.snapshot_download

    def counting(repo_id: str, **kwargs: object) -> str:
        downloads.append(repo_id)
        return real(repo_id, **kwargs)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", counting)
    with pytest.raises(UnknownModelError, match=r"remote code \(auto_map\).*vlmi-internvl2"):
        vlmi.load("OpenGVLab/InternVL2-8B")
    assert downloads == []
