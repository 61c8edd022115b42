"""``max_image_pixels`` and ``mm_processor_kwargs`` on each architecture's real processor.

For every tiny checkpoint: the image tokens vlmi puts in the prompt (the
input ids ``generate`` receives) fall as the limit falls, and equal what the
model's own image processor makes of the same picture when given the limit
in its own terms (Qwen-VL ``min_pixels``/``max_pixels``, InternVL
``max_patches``), counted from its outputs (``image_grid_thw``, the number of
tiles), not from the prompt text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import vlmi
from vlmi import errors
from vlmi_testkit import tiny_checkpoint

#: limits from above each architecture's default down to its smallest honoured value
LIMITS = [None, 20000, 8000, 3136]
#: 300x200: large enough that every limit above changes the Qwen-VL and InternVL grids
SIZE = (300, 200)


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from vlmi.testing.inputs import make_picture

    path = tmp_path_factory.mktemp("resolution") / "picture.png"
    make_picture(*SIZE, seed=3).save(path)
    return path


def image_tokens_in_prompt(model: Any, picture: Path) -> int:
    """Image tokens in the ids vlmi hands ``generate`` for one image and a question."""
    from vlmi.plugin import as_sample, prepare_samples

    (sample,) = prepare_samples(model, [as_sample({"query": "What?", "imgs": [str(picture)]})])
    inputs = model.engine.model_inputs([sample])
    return int((inputs["input_ids"][0] == model.engine.model.config.image_token_id).sum())


def own_processor_tokens(arch: str, folder: Path, limit: int | None, picture: Path) -> int:
    """What the model's own image processor makes of the picture, given the limit its own way."""
    from transformers import AutoConfig, AutoImageProcessor

    config = AutoConfig.from_pretrained(folder)
    default = AutoImageProcessor.from_pretrained(folder)
    with Image.open(picture) as opened:
        image = opened.convert("RGB")
    if arch.startswith("qwen"):
        kwargs = {}
        if limit is not None:
            kwargs = {"max_pixels": limit, "min_pixels": min(default.size["shortest_edge"], limit)}
        processor = AutoImageProcessor.from_pretrained(folder, **kwargs)
        grid = processor(images=[image], return_tensors="pt")["image_grid_thw"][0]
        return int(grid.prod()) // processor.merge_size**2
    if arch == "internvl":
        kwargs = {}
        if limit is not None:
            kwargs = {"max_patches": limit // (default.size.height * default.size.width)}
        processor = AutoImageProcessor.from_pretrained(folder, **kwargs)
        tiles = int(processor(images=[image], return_tensors="pt")["num_patches"][0])
        return tiles * int(config.image_seq_length)
    # LLaVA, Gemma 3: one fixed size, whatever the limit
    if arch == "gemma3":
        return int(config.mm_tokens_per_image)
    patches = config.vision_config.image_size // config.vision_config.patch_size
    return int(patches**2)


@pytest.mark.parametrize("arch", ["qwen2_vl", "qwen2_5_vl", "qwen3_vl", "internvl"])
def test_image_tokens_fall_with_the_limit_as_the_processor_says(arch: str, picture: Path) -> None:
    folder = tiny_checkpoint(arch)
    counts = []
    for limit in LIMITS:
        model = vlmi.load(str(folder), max_image_pixels=limit)
        try:
            count = image_tokens_in_prompt(model, picture)
            assert count == own_processor_tokens(arch, folder, limit, picture), limit
            assert isinstance(model.eval("What is it?", imgs=[str(picture)], max_new_tokens=2), str)
        finally:
            model.close()
        counts.append(count)
    # 20000 is above the tiny defaults (more tokens); from there down, strictly fewer
    assert counts[1] > counts[0] > counts[2] > counts[3] >= 1, counts


@pytest.mark.parametrize(
    ("arch", "smallest"), [("qwen2_vl", 28 * 28), ("qwen3_vl", 32 * 32), ("internvl", 56 * 56)]
)
def test_a_limit_below_one_block_or_tile_is_refused_before_loading(
    arch: str, smallest: int
) -> None:
    folder = tiny_checkpoint(arch)
    with pytest.raises(errors.InvalidOptionError, match=f"at least {smallest}"):
        vlmi.load(str(folder), max_image_pixels=smallest - 1)
    vlmi.load(str(folder), max_image_pixels=smallest).close()


@pytest.mark.parametrize("arch", ["llava", "gemma3"])
def test_fixed_size_processors_honour_a_limit_at_their_size_and_refuse_below(
    arch: str, picture: Path
) -> None:
    folder = tiny_checkpoint(arch)
    expected = own_processor_tokens(arch, folder, None, picture)
    for limit in (None, 20000, 28 * 28):  # the tiny vision encoders take 28x28 images
        model = vlmi.load(str(folder), max_image_pixels=limit)
        try:
            assert image_tokens_in_prompt(model, picture) == expected
        finally:
            model.close()
    with pytest.raises(errors.InvalidOptionError, match=r"every image to 28x28 \(784 pixels\)"):
        vlmi.load(str(folder), max_image_pixels=28 * 28 - 1)


def test_mm_processor_kwargs_reach_the_processor(picture: Path) -> None:
    folder = tiny_checkpoint("qwen2_vl")
    size = {"shortest_edge": 3136, "longest_edge": 8000}  # Qwen-VL's min_pixels, max_pixels
    model = vlmi.load(str(folder), mm_processor_kwargs={"size": size})
    try:
        assert model.engine.processor.image_processor.size["longest_edge"] == 8000
        assert image_tokens_in_prompt(model, picture) == own_processor_tokens(
            "qwen2_vl", folder, 8000, picture
        )
    finally:
        model.close()
    # InternVL's own tile count, as an expert sets it
    folder = tiny_checkpoint("internvl")
    model = vlmi.load(str(folder), mm_processor_kwargs={"max_patches": 1})
    try:
        assert image_tokens_in_prompt(model, picture) == own_processor_tokens(
            "internvl", folder, 56 * 56, picture
        )
    finally:
        model.close()


def test_the_knob_and_the_same_expert_key_together_are_refused() -> None:
    folder = tiny_checkpoint("qwen2_vl")
    with pytest.raises(errors.InvalidOptionError, match="give only one"):
        vlmi.load(str(folder), max_image_pixels=8000, mm_processor_kwargs={"max_pixels": 9000})
    with pytest.raises(errors.InvalidOptionError, match="give only one"):
        vlmi.load(
            str(tiny_checkpoint("internvl")),
            max_image_pixels=8000,
            mm_processor_kwargs={"max_patches": 2},
        )


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_image_pixels": 0}, "max_image_pixels must be >= 1"),
        ({"max_image_pixels": "many"}, "max_image_pixels must be int or None"),
        ({"mm_processor_kwargs": [1, 2]}, "mm_processor_kwargs must be a dict"),
    ],
)
def test_bad_values_are_refused(options: dict[str, Any], match: str) -> None:
    with pytest.raises(errors.InvalidOptionError, match=match):
        vlmi.load(str(tiny_checkpoint("qwen2_vl")), **options)


