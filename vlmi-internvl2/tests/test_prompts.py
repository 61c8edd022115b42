"""InternVL2 prompts: what vlmi hands LMDeploy, and what LMDeploy's own assembly makes of it.

The second half runs LMDeploy's real pipeline (chat template, image tiling,
token expansion) on the tiny checkpoint and reads the input ids its engine
receives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vlmi.errors import InvalidSampleError
from vlmi.plugin import ImagePart, Sample, TextPart
from vlmi_internvl2.prompts import (
    IMAGE_TOKEN,
    SYSTEM_PROMPT,
    build_messages,
    tiles_per_image,
    user_content,
    worst_image_tokens,
)
from vlmi_testkit import ScriptedEngine

RED = Image.new("RGB", (64, 48), "red")
BLUE = Image.new("RGB", (32, 32), "blue")


def sample(*parts: Any) -> Sample:
    return Sample(
        tuple(ImagePart(p, p) if isinstance(p, Image.Image) else TextPart(p) for p in parts)
    )


def test_image_token_is_lmdeploys():
    from lmdeploy.vl.constants import IMAGE_TOKEN as LMDEPLOY_IMAGE_TOKEN

    assert IMAGE_TOKEN == LMDEPLOY_IMAGE_TOKEN


def test_text_only_is_a_plain_string():
    assert user_content(sample("Hi there"), 12, 24) == "Hi there"


def test_one_image_goes_first_without_a_label():
    content = user_content(sample(RED, "What is it?"), 12, 24)
    assert content == [
        {"type": "text", "text": "<IMAGE_TOKEN>\nWhat is it?"},
        {"type": "image_url", "image_url": {"url": RED, "max_dynamic_patch": 12}},
    ]
    assert content[1]["image_url"]["url"] is RED  # the decoded image itself, no re-encoding


def test_several_images_are_labelled_and_share_the_tile_budget():
    content = user_content(sample(RED, BLUE, RED, "Compare."), 12, 24)
    assert content[0] == {
        "type": "text",
        "text": "Image-1: <IMAGE_TOKEN>\nImage-2: <IMAGE_TOKEN>\nImage-3: <IMAGE_TOKEN>\nCompare.",
    }
    assert [p["image_url"]["max_dynamic_patch"] for p in content[1:]] == [8, 8, 8]
    assert [p["image_url"]["url"] for p in content[1:]] == [RED, BLUE, RED]


def test_interleaved_images_keep_their_place():
    content = user_content(sample("Left:", RED, "right:", BLUE, "same?"), 12, 24)
    # every part on its own line, as InternVL2's chat() lays out images and text
    assert content[0]["text"] == (
        "Left:\nImage-1: <IMAGE_TOKEN>\nright:\nImage-2: <IMAGE_TOKEN>\nsame?"
    )
    query_first = user_content(sample("What is it?", RED), 12, 24)
    assert query_first[0]["text"] == "What is it?\n<IMAGE_TOKEN>"


@pytest.mark.parametrize("markup", ["<image>", "<IMAGE_TOKEN>", "<img>", "<IMG_CONTEXT>"])
def test_image_markup_in_text_is_refused(markup: str):
    with pytest.raises(InvalidSampleError, match="image markup"):
        user_content(sample(f"look {markup} here"), 12, 24)


def test_system_turn_comes_first_and_can_be_left_out():
    assert build_messages(sample("Hi"), SYSTEM_PROMPT, 12, 24) == [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "Hi"},
    ]
    assert build_messages(sample("Hi"), "", 12, 24) == [{"role": "user", "content": "Hi"}]


def test_tile_budget():
    assert [tiles_per_image(n, 12, 24) for n in (1, 2, 3, 5, 8, 30)] == [12, 12, 8, 4, 3, 1]
    assert tiles_per_image(1, 6, 2) == 6  # a lone image keeps its own cap
    assert worst_image_tokens(1, 12, 24) == 13 * 256


# --- through LMDeploy's own prompt assembly ------------------------------------------------


def prompt_of(model: Any, engine: ScriptedEngine, index: int = -1) -> str:
    ids = engine.requests[index].input_ids
    text = model.tokenizer.decode(ids, skip_special_tokens=False)
    return str(text).replace("<IMG_CONTEXT>" * 256, "[256]")


HEAD = f"<s><|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n"
TAIL = "<|im_end|>\n<|im_start|>assistant\n"


def test_lmdeploy_prompt_text_only(loaded: Any, engines: list[ScriptedEngine]):
    model = loaded()
    model.eval("Hi there")
    assert prompt_of(model, engines[0]) == f"{HEAD}Hi there{TAIL}"
    assert engines[0].requests[-1].multimodal is None


def test_lmdeploy_prompt_one_image(
    loaded: Any, engines: list[ScriptedEngine], pictures: list[Path]
):
    model = loaded()
    model.eval("What is it?", imgs=[str(pictures[1])])  # 200x200: one tile
    assert prompt_of(model, engines[0]) == f"{HEAD}<img>[256]</img>\nWhat is it?{TAIL}"
    (item,) = engines[0].requests[-1].multimodal or []
    assert tuple(item["pixel_values"].shape) == (1, 3, 448, 448)
    assert item["image_size"] == (200, 200)


def test_lmdeploy_prompt_several_images(
    loaded: Any, engines: list[ScriptedEngine], pictures: list[Path]
):
    model = loaded(system_prompt="")
    model.eval("Compare.", imgs=[str(p) for p in pictures[:3]])
    # 8 tiles at most each (24 shared by 3): 640x480 takes 3x2, 1000x300 3x1, plus thumbnails
    tokens = engines[0].requests[-1].image_token_counts
    assert tokens == [7 * 256, 256, 4 * 256]
    expected = (
        "<s><|im_start|>user\n"
        "Image-1: <img>" + "[256]" * 7 + "</img>\n"
        "Image-2: <img>[256]</img>\n"
        "Image-3: <img>" + "[256]" * 4 + "</img>\nCompare." + TAIL
    )
    assert prompt_of(model, engines[0]) == expected
    sizes = [item["image_size"] for item in engines[0].requests[-1].multimodal or []]
    assert sizes == [(640, 480), (200, 200), (1000, 300)]


def test_lmdeploy_tiles_one_large_image_up_to_max_dynamic_patch(
    loaded: Any, engines: list[ScriptedEngine], pictures: list[Path]
):
    model = loaded()
    assert model.eval("Big?", imgs=[str(pictures[0])]) == "1 images 3328 tokens"
    model = loaded(max_dynamic_patch=6)
    assert model.eval("Big?", imgs=[str(pictures[0])]) == "1 images 1792 tokens"  # 3x2 + thumbnail


def test_the_checkpoint_template_is_used_whatever_the_folder_is_called(
    tiny_folder: Path, engines: list[ScriptedEngine], tmp_path: Path
):
    import shutil

    import vlmi

    # LMDeploy alone would pick its Vicuna template for a folder with "vicuna" in its name
    renamed = shutil.copytree(tiny_folder, tmp_path / "vicuna-like-internvl2")
    model = vlmi.load("internvl2-1b", model_path=str(renamed), backend="pytorch")
    model.eval("Hi there")
    assert prompt_of(model, engines[0]) == f"{HEAD}Hi there{TAIL}"
    model.close()


def test_lmdeploy_prompt_video_frames(loaded: Any, engines: list[ScriptedEngine], tmp_path: Path):
    import re

    from vlmi import Video
    from vlmi_testkit.clips import write_clip

    clip = write_clip(tmp_path / "count.mp4", 20, fps=10)
    model = loaded(system_prompt="")
    assert model.video == "frames"
    model.eval("What happens?", videos=Video(str(clip), nframes=3))
    # VLMEvalKit's frame labels, one line each, before the question
    frames = "".join(f"Frame-{i}: <img>(\\[256\\])+</img>\n" for i in (1, 2, 3))
    expected = re.escape("<s><|im_start|>user\n") + frames + re.escape("What happens?" + TAIL)
    assert re.fullmatch(expected, prompt_of(model, engines[0]))
    sizes = [item["image_size"] for item in engines[0].requests[-1].multimodal or []]
    assert sizes == [(192, 96)] * 3
    # the frames are VLMEvalKit's: step 20 / 4 = 5, frames 5, 10, 15
    _, sampling = model.load_video(Video(str(clip), nframes=3))
    assert sampling.indices == (5, 10, 15)
