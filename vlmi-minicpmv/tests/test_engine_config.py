"""vlmi options on the real vLLM classes: EngineArgs (for LLM's kwargs) and SamplingParams."""

from __future__ import annotations

from typing import Any

import pytest
from vllm import EngineArgs, SamplingParams

from vlmi.errors import InvalidOptionError
from vlmi.plugin import GenerationOptions
from vlmi_minicpmv.engine_config import (
    DEFAULT_MAX_MODEL_LEN,
    llm_kwargs,
    sampling_kwargs,
    sampling_params,
)
from vlmi_minicpmv.model import MiniCPMVOptions
from vlmi_minicpmv.vllm_cpu import CPU_KV_CACHE_BYTES

STOP_IDS = [151645, 151643]


def test_default_llm_kwargs_are_valid_engine_args() -> None:
    kwargs = llm_kwargs("/weights/MiniCPM-V-2_6", MiniCPMVOptions(), max_images=8)
    assert kwargs == {
        "model": "/weights/MiniCPM-V-2_6",
        "trust_remote_code": True,
        "max_model_len": 8192,
        "limit_mm_per_prompt": {"image": 8, "video": 0},
        "dtype": "auto",
        "tensor_parallel_size": 1,
        "gpu_memory_utilization": 0.9,
        "max_num_seqs": 256,
        "enforce_eager": False,
        "generation_config": "vllm",
    }
    args = EngineArgs(**kwargs)  # the names and values the installed vLLM accepts
    assert args.limit_mm_per_prompt == {"image": 8, "video": 0}
    assert args.trust_remote_code is True
    assert args.generation_config == "vllm"


def test_cpu_defaults_size_the_kv_cache_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLLM_CPU_KVCACHE_SPACE", raising=False)
    kwargs = llm_kwargs("/w", MiniCPMVOptions(), max_images=8, cpu=True)
    assert kwargs["enforce_eager"] is True  # the CPU backend does not compile
    assert kwargs["kv_cache_memory_bytes"] == CPU_KV_CACHE_BYTES
    # on CPU, vLLM reads this share as host RAM that must be free: never sent unless set
    assert "gpu_memory_utilization" not in kwargs
    args = EngineArgs(**kwargs)
    assert (args.kv_cache_memory_bytes, args.enforce_eager) == (CPU_KV_CACHE_BYTES, True)


def test_cpu_kv_cache_from_the_environment_or_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "2")
    kwargs = llm_kwargs("/w", MiniCPMVOptions(), max_images=8, cpu=True)
    assert "kv_cache_memory_bytes" not in kwargs  # vLLM applies the variable itself
    chosen = MiniCPMVOptions(
        kv_cache_memory_bytes=2**28, gpu_memory_utilization=0.5, enforce_eager=False
    )
    kwargs = llm_kwargs("/w", chosen, max_images=8, cpu=True)
    assert kwargs["kv_cache_memory_bytes"] == 2**28
    assert (kwargs["gpu_memory_utilization"], kwargs["enforce_eager"]) == (0.5, False)


def test_every_option_reaches_the_engine_args() -> None:
    options = MiniCPMVOptions(
        tensor_parallel_size=2,
        max_model_len=16384,
        gpu_memory_utilization=0.75,
        dtype="bfloat16",
        max_num_seqs=64,
        enforce_eager=True,
        max_slice_nums=4,
        kv_cache_memory_bytes=2**30,
    )
    args = EngineArgs(**llm_kwargs("/w", options, max_images=3))
    assert (args.tensor_parallel_size, args.max_model_len) == (2, 16384)
    assert (args.gpu_memory_utilization, args.dtype) == (0.75, "bfloat16")
    assert (args.max_num_seqs, args.enforce_eager) == (64, True)
    assert args.mm_processor_kwargs == {"max_slice_nums": 4}
    assert args.kv_cache_memory_bytes == 2**30
    assert args.limit_mm_per_prompt == {"image": 3, "video": 0}


@pytest.mark.parametrize(
    ("options", "match"),
    [
        (MiniCPMVOptions(dtype="int4"), "dtype must be one of"),
        (MiniCPMVOptions(gpu_memory_utilization=1.5), "gpu_memory_utilization"),
    ],
)
def test_bad_engine_options(options: MiniCPMVOptions, match: str) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        llm_kwargs("/w", options, max_images=8)


def test_greedy_params_are_complete() -> None:
    params = sampling_params(GenerationOptions(), STOP_IDS)
    assert isinstance(params, SamplingParams)
    assert params.max_tokens == 512  # not vLLM's 16
    assert params.temperature == 0.0  # not vLLM's 1.0
    assert params.stop_token_ids == STOP_IDS
    assert (params.n, params.top_p, params.top_k, params.repetition_penalty) == (1, 1.0, 0, 1.0)
    assert params.seed is None and params.stop == []


