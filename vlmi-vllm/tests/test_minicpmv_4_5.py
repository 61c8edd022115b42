"""MiniCPM-V-4.5 as itself through real vLLM: version 4.5, Qwen3 text, slicing, thinking switch.

The checkpoint is vlmi-testkit's tiny MiniCPM-V-4.5 (made once per session,
on first use); vLLM's ``MiniCPMV`` dispatches on its ``version`` to
``MiniCPMV4_5``. It is loaded by its curated name, ``minicpm-v-4.5``, with
``model_path`` pointing at the tiny folder, so the curated defaults apply
(remote code trusted, ``enable_thinking=False``). One engine serves every test
here (conftest's :class:`Engines` keeps at most one alive).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_conformance
from conftest import CONTAINED, Engines, GenerateSpy, samples

import vlmi
from vlmi import errors
from vlmi.plugin import ImagePart, Sample, as_sample
from vlmi.testing import ModelConformance
from vlmi_vllm.prompts import MINICPMV_IMAGE, build_request

#: where the tiny checkpoint is written (on first use: collecting the tests makes nothing)
FOLDER = CONTAINED / "tiny-minicpmv4_5"
NAME = "minicpm-v-4.5"
MAX_NEW = 12


def tiny_folder() -> Path:
    """The tiny MiniCPM-V-4.5 checkpoint, made once per session."""
    if not (FOLDER / "model.safetensors").exists():
        from vlmi_testkit import make_tiny_minicpmv4_5

        make_tiny_minicpmv4_5(FOLDER)
    return FOLDER


def load(engines: Engines) -> Any:
    return engines.load("minicpmv4_5", NAME, model_path=str(tiny_folder()))


@pytest.fixture
def model(engines: Engines) -> Any:
    return load(engines)


class TestMiniCPMV45Conformance(ModelConformance):
    model_name = NAME
    load_options = {"model_path": str(FOLDER)}
    plugin_module = "vlmi_vllm"
    engine_errors = test_conformance.TestConformance.engine_errors

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, engines: Engines) -> Iterator[Any]:
        yield load(engines)


def test_a_folder_needs_trust_remote_code() -> None:
    """Loaded by folder (not by the curated name), running its code is the user's opt-in."""
    with pytest.raises(errors.InvalidOptionError, match="trust_remote_code"):
        vlmi.load(str(tiny_folder()))


def test_vllm_builds_the_4_5_model(model: Any) -> None:
    """vLLM dispatched on ``version`` to MiniCPMV4_5 on a Qwen3 text model."""
    inner = model.llm.llm_engine.model_executor.driver_worker.worker.model_runner.model
    assert type(inner).__name__ == "MiniCPMV4_5"
    assert type(inner.llm).__name__ == "Qwen3ForCausalLM"
    assert type(inner.resampler).__name__ == "Resampler4_5"


def test_vllm_loaded_every_weight_of_the_folder(model: Any) -> None:
    """Every tensor in model.safetensors reached a parameter; no parameter was left random."""
    from vlmi_testkit import weights_check

    report = weights_check.assert_all_weights_loaded(model.llm)
    assert any(".self_attn.q_norm." in name for name in report.used)  # Qwen3's per-head norms
    assert "resampler.query" in report.used


def user_text(sample: Any) -> str:
    """The authors' chat() content for one of conftest's samples, written out by hand."""
    if isinstance(sample, str):
        return sample
    if isinstance(sample, tuple):
        question, paths = sample
        return "\n".join([MINICPMV_IMAGE] * len(paths) + [question])
    return f"First:\n{MINICPMV_IMAGE}\nthen:\n{MINICPMV_IMAGE}\nwhich is wider?"


