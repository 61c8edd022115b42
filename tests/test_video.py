"""Videos through the echo model: input shapes, the frames each rule takes, bad input.

The clips are written here (``vlmi_testkit.clips``): every frame shows its index
as blocks that survive lossy codecs, and the echo model shows each frame it got
by that index. The expected indices are computed in this file from VLMEvalKit's
and qwen-vl-utils' own definitions, not by vlmi's sampler.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

import vlmi
from vlmi import errors
from vlmi.plugin import prepare_samples

pytest.importorskip("av")

from vlmi_testkit.clips import write_clip, write_frame_folder


@pytest.fixture(scope="module")
def echo():
    return vlmi.load("echo")


#: name -> (frames, fps, codec, encoder options): several lengths, rates and codecs
CLIPS = {
    "h264.mp4": (100, 25, "libx264", {}),
    "h264-gop10.mp4": (131, 24, "libx264", {"g": "10"}),
    "vp9.webm": (57, Fraction(30000, 1001), "libvpx-vp9", {}),
    "vp8.webm": (23, 10, "libvpx", {}),
    "mpeg4.avi": (31, 12, "mpeg4", {}),
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {
        name: (write_clip(folder / name, frames, fps, codec, options=options), frames, fps)
        for name, (frames, fps, codec, options) in CLIPS.items()
    }


def shown_frames(answer: str) -> list[list[int]]:
    """The painted indices of each video in an echo answer (``<video:N:WxH:i,j,...>``)."""
    videos = [word for word in answer.split() if word.startswith("<video:")]
    return [[int(i) for i in word[:-1].split(":")[3].split(",")] for word in videos]


# --- the rules, written out from their sources ---------------------------------------


def vlmevalkit_nframes(total: int, n: int) -> list[int]:
    # VLMEvalKit video_base.py save_video_frames: step_size = len(vid) / (nframe + 1)
    step = total / (n + 1)
    return [int(i * step) for i in range(1, n + 1)]


def vlmevalkit_fps(total: int, fps: float, target: float) -> list[int]:
    # VLMEvalKit video_base.py: required_frames = int(total_frames / video_fps * fps)
    required = int(total / fps * target)
    return [int(i * (fps / target)) for i in range(required)]


def qwen(total: int, fps: float, nframes: int | None = None, target: float = 2.0) -> list[int]:
    # qwen-vl-utils 0.0.14 smart_nframes (FRAME_FACTOR 2, FPS_MIN_FRAMES 4, FPS_MAX_FRAMES 768)
    if nframes is not None:
        n = round(nframes / 2) * 2
    else:
        low = math.ceil(4 / 2) * 2
        high = math.floor(min(768, total) / 2) * 2
        n = math.floor(min(min(max(total / fps * target, low), high), total) / 2) * 2
    # torch.linspace(0, total - 1, n).round()
    return [round(i * (total - 1) / (n - 1)) for i in range(n)]


def linspace(total: int, n: int) -> list[int]:
    # lmms-eval: np.linspace(0, total_frame_num - 1, n, dtype=int)
    return [int(i * (total - 1) / (n - 1)) if i < n - 1 else total - 1 for i in range(n)]


def segments(
    total: int, fps: float, n: int, bound: tuple[float, float] | None, first_idx: int = 0
) -> list[int]:
    # VLMEvalKit mvbench.py get_index
    start, end = bound if bound else (-100000, 100000)
    max_frame = total if first_idx else total - 1
    start_idx = max(first_idx, round(start * fps))
    end_idx = min(round(end * fps), max_frame)
    seg = float(end_idx - start_idx) / n
    return [int(start_idx + seg / 2 + round(seg * i)) for i in range(n)]


RULES = {
    "vlmevalkit-8": (dict(nframes=8), lambda t, f: vlmevalkit_nframes(t, 8)),
    "vlmevalkit-3": (dict(nframes=3, rule="vlmevalkit"), lambda t, f: vlmevalkit_nframes(t, 3)),
    "vlmevalkit-fps": (dict(fps=1.5), lambda t, f: vlmevalkit_fps(t, f, 1.5)),
    "qwen": (dict(rule="qwen"), lambda t, f: qwen(t, f)),
    "qwen-nframes": (dict(rule="qwen", nframes=5), lambda t, f: qwen(t, f, nframes=5)),
    "qwen-fps": (dict(rule="qwen", fps=0.5), lambda t, f: qwen(t, f, target=0.5)),
    "linspace": (dict(rule="linspace", nframes=6), lambda t, f: linspace(t, 6)),
    "segments": (dict(rule="segments", nframes=4), lambda t, f: segments(t, f, 4, None)),
    "segments-bound": (
        dict(rule="segments", nframes=4, start=0.5, end=1.5),
        lambda t, f: segments(t, f, 4, (0.5, 1.5)),
    ),
    "capped": (dict(nframes=9, max_frames=4), lambda t, f: vlmevalkit_nframes(t, 4)),
}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("clip", CLIPS)
def test_each_rule_gives_the_frames_its_source_would(echo, clips, clip, rule):
    path, total, fps = clips[clip]
    options, expected = RULES[rule]
    answer = echo.eval("q", videos=vlmi.Video(str(path), **options))
    assert shown_frames(answer) == [expected(total, float(fps))]


def test_sampling_is_reported_with_the_frames(echo, clips):
    path, total, fps = clips["vp9.webm"]
    (sample,) = prepare_samples(echo, [vlmi.Sample.from_query("q", videos=str(path))])
    (part,) = sample.video_parts
    sampling = part.sampling
    assert sampling.total_frames == total
    assert sampling.source_fps == pytest.approx(float(fps))
    assert list(sampling.indices) == vlmevalkit_nframes(total, 8)
    assert sampling.timestamps == pytest.approx([i / float(fps) for i in sampling.indices])
    assert sampling.decoder.startswith("pyav ")
    assert sampling.rule == "vlmevalkit"


def test_frame_folders_and_lists(echo, tmp_path):
    folder = write_frame_folder(tmp_path / "frames", 40)
    files = sorted(str(p) for p in folder.iterdir())
    bound = dict(rule="segments", nframes=5, start=2, end=9, source_fps=3)
    expected = [i - 1 for i in segments(40, 3, 5, (2, 9), first_idx=1)]
    answer = echo.eval("q", videos=[vlmi.Video(str(folder), **bound), vlmi.Video(files, nframes=3)])
    assert shown_frames(answer) == [expected, vlmevalkit_nframes(40, 3)]


# --- input shapes -----------------------------------------------------------------------


def test_every_input_shape_takes_videos(echo, clips):
    path = str(clips["h264.mp4"][0])
    first4 = vlmevalkit_nframes(100, 4)
    shapes = [
        {"query": "q", "videos": [{"source": path, "nframes": 4}]},
        {"query": "q", "video": {"path": path, "nframes": 4}},
        [{"type": "video", "value": path, "nframes": 4}, {"type": "text", "value": "q"}],
        [{"role": "user", "content": [{"type": "video_url", "video_url": {"url": path}}]}],
    ]
    answers = echo.eval_batch(shapes)
    assert [shown_frames(a) for a in answers[:3]] == [[first4]] * 3
    assert shown_frames(answers[3]) == [vlmevalkit_nframes(100, 8)]  # the model's default
    assert echo.eval("q", videos={"source": path, "nframes": 4}).endswith(" q")


def test_images_then_videos_then_the_query(echo, clips):
    from vlmi.testing.inputs import make_picture

    path = str(clips["vp8.webm"][0])
    words = echo.eval("q", imgs=[make_picture(seed=1)], videos=path).split()
    assert [w.split(":")[0] for w in words] == ["<image", "<video", "q"]


def test_vlmi_eval_takes_videos(clips, capsys):
    from vlmi._cli.main import main

    path = str(clips["vp8.webm"][0])
    assert main(["eval", "echo", "q", "--video", path, "--video", path]) == 0
    assert shown_frames(capsys.readouterr().out) == [vlmevalkit_nframes(23, 8)] * 2


def test_a_model_without_video_refuses_it_naming_those_that_take_it(clips):
    model = vlmi.load("echo-text")
    with pytest.raises(errors.VideoNotSupportedError, match=r"take video: .*\becho\b"):
        model.eval("q", videos=str(clips["vp8.webm"][0]))


# --- bad input: a typed error in the slot, the batch goes on -----------------------------


def _broken_codec(clip, folder):
    """The AVI clip with its codec's FourCC made up: a codec no FFmpeg decodes."""
    data = clip.read_bytes()
    for fourcc in (b"FMP4", b"XVID", b"DIVX", b"DX50"):
        data = data.replace(fourcc, b"QQQQ")
    path = folder / "unknown-codec.avi"
    path.write_bytes(data)
    return path