def test_the_options_are_recorded_with_each_answer(picture: Path, tmp_path: Path) -> None:
    folder = tiny_checkpoint("qwen2_vl")
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "a", "query": "What is it?", "imgs": [str(picture)]}) + "\n",
        encoding="utf-8",
    )
    output = tmp_path / "out.jsonl"
    vlmi.run(
        str(folder),
        source,
        output,
        progress=False,
        load_options={"max_image_pixels": 8000, "mm_processor_kwargs": {"do_rescale": True}},
        max_new_tokens=2,
    )
    (record,) = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert record["options"]["engine"]["max_image_pixels"] == 8000
    assert record["options"]["engine"]["mm_processor_kwargs"] == {"do_rescale": True}


@pytest.mark.parametrize("limit", [400_000, 100_000, 20_000])
def test_glm4v_processor_keeps_at_most_the_limit(limit: int, picture: Path) -> None:
    """GLM-4.1V's processor (no tiny checkpoint): it counts an image once per temporal patch."""
    from transformers import Glm4vImageProcessor

    from vlmi_transformers.resolution import resolution_kwargs

    default = Glm4vImageProcessor()
    processor = Glm4vImageProcessor(**resolution_kwargs(default, limit).kwargs)
    big = Image.open(picture).convert("RGB").resize((1200, 800))
    grid = processor(images=[big], return_tensors="pt")["image_grid_thw"][0].tolist()
    pixels = grid[1] * grid[2] * processor.patch_size**2
    # at most the limit, and near it (whole blocks); without the temporal count, under half
    assert 0.75 * limit < pixels <= limit


@pytest.mark.parametrize(
    "name", ["LlavaOnevisionImageProcessor", "LlavaNextImageProcessor", "Idefics3ImageProcessor"]
)
def test_processors_vlmi_cannot_limit_are_refused_naming_the_expert_option(name: str) -> None:
    import transformers

    from vlmi_transformers.resolution import resolution_kwargs

    with pytest.raises(errors.InvalidOptionError, match="mm_processor_kwargs"):
        resolution_kwargs(getattr(transformers, name)(), 10**6)
