"""Fixtures: tiny checkpoints of six architectures on real vLLM, one engine alive at a time.

Everything is made here by vlmi-testkit (nothing is downloaded), in its
``vllm`` variant (head size 32, which vLLM's CPU attention takes). The engine
is real ``vllm.LLM`` (vLLM's CPU backend in CI). The session-scoped ``arch``
parameter makes pytest run every test of one architecture before the next,
so :class:`Engines` starts each architecture's engine once and closes it
before the next one starts. vLLM's files (cache root, RPC socket files,
modules) go to one temporary folder, removed at the end.

vlmi-transformers is installed here too (the two-engine tests compare the
answers). Both claim the tiny folders; vlmi-vllm declares the higher preference,
so ``vlmi.load(<folder>)`` means vlmi-vllm, and the two-engine tests ask for
vlmi-transformers with ``plugin="vlmi-transformers"``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# vLLM's engine in this process (no engine-core and worker processes, each importing vLLM
# again): an engine starts in seconds instead of tens of seconds on a 2-core machine
os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
# nothing is downloaded here: a hub id's config.json is looked up in the offline cache only
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import vlmi
from vlmi.testing.inputs import make_picture
from vlmi_testkit import tiny_checkpoint, weights_check

#: the `gpu` marker and CUDA skips (vlmi-core's opt-in pytest plugin)
pytest_plugins = ["vlmi.testing.pytest_plugin"]

#: vLLM's and Transformers' own files, kept out of the home folder and /tmp
CONTAINED = Path(tempfile.mkdtemp(prefix="vlmi-vllm-tests-"))
for _variable, _folder in (
    ("VLLM_CACHE_ROOT", "vllm-cache"),
    ("VLLM_RPC_BASE_PATH", "vllm-rpc"),
    ("HF_MODULES_CACHE", "hf-modules"),
):
    (CONTAINED / _folder).mkdir()
    os.environ[_variable] = str(CONTAINED / _folder)

#: the architectures run through real vLLM (vlmi-testkit recipes, vllm variant)
ARCHITECTURES = ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "internvl", "gemma3", "llava"]
#: how the engines are loaded: greedy answers exact in float32; a small KV cache
CPU_LOAD: dict[str, Any] = {
    "max_model_len": 1024,
    "dtype": "float32",
    "kv_cache_memory_bytes": 128 * 1024**2,
}


# every engine started in this process records what its weight loading did (test_engine's check)
weights_check.install()


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(CONTAINED, ignore_errors=True)


def checkpoint(arch: str) -> Path:
    """The tiny vllm-variant checkpoint of ``arch`` (made once per process)."""
    return tiny_checkpoint(arch, variant="vllm")


#: the vLLM architectures the tests start engines for
VLLM_ARCHITECTURES = (
    "Qwen2VLForConditionalGeneration",
    "Qwen2_5_VLForConditionalGeneration",
    "Qwen3VLForConditionalGeneration",
    "InternVLForConditionalGeneration",
    "Gemma3ForConditionalGeneration",
    "LlavaForConditionalGeneration",
    "MiniCPMV",
)


def warm_vllm_model_info() -> None:
    """Fill vLLM's model-info cache in this process, for the architectures tested.

    vLLM 0.32 inspects a model class in a fresh subprocess (which imports vLLM
    again: tens of seconds each on a 2-core machine) unless its cache under
    ``VLLM_CACHE_ROOT`` holds the answer. The engine runs in this process here
    (no CUDA to keep out of it), so the same inspection is done here, once, with
    vLLM's own functions; what vLLM then reads is what it would have computed.
    """
    from vllm.model_executor.models import registry

    for name in VLLM_ARCHITECTURES:
        lazy = registry.ModelRegistry.models.get(name)
        if not isinstance(lazy, registry._LazyRegisteredModel):
            continue
        path = Path(registry.__file__).parent / f"{lazy.module_name.split('.')[-1]}.py"
        if not path.exists():
            continue
        digest = lazy._get_modelinfo_module_hash(path)
        if lazy._load_modelinfo_from_cache(digest) is None:
            info = registry._ModelInfo.from_model_cls(lazy.load_model_cls())
            lazy._save_modelinfo_to_cache(info, digest)


class Engines:
    """At most one vLLM engine alive: asking for another closes the current one first."""

    def __init__(self) -> None:
        self.key: tuple[str, tuple[tuple[str, Any], ...]] | None = None
        self.model: Any = None
        self.starts = 0

    def get(self, arch: str, **options: Any) -> Any:
        """vlmi-vllm on the tiny checkpoint of ``arch`` (a vlmi-testkit recipe)."""
        return self.load(arch, str(checkpoint(arch)), **options)

    def load(self, arch: str, name: str, **options: Any) -> Any:
        """``vlmi.load(name, **options)`` (CPU settings added), the engine kept under ``arch``."""
        key = (arch, tuple(sorted(options.items())))
        if key != self.key or self.model is None or self.model.llm is None:
            self.close()
            if self.starts == 0:
                warm_vllm_model_info()
            self.model = vlmi.load(name, **{**CPU_LOAD, **options})
            self.key = key
            self.starts += 1
        return self.model

    def close(self) -> None:
        if self.model is not None:
            self.model.close()
        self.model, self.key = None, None


@pytest.fixture(scope="session")
def engines() -> Iterator[Engines]:
    """The session's engines; starting the first one warms vLLM's model-info cache."""
    box = Engines()
    yield box
    box.close()


@pytest.fixture(scope="session", params=ARCHITECTURES)
def arch(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def model(arch: str, engines: Engines) -> Any:
    """vlmi-vllm on the tiny checkpoint of ``arch`` (the engine reused across its tests)."""
    return engines.get(arch)


@pytest.fixture(scope="session")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Pictures of different sizes and aspect ratios (so their token counts differ)."""
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    for seed, size in enumerate([(64, 48), (120, 40), (200, 200), (33, 90), (300, 170)]):
        path = folder / f"picture{seed}.png"
        make_picture(*size, seed=seed).save(path)
        paths.append(path)
    return paths


