"""Fixtures: tiny checkpoints of each tested architecture on real vLLM, one engine alive at a time.

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

import functools
import json
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
from vlmi_testkit import make_tiny_internvl2, tiny_checkpoint, weights_check

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

#: remote-code architectures: vlmi-testkit's recipe for each (the released config class is
#: the checkpoint's own code, so they load with trust_remote_code=True)
REMOTE_CODE = {
    "ovis2_5": "make_tiny_ovis2_5",
    "kimi_vl": "make_tiny_kimi_vl",
    "keye_vl1_5": "make_tiny_keye_vl1_5",
}
#: per architecture, load options of its own: vLLM's CPU Gated DeltaNet kernel (Qwen3.5)
#: runs in bfloat16 only (vlmi-vllm picks it for dtype auto there; the Transformers side of
#: the two-engine test needs it said). Kimi-VL needs none: vlmi-vllm schedules one sequence
#: at a time on the CPU backend by itself (vLLM 0.32's CPU latent-attention decode gives
#: other tokens when it decodes several sequences in one step; docs/verification.md), which
#: the batched == one-at-a-time tests check.
ARCH_LOAD: dict[str, dict[str, Any]] = {
    "qwen3_5": {"dtype": "bfloat16"},
}
#: architectures whose processor in vLLM lays out several images in one prompt unlike the
#: checkpoint's own, and how: such samples are left out of the comparisons with Transformers
SEVERAL_IMAGES_DIFFER = {
    "llava_onevision": (
        "vLLM 0.32 tiles every image (anyres); Transformers gives each of several images "
        "one view and a newline, as lmms-eval runs the authors' model (image_aspect_ratio pad)"
    ),
}
#: the architectures run through real vLLM (vlmi-testkit recipes, vllm variant)
#: (internvl_chat: InternVL2-8B's shape, InternVLChatModel on InternLM2, loaded as internvl2-8b)
ARCHITECTURES = [
    "qwen2_vl",
    "qwen2_5_vl",
    "qwen3_vl",
    "internvl",
    "gemma3",
    "llava",
    "glm4v",
    "llava_onevision",
    "qwen3_5",
    *REMOTE_CODE,
    "internvl_chat",
]
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


#: the prompts LMDeploy builds for InternVL2 (see scripts/record_lmdeploy_internvl2_prompts.py)
LMDEPLOY_PROMPTS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "lmdeploy_internvl2_prompts.json").read_text("utf-8")
)
#: architectures loaded by a curated name (the folder as its weights), with their own options
BY_NAME: dict[str, tuple[str, dict[str, Any]]] = {
    "internvl_chat": (
        "internvl2-8b",
        {
            "plugin": "vlmi-vllm",
            # tiles as in the LMDeploy reference; room for three images of up to 3 tiles,
            # and for a clip's 8 frames (the model's default) of up to 3 tiles each
            "mm_processor_kwargs": {"max_dynamic_patch": LMDEPLOY_PROMPTS["max_dynamic_patch"]},
            "max_model_len": 3072,
        },
    )
}


def checkpoint(arch: str) -> Path:
    """The tiny vllm-variant checkpoint of ``arch`` (made once per process)."""
    if arch == "internvl_chat":
        folder = CONTAINED / "tiny-internvl-chat"
        if not folder.exists():
            make_tiny_internvl2(folder, **LMDEPLOY_PROMPTS["checkpoint"])
        return folder
    if arch in REMOTE_CODE:
        return remote_code_checkpoint(arch)
    return tiny_checkpoint(arch, variant="vllm")


@functools.cache
def remote_code_checkpoint(arch: str) -> Path:
    """The tiny checkpoint of a remote-code architecture, made once per process."""
    import vlmi_testkit

    return Path(getattr(vlmi_testkit, REMOTE_CODE[arch])(CONTAINED / "checkpoints" / arch))


def load_options(arch: str) -> dict[str, Any]:
    """How the tests load ``arch``: :data:`CPU_LOAD`, and the opt-in to its own code."""
    remote = {"trust_remote_code": True} if arch in REMOTE_CODE else {}
    return {**CPU_LOAD, **remote, **ARCH_LOAD.get(arch, {})}


#: the vLLM architectures the tests start engines for
VLLM_ARCHITECTURES = (
    "Qwen2VLForConditionalGeneration",
    "Qwen2_5_VLForConditionalGeneration",
    "Qwen3VLForConditionalGeneration",
    "InternVLForConditionalGeneration",
    "Gemma3ForConditionalGeneration",
    "LlavaForConditionalGeneration",
    "Glm4vForConditionalGeneration",
    "LlavaOnevisionForConditionalGeneration",
    "Qwen3_5ForConditionalGeneration",
    "MiniCPMV",
    "InternVLChatModel",
    "InternLM2ForCausalLM",
    "Ovis2_5",
    "KimiVLForConditionalGeneration",
    "KeyeVL1_5ForConditionalGeneration",
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
        """vlmi-vllm on the tiny checkpoint of ``arch`` (a vlmi-testkit recipe).

        An architecture of :data:`BY_NAME` is loaded by its curated name, the
        folder as its weights (``model_path``), with its own options.
        """
        name, own = BY_NAME.get(arch, (None, {}))
        if name is None:
            return self.load(arch, str(checkpoint(arch)), **options)
        return self.load(arch, name, **{**own, "model_path": str(checkpoint(arch)), **options})

    def load(self, arch: str, name: str, **options: Any) -> Any:
        """``vlmi.load(name, **options)`` (CPU settings added), the engine kept under ``arch``."""
        key = (arch, tuple(sorted(options.items())))
        if key != self.key or self.model is None or self.model.llm is None:
            self.close()
            if self.starts == 0:
                warm_vllm_model_info()
            self.model = vlmi.load(name, **{**load_options(arch), **options})
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


def image_count(sample: Any) -> int:
    """How many images one of :func:`samples` holds."""
    if isinstance(sample, tuple):
        return len(sample[1])
    if isinstance(sample, dict):
        return sum(part["type"] == "image" for part in sample["messages"])
    return 0


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
        dtype = ARCH_LOAD.get(arch, {}).get("dtype", "float32")
        model = vlmi.load(str(checkpoint(arch)), plugin="vlmi-transformers", dtype=dtype)
        assert model.spec.plugin is not None
        assert model.spec.plugin.distribution == "vlmi-transformers"
        cache[arch] = model
    return cache[arch]


def transformers_token_ids(
    reference: Any, batch: list[Any], max_new: int, monkeypatch: pytest.MonkeyPatch
) -> list[list[int]]:
    """The new token ids vlmi-transformers' ``generate`` gives, one sample at a time (no padding)."""
    engine = reference.engine
    real = engine.generate_tokens
    seen: list[list[int]] = []

    def record(*args: Any, **kwargs: Any) -> list[list[int]]:
        rows = real(*args, **kwargs)
        seen.extend(rows)
        return rows

    monkeypatch.setattr(engine, "generate_tokens", record)
    for sample in batch:
        reference.eval_batch([sample], max_new_tokens=max_new)
    return seen
