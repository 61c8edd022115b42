from __future__ import annotations

from pathlib import Path

import pytest

from vlmi._sample import ImagePart, Sample, TextPart, as_sample
from vlmi.errors import InvalidSampleError


def test_query_and_images_images_first_by_default():
    sample = Sample.from_query("q", ["a.png", "b.png"])
    assert sample.parts == (ImagePart("a.png"), ImagePart("b.png"), TextPart("q"))
    assert Sample.from_query("q", "a.png", images_first=False).parts == (
        TextPart("q"),
        ImagePart("a.png"),
    )
    assert sample.num_images == 2
    assert sample.text == "q"


@pytest.mark.parametrize("bad", [(None, None), ("", []), ("   ", None)])
def test_nothing_to_ask(bad):
    with pytest.raises(InvalidSampleError, match="nothing to ask"):
        Sample.from_query(*bad)


def test_query_must_be_text():
    with pytest.raises(InvalidSampleError, match="imgs="):
        Sample.from_query(Path("a.png"))  # type: ignore[arg-type]


def test_vlmevalkit_messages_keep_order():
    sample = as_sample(
        [
            {"type": "text", "value": "Compare"},
            {"type": "image", "value": "a.png"},
            {"type": "text", "value": "with"},
            {"type": "image", "value": "b.png"},
        ]
    )
    assert [type(p).__name__ for p in sample.parts] == [
        "TextPart",
        "ImagePart",
        "TextPart",
        "ImagePart",
    ]


def test_openai_content_and_chat():
    parts = [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "text", "text": "What is it?"},
    ]
    assert as_sample(parts).parts[0] == ImagePart("data:image/png;base64,AAAA")
    chat = as_sample({"messages": [{"role": "user", "content": parts}], "id": 7})
    assert chat.id == "7"
    assert chat.num_images == 1
    with pytest.raises(InvalidSampleError, match="one-turn"):
        as_sample([{"role": "system", "content": "x"}, {"role": "user", "content": "y"}])


def test_dict_forms():
    sample = as_sample({"question": "q", "image": "a.png", "generation": {"max_new_tokens": 3}})
    assert sample.images == ["a.png"]
    assert sample.generation == {"max_new_tokens": 3}
    with pytest.raises(InvalidSampleError, match="unknown sample keys"):
        as_sample({"query": "q", "imgz": "a.png"})
    with pytest.raises(InvalidSampleError, match="generation"):
        as_sample({"query": "q", "generation": 5})


@pytest.mark.parametrize(
    "bad",
    [
        [{"type": "video"}],
        [{"type": "video", "value": "x.mp4", "nframes": 0}],
        [{"value": "no type"}],
        [{"type": "text"}],
        [{"type": "image"}],
        [{"type": "text", "value": "  "}],
        42,
    ],
)
def test_bad_shapes(bad):
    with pytest.raises(InvalidSampleError):
        as_sample(bad)
