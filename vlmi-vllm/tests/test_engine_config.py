"""The option mapping onto vLLM, without an engine: LLM kwargs, pixel limits, start errors."""

from __future__ import annotations

import pytest

from vlmi import errors
from vlmi.plugin import GenerationOptions
from vlmi_vllm.architectures import ARCHITECTURES
from vlmi_vllm.engine_config import llm_kwargs, pixel_kwargs, sampling_kwargs
from vlmi_vllm.engine_errors import engine_start_error
from vlmi_vllm.model import VllmOptions
from vlmi_vllm.resolving import DEFAULT_MAX_MODEL_LEN, default_max_model_len

QWEN = ARCHITECTURES["Qwen2_5_VLForConditionalGeneration"]
INTERNVL_HF = ARCHITECTURES["InternVLForConditionalGeneration"]
INTERNVL = ARCHITECTURES["InternVLChatModel"]
MINICPMV = ARCHITECTURES["MiniCPMV"]
GEMMA3 = ARCHITECTURES["Gemma3ForConditionalGeneration"]


def test_llm_kwargs_on_cpu_and_cuda():
    options = VllmOptions(tp=2, dtype="float32", max_image_pixels=200_000)
    cpu = llm_kwargs("/w", options, QWEN, 4, 2048, {"size": {"shortest_edge": 3136}}, cpu=True)
    assert cpu["tensor_parallel_size"] == 2 and cpu["max_model_len"] == 2048
    # Qwen takes clips natively: vLLM expects videos too
    assert cpu["limit_mm_per_prompt"] == {"image": 4, "video": 2}
    frames = llm_kwargs("/w", VllmOptions(), INTERNVL, 4, 2048, {}, cpu=True)
    assert frames["limit_mm_per_prompt"] == {"image": 4, "video": 0}
    assert cpu["enforce_eager"] is True and "gpu_memory_utilization" not in cpu
    assert cpu["trust_remote_code"] is False and cpu["generation_config"] == "vllm"
    assert cpu["mm_processor_kwargs"] == {"max_pixels": 200_000}
    cuda = llm_kwargs("/w", VllmOptions(), QWEN, None, 4096, cpu=False)
    assert cuda["gpu_memory_utilization"] == 0.9 and cuda["enforce_eager"] is False
    assert cuda["limit_mm_per_prompt"]["image"] == QWEN.default_max_images
    assert "mm_processor_kwargs" not in cuda


def test_the_cpu_backend_gets_what_its_kernels_take():
    qwen3_5 = ARCHITECTURES["Qwen3_5ForConditionalGeneration"]
    kimi = ARCHITECTURES["KimiVLForConditionalGeneration"]
    # Qwen3.5's Gated DeltaNet on the CPU: bfloat16 for auto, any other dtype refused
    assert llm_kwargs("/w", VllmOptions(), qwen3_5, 1, 64, cpu=True)["dtype"] == "bfloat16"
    with pytest.raises(errors.InvalidOptionError, match="dtype=bfloat16"):
        llm_kwargs("/w", VllmOptions(dtype="float32"), qwen3_5, 1, 64, cpu=True)
    assert llm_kwargs("/w", VllmOptions(dtype="float32"), qwen3_5, 1, 64)["dtype"] == "float32"
    # Kimi-VL's latent attention on the CPU: one sequence at a time unless the user says
    assert llm_kwargs("/w", VllmOptions(), kimi, 1, 64, cpu=True)["max_num_seqs"] == 1
    chosen = VllmOptions(max_num_seqs=4)
    assert llm_kwargs("/w", chosen, kimi, 1, 64, cpu=True)["max_num_seqs"] == 4
    assert llm_kwargs("/w", VllmOptions(), kimi, 1, 64)["max_num_seqs"] == 256
    assert llm_kwargs("/w", VllmOptions(), QWEN, 1, 64, cpu=True)["max_num_seqs"] == 256
    assert llm_kwargs("/w", VllmOptions(), QWEN, 1, 64, cpu=True)["dtype"] == "auto"


