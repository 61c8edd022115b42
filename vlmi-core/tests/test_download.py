"""`vlmi download` without a hub: the files it picks, what it says when a client is missing.

Downloads themselves are tested against a real mirror server in
vlmi-transformers/tests/test_download.py (olah, which the core's session must not have).
"""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from vlmi._cli import main
from vlmi._download.files import DEFAULT_FILES, choose, patterns_for
from vlmi._spec import ModelSpec

LISTING = {
    "config.json": 10,
    "model-00001-of-00002.safetensors": 100,
    "model-00002-of-00002.safetensors": 100,
    "model.safetensors.index.json": 5,
    "pytorch_model.bin": 200,
    "flax_model.msgpack": 200,
    "tokenizer.json": 7,
    "tokenizer.model": 3,
    "chat_template.jinja": 2,
    "modeling_custom.py": 4,
    "onnx/model.onnx": 50,
    "README.md": 1,
    "media/cat.jpg": 9,
}


def test_the_default_files_skip_other_formats_and_extras():
    patterns, files = choose(LISTING, DEFAULT_FILES)
    assert patterns == DEFAULT_FILES
    assert set(files) == {
        "config.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json",
        "tokenizer.json",
        "tokenizer.model",
        "chat_template.jinja",
        "modeling_custom.py",
    }


def test_bin_weights_only_where_there_are_no_safetensors():
    listing = {k: v for k, v in LISTING.items() if not k.endswith(".safetensors")}
    patterns, files = choose(listing, DEFAULT_FILES)
    assert "*.bin" in patterns and "pytorch_model.bin" in files


def test_a_plugin_declares_its_own_files():
    spec = ModelSpec(
        name="m", factory="x:Y", family="f", engine="e", weights_files=("*.gguf", "config.json")
    )
    assert patterns_for(spec) == ("*.gguf", "config.json")
    assert patterns_for(ModelSpec(name="m", factory="x:Y", family="f", engine="e")) == DEFAULT_FILES
    _, files = choose({"q4.gguf": 1, "config.json": 1, "model.safetensors": 1}, patterns_for(spec))
    assert set(files) == {"q4.gguf", "config.json"}


@pytest.fixture
def no_hub_clients(monkeypatch):
    real_import = builtins.__import__

    def no_hub(name, *args, **kwargs):
        if name.split(".")[0] in ("huggingface_hub", "modelscope"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hub)


def test_a_missing_client_names_the_extra(no_hub_clients, capsys):
    assert main(["download", "someone/model"]) == 1
    assert "pip install 'vlmi-core[hub]'" in capsys.readouterr().err
    assert main(["download", "someone/model", "--hub", "modelscope"]) == 1
    assert "pip install 'vlmi-core[modelscope]'" in capsys.readouterr().err


def test_an_unwritable_target_is_refused_before_any_download(no_hub_clients, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["download", "echo", "--local-dir", str(blocker / "weights")]) == 1
    assert f"cannot write the weights to {blocker / 'weights'}" in capsys.readouterr().err


def test_a_model_without_weights_says_so(capsys):
    assert main(["download", "echo-text"]) == 1
    assert "declares no weights to download" in capsys.readouterr().err


def test_a_local_folder_needs_nothing(tmp_path: Path, capsys):
    assert main(["download", str(tmp_path)]) == 0
    assert "nothing to do" in capsys.readouterr().out
