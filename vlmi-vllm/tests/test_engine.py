"""vlmi-vllm on real vLLM over tiny checkpoints of each tested architecture.

No recorder stands in for the engine: where a test needs to see what vLLM
received or returned (prompt token ids), it wraps the real ``generate`` and
records its arguments and outputs; vLLM still does the work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import (
    REMOTE_CODE,
    SEVERAL_IMAGES_DIFFER,
    GenerateSpy,
    checkpoint,
    image_count,
    samples,
)
from PIL import Image

from vlmi import errors
from vlmi_testkit import weights_check

MAX_NEW = 12


def test_batch_equals_one_at_a_time(model: Any, pictures: list[Path], spy: GenerateSpy) -> None:
    batch = samples(pictures)
    together = model.eval_batch(batch, max_new_tokens=MAX_NEW)
    assert len(spy.calls) == 1 and len(spy.calls[0]) == len(batch)
    assert all(isinstance(answer, str) for answer in together), together
    alone = [model.eval_batch([sample], max_new_tokens=MAX_NEW)[0] for sample in batch]
    assert together == alone
    # the images reach vLLM, in the sample's order
    sent = [request.get("multi_modal_data", {}).get("image", []) for request in spy.calls[0]]
    assert [[image.size for image in images] for images in sent] == [
        [],
        [(120, 40)],
        [(64, 48), (200, 200), (33, 90)],
        [(200, 200), (120, 40)],
    ]


#: folder tensors an architecture does not load, by design (name prefixes), and why
NOT_LOADED = {
    # vLLM builds CLIP only up to vision_feature_layer=-2, as for the released llava-1.5 folders
    "llava": (
        "vision_tower.vision_model.encoder.layers.1.",
        "vision_tower.vision_model.post_layernorm.",
    ),
    # vision_feature_layer=-1 is the last layer's output before SigLIP's post_layernorm, in
    # Transformers too; vLLM builds the tower without it
    "llava_onevision": ("vision_tower.vision_model.post_layernorm.",),
}


def test_every_weight_loaded(arch: str, model: Any) -> None:
    """Every tensor of the tiny folder reached a parameter; no parameter kept its random start."""
    report = weights_check.assert_all_weights_loaded(model.llm, NOT_LOADED.get(arch, ()))
    assert report.used == report.in_folder and report.parameters


def reference_conversation(sample: Any, pictures: list[Path]) -> list[dict[str, Any]]:
    """The Transformers chat message for one of conftest's samples, written out by hand."""
    p = [Image.open(x).convert("RGB") for x in pictures]
    if isinstance(sample, str):
        content = [{"type": "text", "text": sample}]
    elif isinstance(sample, tuple):
        question, paths = sample
        content = [
            {"type": "image", "image": p[[str(x) for x in pictures].index(path)]} for path in paths
        ]
        content.append({"type": "text", "text": question})
    else:
        content = [
            {"type": "text", "text": "First:"},
            {"type": "image", "image": p[2]},
            {"type": "text", "text": "then:"},
            {"type": "image", "image": p[1]},
            {"type": "text", "text": "which is wider?"},
        ]
    return [{"role": "user", "content": content}]


def test_prompt_ids_are_the_processors(
    arch: str, model: Any, pictures: list[Path], spy: GenerateSpy
) -> None:
    """The prompt ids vLLM reports equal the checkpoint's own processor's (images expanded).

    Reference: ``processor.apply_chat_template(..., tokenize=True)`` of
    Transformers, the format these Transformers-native checkpoints define,
    for text only, one image, three images and interleaved input.
    """
    if arch in REMOTE_CODE:
        pytest.skip("a remote-code processor: test_remote_code.py checks its prompt ids")
    if arch == "internvl_chat":
        pytest.skip("remote code: its prompt is compared with LMDeploy's (test_internvl_chat)")
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(checkpoint(arch))
    batch = samples(pictures)
    model.eval_batch(batch, max_new_tokens=2)
    assert len(spy.outputs) == len(batch)
    for sample, output in zip(batch, spy.outputs):
        reference = processor.apply_chat_template(
            reference_conversation(sample, pictures),
            add_generation_prompt=True,
            tokenize=True,
            return_dict=True,
        )["input_ids"]
        expected = [int(i) for i in (reference[0] if isinstance(reference[0], list) else reference)]
        if arch in SEVERAL_IMAGES_DIFFER and image_count(sample) > 1:
            # known and documented: when vLLM's layout becomes the checkpoint's, compare it here
            assert list(output.prompt_token_ids) != expected, SEVERAL_IMAGES_DIFFER[arch]
            continue
        assert list(output.prompt_token_ids) == expected, sample


def test_bad_slots_fail_alone(model: Any, pictures: list[Path], tmp_path: Path) -> None:
    """A bad image, too many images and an over-long prompt fail only their own slot."""
    p = [str(x) for x in pictures]
    too_many = [p[i % len(p)] for i in range(model.max_images + 1)]
    long_text = " ".join(["describe the red square and the blue circle"] * 600)
    batch: list[Any] = [
        ("Describe the picture.", [p[0]]),
        ("Describe the picture.", [str(tmp_path / "missing.png")]),
        ("Describe these.", too_many),
        long_text,
        "What is two plus two?",
    ]
    results = model.eval_batch(batch, max_new_tokens=MAX_NEW)
    assert isinstance(results[0], str) and isinstance(results[4], str), results
    assert isinstance(results[1], errors.ImageNotFoundError)
    assert isinstance(results[2], errors.TooManyImagesError)
    assert isinstance(results[3], errors.InvalidSampleError)
    assert "max_model_len" in str(results[3])
    assert [r.sample_index for r in results[1:4]] == [1, 2, 3]
    # the good slots answer as they do alone
    assert results[0] == model.eval_batch([batch[0]], max_new_tokens=MAX_NEW)[0]
    assert results[4] == model.eval_batch([batch[4]], max_new_tokens=MAX_NEW)[0]


def test_max_model_len_over_the_checkpoints_is_an_option_error(arch: str, engines: Any) -> None:
    """vLLM's refusal while building the engine reaches users as a typed error naming the option."""
    if arch != "qwen2_vl":
        pytest.skip("one architecture suffices: the path is vLLM's config check")
    import vlmi

    engines.close()  # at most one engine: this one fails in its config check
    with pytest.raises(errors.InvalidOptionError, match="max_model_len"):
        vlmi.load(str(checkpoint(arch)), dtype="float32", max_model_len=1_000_000)