def expected_ids(sample: Any, pictures: list[Path], thinking: bool) -> list[int]:
    """The chat template's prompt (thinking switch set), each image as its processor writes it."""
    from PIL import Image
    from transformers import AutoImageProcessor, AutoTokenizer

    folder = tiny_folder()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    processor = AutoImageProcessor.from_pretrained(folder, trust_remote_code=True)
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": user_text(sample)}],
        tokenize=False,
        add_generation_prompt=True,
        enable_thinking=thinking,
    )
    if isinstance(sample, tuple):
        paths = sample[1]
    elif isinstance(sample, dict):
        paths = [str(pictures[2]), str(pictures[1])]
    else:
        paths = []
    pieces = text.split(MINICPMV_IMAGE)
    assert len(pieces) == len(paths) + 1
    expanded = pieces[0]
    for index, (path, piece) in enumerate(zip(paths, pieces[1:])):
        size = Image.open(path).size
        expanded += processor.get_slice_image_placeholder(size, image_idx=index) + piece
    return [int(i) for i in tokenizer(expanded, add_special_tokens=False)["input_ids"]]


def test_prompt_ids_are_the_chat_templates_without_thinking(
    model: Any, pictures: list[Path], spy: GenerateSpy
) -> None:
    """The curated name answers directly: ``enable_thinking=False``, as the authors' chat()."""
    batch = samples(pictures)
    model.eval_batch(batch, max_new_tokens=2)
    for sample, output in zip(batch, spy.outputs, strict=True):
        ids = list(output.prompt_token_ids)
        assert ids == expected_ids(sample, pictures, thinking=False), sample
    thinking_ids = expected_ids(batch[0], pictures, thinking=True)
    assert list(spy.outputs[0].prompt_token_ids) != thinking_ids  # the switch shows


def with_pictures(item: Any) -> Sample:
    """One of conftest's samples as vlmi's Sample, its pictures decoded (as vlmi hands them)."""
    from PIL import Image

    sample = as_sample(item)
    return sample.with_parts(
        ImagePart(p.source, Image.open(p.source).convert("RGB")) if isinstance(p, ImagePart) else p
        for p in sample.parts
    )


def test_prompt_ids_are_the_chat_templates_with_thinking(model: Any, pictures: list[Path]) -> None:
    """With the switch on, vLLM's prompt ids are the template's with ``enable_thinking=True``.

    ``enable_thinking=True`` as a load option becomes these template variables
    (:attr:`VllmModel.template_kwargs`); the requests are sent to the same engine.
    """
    batch = samples(pictures)
    kwargs = {"enable_thinking": True}
    requests = [
        build_request(model.arch, model.template_owner, with_pictures(s), kwargs) for s in batch
    ]
    from vllm import SamplingParams

    outputs = model.llm.generate(requests, SamplingParams(max_tokens=1), use_tqdm=False)
    for sample, output in zip(batch, outputs, strict=True):
        assert list(output.prompt_token_ids) == expected_ids(sample, pictures, thinking=True)
    assert model.template_kwargs == {"enable_thinking": False}  # the curated default


def test_enable_thinking_is_refused_without_a_switch_in_the_template() -> None:
    """A checkpoint whose chat template never reads enable_thinking: refused before vLLM starts."""
    from conftest import checkpoint

    with pytest.raises(errors.InvalidOptionError, match="no thinking switch"):
        vlmi.load(str(checkpoint("qwen2_vl")), enable_thinking=True)


def test_images_become_version_4_5_slices(
    model: Any, pictures: list[Path], spy: GenerateSpy
) -> None:
    """Each image is its source plus a grid of slices, 8 ``<unk>`` tokens each (query_num)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_folder())
    unk = tokenizer.convert_tokens_to_ids("<unk>")
    p = [str(x) for x in pictures]
    # 64x48: no grid (1 x 8); 300x170: a 3 x 1 grid beside its source (4 x 8); both: 40
    batch: list[Any] = [("a", [p[0]]), ("b", [p[4]]), ("c", [p[0], p[4]])]
    model.eval_batch(batch, max_new_tokens=1)
    counts = [list(output.prompt_token_ids).count(unk) for output in spy.outputs]
    assert counts == [8, 32, 40]
    text = tokenizer.decode(spy.outputs[2].prompt_token_ids)
    assert re.findall(r"<image_id>(\d)</image_id>", text) == ["0", "1"]
