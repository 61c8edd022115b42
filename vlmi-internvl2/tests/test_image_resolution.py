"""``max_image_pixels`` and ``mm_processor_kwargs`` through LMDeploy's real InternVL preprocessing.

The image tokens are read from the input ids LMDeploy's engine receives (its
own tiling and token expansion ran), and compared with InternVL's own
``dynamic_preprocess`` (the copy LMDeploy ships in ``lmdeploy.vl.model.internvl``)
given the tile count the limit stands for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vlmi.errors import InvalidOptionError
from vlmi_internvl2.model import InternVL2Options
from vlmi_internvl2.prompts import tile_cap
from vlmi_testkit import ScriptedEngine

TILE = 448 * 448


def image_context_tokens(model: Any, engine: ScriptedEngine) -> int:
    ids = engine.requests[-1].input_ids
    return list(ids).count(model.tokenizer.get_vocab()["<IMG_CONTEXT>"])


def own_tiles(picture: Path, max_num: int) -> int:
    """Tiles InternVL's own dynamic_preprocess makes (thumbnail included), as released."""
    from lmdeploy.vl.model.internvl import dynamic_preprocess

    with Image.open(picture) as image:
        return len(dynamic_preprocess(image.convert("RGB"), 1, max_num, 448, use_thumbnail=True))


def test_image_tokens_fall_with_max_image_pixels(
    loaded: Any, engines: list[ScriptedEngine], pictures: list[Path]
) -> None:
    picture = pictures[3]  # 90x600: 7 tiles (1x7) and a thumbnail by default
    counts = []
    for limit, tiles in ((None, 12), (4 * TILE, 4), (2 * TILE + TILE // 2, 2), (TILE, 1)):
        model = loaded(max_image_pixels=limit)
        model.eval("Big?", imgs=[str(picture)])
        count = image_context_tokens(model, engines[-1])
        assert count == own_tiles(picture, tiles) * 256, limit
        counts.append(count)
    assert counts == [8 * 256, 5 * 256, 3 * 256, 256]


def test_the_limit_is_per_image_within_the_samples_tile_budget(
    loaded: Any, engines: list[ScriptedEngine], pictures: list[Path]
) -> None:
    # three images share max_total_tiles=24 (8 each); a limit of 2 tiles is lower still
    model = loaded(max_image_pixels=2 * TILE, system_prompt="")
    model.eval("Compare.", imgs=[str(p) for p in pictures[:3]])
    tokens = engines[-1].requests[-1].image_token_counts
    assert tokens == [own_tiles(p, 2) * 256 for p in pictures[:3]] == [256, 256, 768]


def test_mm_processor_kwargs_pass_lmdeploys_per_image_parameter(
    loaded: Any, engines: list[ScriptedEngine], pictures: list[Path]
) -> None:
    model = loaded(mm_processor_kwargs={"max_dynamic_patch": 6})
    model.eval("Big?", imgs=[str(pictures[0])])
    assert image_context_tokens(model, engines[-1]) == own_tiles(pictures[0], 6) * 256 == 1792


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_image_pixels": TILE - 1}, r"below one InternVL2 tile \(448x448, 200704 pixels\)"),
        ({"max_image_pixels": 4 * TILE, "max_dynamic_patch": 6}, "give one"),
        ({"max_image_pixels": 4 * TILE, "mm_processor_kwargs": {"max_dynamic_patch": 2}}, "one"),
        ({"mm_processor_kwargs": {"detail": "low"}}, r"reads per image only \['max_dynamic"),
        ({"mm_processor_kwargs": {"max_dynamic_patch": 0}}, "must be an int >= 1"),
        ({"mm_processor_kwargs": "max_dynamic_patch=2"}, "must be a dict"),
    ],
)
def test_options_that_cannot_hold_are_refused_when_made(
    options: dict[str, Any], match: str
) -> None:
    with pytest.raises(InvalidOptionError, match=match):
        InternVL2Options(**options)


def test_the_session_length_counts_the_limited_tiles() -> None:
    from vlmi_internvl2.engine_config import TEXT_BUDGET, session_len

    assert session_len(InternVL2Options(max_image_pixels=2 * TILE), 1) == 3 * 256 + TEXT_BUDGET
    assert tile_cap(12, None, None) == 12
