"""Limits on real vLLM: image resolution (``max_image_pixels``) and context (``max_model_len``).

The tiny checkpoint slices images into 56x56 pieces (up to 4, plus the
overview; 8 ``<unk>`` tokens each) and allows 4096 positions
(``max_position_embeddings``), less than vlmi's default cap of 8192.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import vlmi
from vlmi import errors

SLICE = 56 * 56
#: the session engine's options, less max_model_len (the checkpoint's own limit applies)
LOAD: dict[str, Any] = {"dtype": "float32", "kv_cache_memory_bytes": 256 * 1024**2}


def prompt_unk_count(model: Any, picture: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """``<unk>`` (image) tokens in the prompt ids vLLM reports for one image and a question."""
    outputs: list[Any] = []
    real = model.llm.generate

    def recording(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        outputs.extend(result)
        return result

    with monkeypatch.context() as patch:
        patch.setattr(model.llm, "generate", recording)
        model.eval("Describe the picture.", imgs=[str(picture)], max_new_tokens=1)
    (output,) = outputs
    unk = model.tokenizer.convert_tokens_to_ids("<unk>")
    return list(output.prompt_token_ids).count(unk)


def own_processor_unk_count(folder: Path, picture: Path, max_slice_nums: int | None) -> int:
    """What MiniCPM-V's own image processor puts in the text for the picture."""
    from transformers import AutoImageProcessor

    processor = AutoImageProcessor.from_pretrained(str(folder), trust_remote_code=True)
    with Image.open(picture) as image:
        text = processor.get_slice_image_placeholder(image.size, max_slice_nums=max_slice_nums)
    return str(text).count("<unk>")


def test_image_tokens_fall_with_max_image_pixels_and_the_context_follows_the_checkpoint(
    engine: Any, tiny_minicpmv: Path, pictures: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    picture = pictures[1]  # 120x90: a 2x2 grid of slices plus the overview by default
    default = prompt_unk_count(engine.model, picture, monkeypatch)
    assert default == own_processor_unk_count(tiny_minicpmv, picture, None) == 40
    # no max_model_len: the checkpoint's own 4096, not the 8192 cap vLLM would refuse
    model = vlmi.load(
        "minicpm-v-2.6", model_path=str(tiny_minicpmv), max_image_pixels=3 * SLICE, **LOAD
    )
    try:
        assert model.llm.model_config.max_model_len == 4096
        limited = prompt_unk_count(model, picture, monkeypatch)
        # 3 slices at most: the processor picks 2x1 (plus the overview)
        assert limited == own_processor_unk_count(tiny_minicpmv, picture, 3) == 24
        # max_model_len is recorded as given (None: the checkpoint's own limit)
        assert model.options.engine.max_model_len is None
        assert model.options.engine.max_image_pixels == 3 * SLICE
    finally:
        model.close()
    assert default > limited > own_processor_unk_count(tiny_minicpmv, picture, 1) == 8


def test_a_limit_below_one_slice_is_refused_before_vllm_starts(tiny_minicpmv: Path) -> None:
    with pytest.raises(errors.InvalidOptionError, match=r"below one MiniCPM-V slice \(56x56"):
        vlmi.load(
            "minicpm-v-2.6", model_path=str(tiny_minicpmv), max_image_pixels=SLICE - 1, **LOAD
        )


def test_max_model_len_over_the_checkpoint_is_an_option_error(tiny_minicpmv: Path) -> None:
    with pytest.raises(errors.InvalidOptionError) as caught:
        vlmi.load("minicpm-v-2.6", model_path=str(tiny_minicpmv), max_model_len=8192, **LOAD)
    message = str(caught.value)
    assert "max_model_len=8192 is longer than minicpm-v-2.6's checkpoint allows" in message
    assert "lower max_model_len, or leave it unset" in message
    assert "max_position_embeddings=4096" in message  # vLLM's own reason, kept