def test_expert_kwargs_pass_through_over_the_pixel_limit():
    options = VllmOptions(max_image_pixels=200_000, mm_processor_kwargs={"max_pixels": 5, "x": 1})
    kwargs = llm_kwargs("/w", options, QWEN, 1, 64, {}, cpu=True)
    assert kwargs["mm_processor_kwargs"] == {"max_pixels": 5, "x": 1}
    assert VllmOptions(mm_processor_kwargs='{"a": 1}').mm_processor_kwargs == {"a": 1}
    with pytest.raises(errors.InvalidOptionError, match="mm_processor_kwargs"):
        VllmOptions(mm_processor_kwargs="not json")


def test_pixel_limits_per_architecture():
    tile = 448 * 448
    # Qwen: the budget itself; the lower bound follows when above it
    assert pixel_kwargs(QWEN, 10_000, {"size": {"shortest_edge": 3136}}, {}) == {
        "max_pixels": 10_000
    }
    assert pixel_kwargs(QWEN, 2_000, {"min_pixels": 3136}, {}) == {
        "max_pixels": 2_000,
        "min_pixels": 2_000,
    }
    # tiles: more than one tile costs a thumbnail tile too
    hf = {"size": {"height": 448, "width": 448}}
    assert pixel_kwargs(INTERNVL_HF, tile, hf, {}) == {"max_patches": 1}
    assert pixel_kwargs(INTERNVL_HF, 2 * tile, hf, {}) == {"max_patches": 1}
    assert pixel_kwargs(INTERNVL_HF, 3 * tile, hf, {}) == {"max_patches": 2}
    assert pixel_kwargs(INTERNVL_HF, 13 * tile, hf, {}) == {"max_patches": 12}
    assert pixel_kwargs(INTERNVL, 7 * tile, {}, {"force_image_size": 448}) == {
        "max_dynamic_patch": 6
    }
    assert pixel_kwargs(MINICPMV, 10 * tile, {"scale_resolution": 448}, {}) == {"max_slice_nums": 9}
    with pytest.raises(errors.InvalidOptionError, match="at least 200704"):
        pixel_kwargs(INTERNVL_HF, tile - 1, hf, {})
    with pytest.raises(errors.InvalidOptionError, match="fixed size"):
        pixel_kwargs(GEMMA3, tile, {}, {})
    assert pixel_kwargs(GEMMA3, None, {}, {}) == {}


def test_default_context_is_the_checkpoints_capped():
    assert default_max_model_len({"text_config": {"max_position_embeddings": 4096}}) == 4096
    assert default_max_model_len({"max_position_embeddings": 262144}) == DEFAULT_MAX_MODEL_LEN
    assert default_max_model_len({"llm_config": {"max_position_embeddings": 8192}}) == 8192
    assert default_max_model_len({}) == DEFAULT_MAX_MODEL_LEN


def test_bad_option_values():
    with pytest.raises(errors.InvalidOptionError, match="tp"):
        VllmOptions(tp=0)
    with pytest.raises(errors.InvalidOptionError, match="max_image_pixels"):
        VllmOptions(max_image_pixels=0)
    with pytest.raises(errors.InvalidOptionError, match="dtype"):
        llm_kwargs("/w", VllmOptions(dtype="int3"), QWEN, 1, 64)


def test_engine_start_errors_name_the_option():
    kwargs = {"max_model_len": 99999, "tensor_parallel_size": 8}
    error = engine_start_error(
        ValueError("User-specified max_model_len (99999) is greater than the derived"),
        "m",
        kwargs,
        True,
    )
    assert isinstance(error, errors.InvalidOptionError)
    assert "max_model_len (now 99999)" in str(error)
    error = engine_start_error(
        ValueError("tensor_parallel_size is larger than"), "m", kwargs, False
    )
    assert isinstance(error, errors.InvalidOptionError) and "tp (now 8)" in str(error)
    other = engine_start_error(RuntimeError("something else"), "m", kwargs, False)
    assert isinstance(other, errors.EngineUnavailableError)


def test_sampling_is_complete_and_greedy_by_default():
    kwargs = sampling_kwargs(GenerationOptions(max_new_tokens=7), [5, 6])
    assert kwargs["max_tokens"] == 7 and kwargs["temperature"] == 0.0
    assert kwargs["stop_token_ids"] == [5, 6] and kwargs["top_k"] == 0
