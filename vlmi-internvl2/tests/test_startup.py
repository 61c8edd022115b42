"""LMDeploy start-up failures as typed errors: failed checks, tp > 1 without ray, no TurboMind.

These run LMDeploy's own code on a CPU: its real start-up checks (which fail
at the CUDA check here), its real distributed-set-up check, and its real
handling of a TurboMind module that cannot be imported.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import vlmi
import vlmi_internvl2.model as model_module
from vlmi.errors import EngineUnavailableError, InvalidOptionError
from vlmi.plugin import parse_load_options
from vlmi_internvl2.engine_config import backend_config, executor_backend
from vlmi_internvl2.model import InternVL2Options
from vlmi_internvl2.startup import failed_check
from vlmi_testkit import ScriptedEngine

NATIVE = "lmdeploy.turbomind._turbomind"


def options(**given: Any) -> InternVL2Options:
    engine = parse_load_options("internvl2-40b", InternVL2Options, given).engine
    assert isinstance(engine, InternVL2Options)
    return engine


@pytest.mark.slow
def test_a_failed_startup_check_is_a_typed_error_naming_the_check(
    tiny_folder: Path, monkeypatch: pytest.MonkeyPatch
):
    # the real PyTorch engine, not the scripted one: LMDeploy runs its start-up checks in a
    # spawned process, where the torch check (a CUDA tensor) fails on this machine and exits
    monkeypatch.setattr(model_module, "_require_cuda", lambda: None)
    with pytest.raises(EngineUnavailableError) as caught:
        vlmi.load("internvl2-1b", model_path=str(tiny_folder), backend="pytorch", max_batch_size=4)
    message = str(caught.value)
    assert "start-up check <PyTorch> failed: PyTorch is not available" in message
    assert "NVIDIA driver" in message  # the reason LMDeploy logged with it
    assert isinstance(caught.value.__cause__, SystemExit)


def test_failed_check_reads_lmdeploys_log_lines():
    lines = ["ImportError: No module named 'ray'", "<Dist> check failed!\nMulti-nodes support"]
    assert failed_check(lines) == (
        "Dist",
        "Multi-nodes support",
        "ImportError: No module named 'ray'",
    )
    assert failed_check(["<CUDA> check failed!\ncuda is not available."]) == (
        "CUDA",
        "cuda is not available.",
        "",
    )
    assert failed_check(["something else"]) is None


def test_tp_above_one_passes_lmdeploys_distributed_check_without_ray(
    monkeypatch: pytest.MonkeyPatch,
):
    from lmdeploy.pytorch.check_env.dist import DistChecker

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails, as where it is missing
    monkeypatch.delenv("LMDEPLOY_EXECUTOR_BACKEND", raising=False)
    config = backend_config(options(backend="pytorch", tp=2), 8)
    assert config.distributed_executor_backend == "mp"
    DistChecker(
        config.tp, config.dp, config.ep, config.distributed_executor_backend, "cuda"
    ).check()
    # LMDeploy's own choice for the same tp picks ray, and exits without it
    with pytest.raises(SystemExit):
        DistChecker(config.tp, config.dp, config.ep, None, "cuda").check()


def test_the_users_executor_choice_is_kept(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("LMDEPLOY_EXECUTOR_BACKEND", raising=False)
    assert (
        executor_backend(options(backend="pytorch", tp=4, distributed_executor_backend="ray"))
        == "ray"
    )
    assert executor_backend(options(backend="pytorch", tp=1)) is None  # one GPU: LMDeploy's "uni"
    assert executor_backend(options(backend="turbomind", tp=2)) is None  # TurboMind runs tp itself
    monkeypatch.setenv("LMDEPLOY_EXECUTOR_BACKEND", "ray")
    assert executor_backend(options(backend="pytorch", tp=2)) is None  # LMDeploy reads the variable


@pytest.mark.parametrize(
    ("given", "match"),
    [
        ({"backend": "pytorch", "distributed_executor_backend": "spark"}, "must be one of"),
        ({"backend": "turbomind", "distributed_executor_backend": "mp"}, "backend='pytorch' only"),
    ],
)
def test_bad_executor_choices_are_refused(given: dict[str, Any], match: str):
    with pytest.raises(InvalidOptionError, match=match):
        backend_config(options(**given), 8)


@pytest.fixture
def turbomind_missing() -> Iterator[None]:
    """LMDeploy's TurboMind package imported again with its native module unimportable."""
    import lmdeploy.turbomind

    saved = sys.modules.get(NATIVE)
    sys.modules[NATIVE] = None  # type: ignore[assignment]
    importlib.reload(lmdeploy.turbomind)
    assert not lmdeploy.turbomind.is_available()
    try:
        yield
    finally:
        if saved is None:
            del sys.modules[NATIVE]
        else:
            sys.modules[NATIVE] = saved
        importlib.reload(lmdeploy.turbomind)


def test_turbomind_without_its_native_module_says_to_use_pytorch(
    tiny_folder: Path, engines: list[ScriptedEngine], turbomind_missing: None
):
    with pytest.raises(EngineUnavailableError, match="backend='pytorch'") as caught:
        vlmi.load("internvl2-1b", model_path=str(tiny_folder))  # TurboMind by default
    assert "native module" in str(caught.value)
    assert not engines  # refused before LMDeploy built anything
    model = vlmi.load("internvl2-1b", model_path=str(tiny_folder), backend="pytorch")
    assert model.eval("Hi") == "0 images 0 tokens"
    model.close()