def test_bad_videos_fail_their_slot_only(echo, clips, tmp_path, monkeypatch):
    from vlmi.plugin import add_download_check, remove_download_check

    good = str(clips["vp8.webm"][0])
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    empty = write_clip(tmp_path / "empty.avi", 0, codec="mpeg4")

    class Refuse:
        def check_url(self, url):
            raise errors.ImageDownloadError(f"{url} is refused here")

        def check_address(self, host, address):
            raise errors.ImageDownloadError(f"{host} ({address}) is refused here")

    items = {
        "missing": (errors.VideoNotFoundError, str(tmp_path / "missing.mp4")),
        "not a video": (errors.VideoDecodeError, str(text)),
        "no frames": (errors.VideoDecodeError, str(empty)),
        "codec": (errors.VideoDecodeError, str(_broken_codec(clips["mpeg4.avi"][0], tmp_path))),
        "nframes=0": (errors.InvalidSampleError, {"source": good, "nframes": 0}),
        "url": (errors.VideoDownloadError, "http://127.0.0.1:9/clip.mp4"),
        "too long": (errors.VideoTooLargeError, str(clips["h264.mp4"][0])),
    }
    guard = Refuse()
    add_download_check(guard)
    monkeypatch.setenv("VLMI_MAX_VIDEO_SECONDS", "3")  # the H.264 clip lasts 4 s, the others less
    try:
        answers = echo.eval_batch(
            [{"query": "q", "videos": [source]} for _, source in items.values()]
            + [{"query": "ok", "videos": [str(clips["mpeg4.avi"][0])]}]
        )
    finally:
        remove_download_check(guard)
    for (name, (kind, _)), answer in zip(items.items(), answers):
        assert isinstance(answer, kind), (name, answer)
    assert "refused here" in str(answers[5])
    assert "holds no frame" in str(answers[2])
    assert shown_frames(answers[-1]) == [vlmevalkit_nframes(31, 8)]