class GenerateSpy:
    """Wraps the engine's real ``generate``: records requests and outputs (vLLM does the work)."""

    def __init__(self, llm: Any) -> None:
        self.real = llm.generate
        self.calls: list[list[dict[str, Any]]] = []
        self.outputs: list[Any] = []

    def __call__(self, prompts: Any, sampling_params: Any = None, **kwargs: Any) -> Any:
        self.calls.append(list(prompts))
        outputs = self.real(prompts, sampling_params=sampling_params, **kwargs)
        self.outputs.extend(outputs)
        return outputs


@pytest.fixture
def spy(model: Any, monkeypatch: pytest.MonkeyPatch) -> GenerateSpy:
    recorder = GenerateSpy(model.llm)
    monkeypatch.setattr(model.llm, "generate", recorder)
    return recorder


def samples(pictures: list[Path]) -> list[Any]:
    """Text only, one image, three images, and images between text (interleaved)."""
    p = [str(x) for x in pictures]
    return [
        "What is two plus two?",
        ("Describe the picture.", [p[1]]),
        ("Compare these.", [p[0], p[2], p[3]]),
        {
            "messages": [
                {"type": "text", "value": "First:"},
                {"type": "image", "value": p[2]},
                {"type": "text", "value": "then:"},
                {"type": "image", "value": p[1]},
                {"type": "text", "value": "which is wider?"},
            ]
        },
    ]


@pytest.fixture(scope="session")
def transformers_models() -> Iterator[dict[str, Any]]:
    loaded: dict[str, Any] = {}
    yield loaded
    for model in loaded.values():
        model.close()


def transformers_model(arch: str, cache: dict[str, Any]) -> Any:
    """vlmi-transformers' model class on the checkpoint, loaded as ``vlmi.load`` would."""
    for other in [a for a in cache if a != arch]:
        cache.pop(other).close()
    if arch not in cache:
        model = vlmi.load(str(checkpoint(arch)), plugin="vlmi-transformers", dtype="float32")
        assert model.spec.plugin is not None
        assert model.spec.plugin.distribution == "vlmi-transformers"
        cache[arch] = model
    return cache[arch]
