"""Video inputs and their sampling options: checks, defaults, the rules' edge cases."""

from __future__ import annotations

import pytest

import vlmi
from vlmi._video.sampling import choose_frames, linspace_int, torch_linspace_round
from vlmi.errors import InvalidSampleError, PluginError, VideoDecodeError
from vlmi.plugin import ModelSpec


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"nframes": 0}, "takes no frame"),
        ({"nframes": 2.5}, "whole number"),
        ({"nframes": 4, "fps": 1}, "not both"),
        ({"fps": 0}, "> 0"),
        ({"rule": "every"}, "unknown rule"),
        ({"start": 5, "end": 2}, "after start"),
        ({"max_frames": True}, "whole number"),
    ],
)
def test_bad_sampling_options_are_refused_naming_the_fix(options, message):
    with pytest.raises(InvalidSampleError, match=message):
        vlmi.Video("clip.mp4", **options)


def test_defaults_fill_what_a_video_leaves_unset():
    video = vlmi.Video("clip.mp4", fps=1)
    assert video.with_defaults({"nframes": 8, "max_frames": 4}).sampling_options() == {
        "fps": 1,
        "max_frames": 4,
    }
    # a video of another rule keeps that rule's own count
    qwen = vlmi.Video("clip.mp4", rule="qwen")
    assert qwen.with_defaults({"rule": "vlmevalkit", "nframes": 8}).sampling_options() == {
        "rule": "qwen"
    }


def test_a_spec_declares_how_its_model_takes_video():
    spec = ModelSpec("m", "x:Y", "f", "e", video="native", max_frames=32)
    assert (spec.video, spec.max_frames) == ("native", 32)
    with pytest.raises(PluginError, match="video must be"):
        ModelSpec("m", "x:Y", "f", "e", video="clips")
    with pytest.raises(PluginError, match="video_sampling"):
        ModelSpec("m", "x:Y", "f", "e", video="frames", video_sampling={"nframes": 0})


def test_rules_that_pick_no_frame_say_so():
    with pytest.raises(VideoDecodeError, match="takes no frame"):
        choose_frames(10, 30.0, {"fps": 1})  # a third of a second at 1 fps
    with pytest.raises(VideoDecodeError, match="rule qwen"):
        choose_frames(1, 30.0, {"rule": "qwen"})
    with pytest.raises(VideoDecodeError, match="holds no frames"):
        choose_frames(30, 30.0, {"start": 5, "end": 6})
    with pytest.raises(VideoDecodeError, match="no frame"):
        choose_frames(0, 30.0, {})


def test_max_frames_caps_each_rule_by_its_own_count():
    # 300 frames at 30 fps, fps=2: 20 frames, capped to 5 taken as nframes=5
    assert choose_frames(300, 30.0, {"fps": 2, "max_frames": 5}) == (
        "vlmevalkit",
        [50, 100, 150, 200, 250],
    )
    rule, indices = choose_frames(300, 30.0, {"rule": "qwen", "max_frames": 7})
    assert (rule, len(indices)) == ("qwen", 6)  # qwen-vl-utils floors its max to the factor 2


def test_linspaces():
    np = pytest.importorskip("numpy")
    for start, stop, count in [(0, 99, 8), (3, 7, 5), (0, 1000, 1), (0, 9, 3)]:
        assert (
            linspace_int(start, stop, count) == np.linspace(start, stop, count, dtype=int).tolist()
        )
    # torch computes in float32 from both ends: 4.5 rounds to even
    assert torch_linspace_round(0, 9, 3) == [0, 4, 9]
    # one rounding of start + step * i (torch 2.13 on an AVX-512 CPU: 34081.496 here; rounding
    # the product first would give 34081.5, then 34082)
    assert torch_linspace_round(0, 50811, 654)[438] == 34081
