"""Video through real vLLM: natively with its metadata (Qwen2.5-VL), as frames elsewhere.

The engines are the session's (conftest's ``Engines``): no engine is started for
these tests alone. A synthetic clip (each frame painted with its index) is
sampled by vlmi; vLLM's prompt ids are compared with the checkpoint's own
processor given the same frames and metadata, and vLLM's greedy tokens with
Transformers' on the same checkpoint (vlmi-transformers, in-process).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import GenerateSpy, transformers_model, transformers_token_ids
from test_two_engines import MAX_NEW

import vlmi
from vlmi_testkit.clips import write_clip

#: the architectures that take a clip natively in vLLM, among the tested ones
NATIVE = ("qwen2_vl", "qwen2_5_vl")
#: one that takes the frames as images (the chat template's image parts)
FRAMES = ("internvl", "internvl_chat")
#: architectures whose greedy answers to a video differ between the engines, and why
DIFFERENT = {
    "qwen2_5_vl": "Transformers 5 puts the text after a video at the video's first position "
    "plus its largest spatial extent, leaving out the temporal one (frame times scaled by "
    "second_per_grid_ts); vLLM, as Qwen2.5-VL's original get_rope_index, continues after the "
    "largest position the video took",
}


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 frames at 10 fps (3 seconds), each painted with its index."""
    return write_clip(tmp_path_factory.mktemp("clips") / "count.mp4", 30, fps=10, size=(96, 64))


def question(clip: Path) -> dict[str, Any]:
    return {"query": "What happens?", "videos": [{"source": str(clip), "nframes": 4}]}


def asked(model: Any, clip: Path, spy: GenerateSpy, video: str) -> dict[str, Any]:
    """The vLLM request for one video question to a model taking ``video``, once answered."""
    assert model.spec.video == video
    result = model.eval_batch([question(clip)], max_new_tokens=2)
    assert not isinstance(result[0], BaseException), result[0]
    return dict(spy.calls[0][0])


def test_native_video_prompt_ids_are_the_processors(
    arch: str, model: Any, clip: Path, spy: GenerateSpy
) -> None:
    if arch not in NATIVE:
        pytest.skip("a native-video architecture only")
    request = asked(model, clip, spy, "native")
    frames, metadata = request["multi_modal_data"]["video"][0]
    # qwen's rule: 4 frames spread over the clip, first and last kept
    assert metadata["frames_indices"] == [0, 10, 19, 29]
    assert metadata["fps"] == 10 and metadata["total_num_frames"] == 30
    assert frames.shape == (4, 64, 96, 3)

    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(model.folder)
    conversation = [
        {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "What happens?"}]}
    ]
    text = processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
    assert text == request["prompt"]
    inputs = processor(
        text=[text],
        videos=[list(frames)],
        video_metadata=[{k: v for k, v in metadata.items() if k != "do_sample_frames"}],
        do_sample_frames=False,
        return_tensors="np",
    )
    assert list(spy.outputs[0].prompt_token_ids) == inputs["input_ids"][0].tolist()
    if arch == "qwen2_5_vl":
        # the frame times Qwen2.5-VL places its video tokens at: 2 frames per temporal patch,
        # at the sampled rate (4 frames over 3 seconds), as qwen-vl-utils' fps gives them
        assert inputs["second_per_grid_ts"] == [pytest.approx(2 / (4 / 30 * 10))]


def test_native_video_greedy_tokens_equal_transformers(
    arch: str,
    model: Any,
    clip: Path,
    spy: GenerateSpy,
    transformers_models: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if arch not in NATIVE:
        pytest.skip("a native-video architecture only")
    if arch in DIFFERENT:
        pytest.xfail(DIFFERENT[arch])
    batch = [question(clip), {**question(clip), "query": "And then?"}]
    model.eval_batch(batch, max_new_tokens=MAX_NEW)
    from_vllm = [list(output.outputs[0].token_ids) for output in spy.outputs]

    reference = transformers_model(arch, transformers_models)
    assert reference.spec.video == "native"
    seen = transformers_token_ids(reference, batch, MAX_NEW, monkeypatch)
    assert len(seen) == len(from_vllm) == 2
    assert seen == from_vllm


def test_frames_as_images(arch: str, model: Any, clip: Path, spy: GenerateSpy) -> None:
    if arch not in FRAMES:
        pytest.skip("a frames architecture only")
    request = asked(model, clip, spy, "frames")
    assert "video" not in request["multi_modal_data"]
    images = request["multi_modal_data"]["image"]
    # VLMEvalKit's rule, 4 frames: step 30 / 5 = 6, frames 6, 12, 18, 24
    frames, sampling = model.load_video(vlmi.Video(str(clip), nframes=4))
    assert sampling.indices == (6, 12, 18, 24)
    assert [image.tobytes() for image in images] == [frame.tobytes() for frame in frames]
    assert len(images) == 4
    if arch == "internvl_chat":  # the remote-code layout: VLMEvalKit's frame labels
        labels = "".join(f"Frame-{i}: <image>\n" for i in range(1, 5))
        assert labels + "What happens?" in request["prompt"]


def test_max_video_pixels_shrinks_each_frame(
    arch: str, model: Any, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if arch not in NATIVE:
        pytest.skip("one architecture is enough")
    engine = replace(model.engine_options, max_video_pixels=1536)
    monkeypatch.setattr(model, "options", replace(model.options, engine=engine))
    frames, _ = model.load_video(vlmi.Video(str(clip), nframes=2))
    # 96 x 64 has 6144 pixels: a quarter of them, the aspect ratio kept
    assert [(f.width, f.height) for f in frames] == [(48, 32), (48, 32)]
