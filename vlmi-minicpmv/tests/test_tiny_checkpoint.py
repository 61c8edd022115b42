"""The tiny MiniCPM-V-2.6 checkpoint: config, tokenizer and the image processor's slicing rules.

The rules (vlmi_testkit/minicpmv_code/image_processing_minicpmv.py), with
56-pixel slices of 14-pixel patches, at most 4 slices, 8 tokens per slice:
``multiple = min(ceil(w*h / 56**2), 4)``; no grid when it is 1; else the
grid among ``multiple-1 .. multiple+1`` slices whose cols/rows ratio is
closest to w/h in log scale. Each image costs (cols*rows + 1) * 8 ``<unk>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vlmi.testing.inputs import make_picture


@pytest.fixture(scope="module")
def processor(tiny_minicpmv: Path) -> Any:
    from transformers import AutoImageProcessor

    return AutoImageProcessor.from_pretrained(str(tiny_minicpmv), trust_remote_code=True)


# (width, height), max_slice_nums, grid (cols, rows), source image size, slice size
CASES = [
    ((40, 40), None, None, (56, 56), None),  # under one slice's area: enlarged, no grid
    ((56, 56), None, None, (56, 56), None),
    ((90, 60), None, (2, 1), (70, 42), (42, 70)),  # 1.7 slices: 2 or 3; 2x1 is closest to 3:2
    ((120, 90), None, (2, 2), (70, 42), (70, 42)),  # 3.4 slices: 3 or 4; 2x2 is closest to 4:3
    ((200, 100), None, (3, 1), (84, 42), (42, 70)),  # 6.4 slices, capped at 4: 3x1 beats 2x2
    ((100, 300), None, (1, 3), (28, 98), (56, 56)),  # 1x3 matches 1:3 exactly
    ((120, 90), 2, (2, 1), (70, 42), (42, 70)),  # max_slice_nums=2: only 2 slices allowed
]


@pytest.mark.parametrize(("size", "limit", "grid", "source", "piece"), CASES)
def test_slice_grids_and_placeholder_counts(
    processor: Any, size: Any, limit: Any, grid: Any, source: Any, piece: Any
) -> None:
    assert processor.get_sliced_grid(size, max_slice_nums=limit) == grid
    slices = 1 if grid is None else grid[0] * grid[1] + 1
    text = processor.get_slice_image_placeholder(size, image_idx=2, max_slice_nums=limit)
    assert text.count("<unk>") == slices * 8
    assert text.startswith("<image_id>2</image_id><image>" + "<unk>" * 8 + "</image>")
    assert text.count("<slice>") == text.count("</slice>") == slices - 1
    if grid is not None:
        assert text.count("\n") == grid[1]  # one line per row of slices
    out = processor([[make_picture(*size, seed=1)]], max_slice_nums=limit)
    (pieces,) = out["pixel_values"]
    (tgt,) = out["tgt_sizes"]
    assert out["image_sizes"] == [[size]]
    assert len(pieces) == slices and tuple(tgt.shape) == (slices, 2)
    expected_sizes = [source] + [piece] * (slices - 1)
    for tensor, (rows, cols), (w, h) in zip(pieces, tgt.tolist(), expected_sizes):
        assert (rows, cols) == (h // 14, w // 14)
        assert tuple(tensor.shape) == (3, 14, rows * cols * 14)


def test_patches_are_laid_out_row_major(processor: Any) -> None:
    image = Image.new("RGB", (28, 28))
    for x in range(28):
        for y in range(28):
            image.putpixel((x, y), (10 * (y // 14) + (x // 14), 0, 0))  # patch index in red
    tensor = processor.to_patches(image)
    reds = tensor[0, 0, ::14] * 0.5 + 0.5  # first pixel of each patch, un-normalised
    assert [round(float(r) * 255) for r in reds] == [0, 1, 10, 11]


def test_config_and_tokenizer_as_vllm_reads_them(tiny_minicpmv: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(str(tiny_minicpmv), trust_remote_code=True)
    assert type(config).__name__ == "MiniCPMVConfig" and config.version == 2.6
    assert type(config.vision_config).__name__ == "SiglipVisionConfig"
    assert config.hidden_size // config.num_attention_heads == 32  # a CPU attention head size
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_minicpmv))
    assert tokenizer.bos_token_id is not None
    for token in ("<unk>", "<image>", "</image>", "<slice>", "</slice>", "<image_id>"):
        assert len(tokenizer.encode(token, add_special_tokens=False)) == 1


def test_max_slice_nums_from_the_load_options(tiny_minicpmv: Path) -> None:
    """vLLM builds the processor with ``mm_processor_kwargs`` (vlmi's ``max_slice_nums``)."""
    from transformers import AutoImageProcessor

    capped = AutoImageProcessor.from_pretrained(
        str(tiny_minicpmv), trust_remote_code=True, max_slice_nums=2
    )
    assert capped.max_slice_nums == 2
    assert capped.get_sliced_grid((120, 90)) == (2, 1)