def test_the_decoded_pixel_cap(echo, clips, monkeypatch):
    path = str(clips["h264.mp4"][0])
    monkeypatch.setenv("VLMI_MAX_VIDEO_PIXELS", str(192 * 96 * 4))
    assert shown_frames(echo.eval("q", videos=vlmi.Video(path, nframes=4)))
    with pytest.raises(errors.VideoTooLargeError, match="VLMI_MAX_VIDEO_PIXELS"):
        echo.eval("q", videos=vlmi.Video(path, nframes=5))


# --- runs: records, per-run defaults, resume -------------------------------------------------


def test_a_run_records_the_sampling_and_resumes_on_it(clips, tmp_path):
    import json

    from vlmi._cli.main import main

    path = str(clips["h264-gop10.mp4"][0])
    lines = [
        {"id": "a", "query": "q", "videos": [path]},
        {"id": "b", "query": "q", "videos": [{"source": path, "nframes": 3}]},
        {"id": "c", "messages": [{"type": "video", "value": path, "rule": "qwen"}]},
        {"id": "d", "query": "no video"},
        {"id": "e", "query": "q", "videos": ["v/c.webm", {"path": "v/c.webm", "nframes": 2}]},
    ]
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "c.webm").write_bytes(clips["vp8.webm"][0].read_bytes())
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out.jsonl"
    assert (
        main(["run", "echo", str(source), "-o", str(out), "-q", "--video-sampling", "nframes=5"])
        == 0
    )
    records = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert shown_frames(records["a"]["prediction"]) == [vlmevalkit_nframes(131, 5)]
    assert shown_frames(records["b"]["prediction"]) == [vlmevalkit_nframes(131, 3)]
    # the run's nframes names no rule: it holds for a video of any rule
    assert shown_frames(records["c"]["prediction"]) == [qwen(131, 24, nframes=5)]
    (video,) = records["a"]["video"]
    assert video["indices"] == vlmevalkit_nframes(131, 5)
    assert video["total_frames"] == 131 and video["rule"] == "vlmevalkit"
    assert video["decoder"].startswith("pyav ") and video["source_fps"] == 24
    assert video["timestamps"] == pytest.approx([i / 24 for i in video["indices"]])
    assert "video" not in records["d"]
    # paths relative to the input file's folder
    assert shown_frames(records["e"]["prediction"]) == [
        vlmevalkit_nframes(23, 5),
        vlmevalkit_nframes(23, 2),
    ]
    assert records["a"]["options"]["video_sampling"] == {"nframes": 5}

    same = vlmi.run("echo", source, out, progress=False, video_sampling={"nframes": "5"})
    assert (same.done, same.skipped) == (0, 5)
    with pytest.raises(vlmi.errors.VlmiError, match=r"nframes 5 -> 6"):
        vlmi.run("echo", source, out, progress=False, video_sampling={"nframes": 6})
    with pytest.raises(vlmi.errors.VlmiError, match=r"nframes 5 -> None"):
        vlmi.run("echo", source, out, progress=False)
    with pytest.raises(vlmi.errors.InvalidOptionError, match="nframes"):
        vlmi.run(
            "echo", source, tmp_path / "o2.jsonl", progress=False, video_sampling={"nframes": 0}
        )


def test_a_run_refuses_to_resume_videos_read_by_another_decoder(clips, tmp_path):
    import json

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "query": "q", "videos": [str(clips["vp8.webm"][0])]}))
    out = tmp_path / "out.jsonl"
    vlmi.run("echo", source, out, progress=False)
    record = json.loads(out.read_text())
    record["video"][0]["decoder"] = "pyav 0.1"
    out.write_text(json.dumps(record) + "\n")
    with pytest.raises(vlmi.errors.VlmiError, match="decoded by pyav 0.1"):
        vlmi.run("echo", source, out, progress=False)
    assert vlmi.run("echo", source, out, progress=False, force=True).skipped == 1
