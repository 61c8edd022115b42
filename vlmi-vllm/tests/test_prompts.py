"""The placeholder layouts (InternVL's remote-code chat(), MiniCPM-V), without an engine."""

from __future__ import annotations

import pytest

from vlmi import errors
from vlmi.plugin import ImagePart, Sample, TextPart
from vlmi.testing.inputs import make_picture
from vlmi_vllm.architectures import ARCHITECTURES
from vlmi_vllm.prompts import stop_token_ids, user_text

INTERNVL = ARCHITECTURES["InternVLChatModel"]
MINICPMV = ARCHITECTURES["MiniCPMV"]


def sample(*parts: object) -> Sample:
    return Sample(
        tuple(
            ImagePart(source="x", image=make_picture()) if p is None else TextPart(str(p))
            for p in parts
        )
    )


def test_internvl_labels_several_images_as_its_chat_does():
    assert user_text(INTERNVL, sample(None, "What is it?")) == "<image>\nWhat is it?"
    assert (
        user_text(INTERNVL, sample(None, None, "Compare."))
        == "Image-1: <image>\nImage-2: <image>\nCompare."
    )
    # interleaved: the images stay where the sample puts them
    assert (
        user_text(INTERNVL, sample("First:", None, "then:", None, "which?"))
        == "First:\nImage-1: <image>\nthen:\nImage-2: <image>\nwhich?"
    )
    assert user_text(INTERNVL, sample("Just text.")) == "Just text."


def test_minicpmv_placeholders_in_order():
    assert (
        user_text(MINICPMV, sample("A", None, "B", None))
        == "A\n(<image>./</image>)\nB\n(<image>./</image>)"
    )


def test_placeholders_typed_in_text_are_refused():
    with pytest.raises(errors.InvalidSampleError, match="placeholder"):
        user_text(INTERNVL, sample(None, "look at <image> here"))


def test_stop_ids_from_generation_config_and_family():
    from vlmi_testkit import minicpmv_tokenizer

    tokenizer = minicpmv_tokenizer()
    vocab = tokenizer.get_vocab()
    ids = stop_token_ids(MINICPMV, tokenizer, {"eos_token_id": [7, 7, 9]})
    assert ids == [7, 9, vocab["<|im_end|>"], vocab["<|endoftext|>"]]
