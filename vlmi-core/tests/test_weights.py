from __future__ import annotations

import pytest

from vlmi._options import WeightsOptions
from vlmi._spec import ModelSpec
from vlmi._weights import resolve_weights, weights_id
from vlmi.errors import MissingDependencyError, WeightsNotFoundError

SPEC = ModelSpec(
    name="m", factory="x:Y", family="f", engine="e", weights={"huggingface": "org/model"}
)


def test_local_folder_wins(tmp_path):
    assert resolve_weights(SPEC, WeightsOptions(model_path=str(tmp_path))) == str(tmp_path)


def test_default_id_per_hub():
    assert weights_id(SPEC, WeightsOptions()) == "org/model"
    with pytest.raises(WeightsNotFoundError, match="no default weights on modelscope"):
        weights_id(SPEC, WeightsOptions(hub="modelscope"))


def test_a_missing_folder_is_not_taken_for_a_hub_id(tmp_path):
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        resolve_weights(SPEC, WeightsOptions(model_path=str(tmp_path / "nope")))


def test_missing_hub_client_names_the_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_hub(name, *args, **kwargs):
        if name.split(".")[0] in ("huggingface_hub", "modelscope"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_hub)
    with pytest.raises(MissingDependencyError, match=r"pip install 'vlmi-core\[hub\]'") as hub:
        resolve_weights(SPEC, WeightsOptions())
    assert hub.value.install == "pip install 'vlmi-core[hub]'"
    # the class vlmi-core 0.2 raised here still catches it, for one release
    assert isinstance(hub.value, WeightsNotFoundError)
    with pytest.raises(MissingDependencyError, match=r"pip install 'vlmi-core\[modelscope\]'"):
        resolve_weights(SPEC, WeightsOptions(hub="modelscope", model_path="org/model"))