def test_sampling_params_map_every_option() -> None:
    options = GenerationOptions(
        max_new_tokens=64, temperature=0.7, top_p=0.8, top_k=20, seed=7, stop=("###",)
    )
    params = sampling_params(options, STOP_IDS)
    assert (params.max_tokens, params.temperature, params.top_p) == (64, 0.7, 0.8)
    assert (params.top_k, params.seed, params.stop) == (20, 7, ["###"])
    assert params.include_stop_str_in_output is False
    assert sampling_kwargs(GenerationOptions(temperature=1.0), [])["top_k"] == 0


def test_vllm_rejections_become_option_errors() -> None:
    # vlmi allows any top_k >= 0; vLLM itself checks values against its own limits
    with pytest.raises(InvalidOptionError, match="vLLM cannot honour"):
        sampling_params(GenerationOptions(temperature=0.5, top_k=-5), STOP_IDS)


# --- max_model_len, max_image_pixels, mm_processor_kwargs --------------------------------


@pytest.mark.parametrize(
    ("option", "checkpoint", "expected"),
    [
        (None, None, DEFAULT_MAX_MODEL_LEN),  # the checkpoint's limit unknown
        (None, 4096, 4096),  # a shorter checkpoint is not refused
        (None, 32768, DEFAULT_MAX_MODEL_LEN),  # a longer one is capped
        (16384, 32768, 16384),  # the option wins
    ],
)
def test_max_model_len_follows_the_checkpoint_up_to_8192(
    option: int | None, checkpoint: int | None, expected: int
) -> None:
    options = MiniCPMVOptions(max_model_len=option)
    kwargs = llm_kwargs("/w", options, max_images=8, model_len_limit=checkpoint)
    assert kwargs["max_model_len"] == expected


@pytest.mark.parametrize(
    ("pixels", "slices"),
    [(448 * 448, 1), (3 * 448 * 448 - 1, 2), (9 * 448 * 448, 9), (1920 * 1080, 10)],
)
def test_max_image_pixels_becomes_max_slice_nums(pixels: int, slices: int) -> None:
    args = EngineArgs(**llm_kwargs("/w", MiniCPMVOptions(max_image_pixels=pixels), max_images=1))
    assert args.mm_processor_kwargs == {"max_slice_nums": slices}
    # the checkpoint's own slice size (the tiny one slices 56x56)
    tiny = llm_kwargs("/w", MiniCPMVOptions(max_image_pixels=pixels), 1, slice_pixels=56 * 56)
    assert tiny["mm_processor_kwargs"] == {"max_slice_nums": pixels // (56 * 56)}


def test_mm_processor_kwargs_pass_through() -> None:
    options = MiniCPMVOptions(mm_processor_kwargs={"max_slice_nums": 2, "use_image_id": False})
    args = EngineArgs(**llm_kwargs("/w", options, max_images=1))
    assert args.mm_processor_kwargs == {"max_slice_nums": 2, "use_image_id": False}
    both = MiniCPMVOptions(max_image_pixels=448 * 448 * 3, mm_processor_kwargs={"a": 1})
    assert llm_kwargs("/w", both, 1)["mm_processor_kwargs"] == {"a": 1, "max_slice_nums": 3}


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_image_pixels": 448 * 448 - 1}, r"below one MiniCPM-V slice \(448x448"),
        ({"max_image_pixels": 10**6, "max_slice_nums": 2}, "give only one"),
        ({"max_image_pixels": 10**6, "mm_processor_kwargs": {"max_slice_nums": 2}}, "only one"),
        ({"max_slice_nums": 3, "mm_processor_kwargs": {"max_slice_nums": 2}}, "only one"),
    ],
)
def test_resolution_options_that_cannot_hold_are_refused(
    options: dict[str, Any], match: str
) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        llm_kwargs("/w", MiniCPMVOptions(**options), max_images=1)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_image_pixels": 0}, "max_image_pixels must be >= 1 or None"),
        ({"max_model_len": 0}, "max_model_len must be >= 1 or None"),
        ({"mm_processor_kwargs": [("max_slice_nums", 2)]}, "mm_processor_kwargs must be a dict"),
    ],
)
def test_bad_values_are_refused_when_the_options_are_made(
    options: dict[str, Any], match: str
) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        MiniCPMVOptions(**options)


def test_vllm_config_errors_name_the_option_to_change() -> None:
    from vlmi_minicpmv.startup import engine_error

    try:  # a real pydantic error from vLLM's own configuration classes
        from vllm.config import SchedulerConfig

        SchedulerConfig(max_num_seqs=-3, max_model_len=1024, is_encoder_decoder=False)
    except ValueError as exc:
        error = engine_error(exc, "minicpm-v-2.6", {"max_num_seqs": -3})
    else:
        pytest.fail("vLLM accepted max_num_seqs=-3")
    assert isinstance(error, InvalidOptionError)
    assert "max_num_seqs" in str(error) and "change max_num_seqs" in str(error)
