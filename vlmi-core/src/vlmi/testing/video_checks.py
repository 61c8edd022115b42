"""The conformance kit's video checks (part of :class:`vlmi.testing.ModelConformance`).

For a model whose spec declares video (``ModelSpec.video``: ``"native"`` or
``"frames"``) they write a tiny clip with PyAV and check that a video sample is
answered with the plugin receiving one sample whose video holds the sampled
frames (RGB, as many as the sampling chose, with what was sampled); that the
same frames give the same greedy answer twice (and from a copy of the file);
that ``nframes=1`` and ``nframes=4`` (VLMEvalKit's rule) give the model one and
four frames (a native engine must take a one-frame clip too); that
the spec's ``max_frames`` caps a video asking for more; and that a batch with
videos answers as one sample at a time does. PyAV is not part of the
``testing`` extra: without it (``pip install vlmi-core[video]``) these checks
skip, saying so. For a model that declares no video, a video sample fails with
:class:`~vlmi.errors.VideoNotSupportedError` before the engine is called, in
its own slot of a batch (this needs no PyAV).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

import vlmi
from vlmi import errors

#: the kit's clip: frames, frame rate, size (tiny, so that every engine takes it quickly)
CLIP_FRAMES = 24
CLIP_FPS = 8
CLIP_SIZE = (64, 48)


def write_test_clip(
    path: Path, frames: int = CLIP_FRAMES, fps: int = CLIP_FPS, size: tuple[int, int] = CLIP_SIZE
) -> Path:
    """An MPEG-4 clip of ``frames`` frames, each a different colour, written with PyAV."""
    import av
    from PIL import Image

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            colour = (index * 10 % 256, 255 - index * 10 % 256, (index * 40) % 256)
            frame = av.VideoFrame.from_image(Image.new("RGB", size, colour))  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _frames(source: str, nframes: int) -> vlmi.Video:
    """``nframes`` frames by VLMEvalKit's rule, which takes any count (Qwen's rounds it)."""
    return vlmi.Video(source, nframes=nframes, rule="vlmevalkit")


def engine_calls(model: vlmi.Model[Any], monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one at each call of the model's generate / generate_batch."""
    calls: list[int] = []
    for method in ("generate", "generate_batch"):
        original = getattr(model, method)

        def spy(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            calls.append(1)
            return _original(*args, **kwargs)

        monkeypatch.setattr(model, method, spy)
    return calls


def _pyav_missing() -> str | None:
    try:
        import av  # noqa: F401
    except ImportError:
        return "PyAV is not installed: pip install vlmi-core[video] to run the video checks"
    return None


class VideoConformance:
    """The video checks; :class:`vlmi.testing.ModelConformance` holds them."""

    question: ClassVar[str]
    batch_matches_single: ClassVar[bool]

    @pytest.fixture(scope="class")
    @classmethod
    def clip(
        cls, model: vlmi.Model[Any], tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[str]:
        """The kit's tiny clip (skips for a model without video, and where PyAV is missing)."""
        if not model.video:
            pytest.skip(f"{model.name} declares no video (ModelSpec.video)")
        missing = _pyav_missing()
        if missing:
            pytest.skip(missing)
        path = write_test_clip(tmp_path_factory.mktemp("vlmi-video") / "clip.mp4")
        yield str(path)

    def _needs_video(self, model: vlmi.Model[Any]) -> None:
        if not model.video:
            pytest.skip(f"{model.name} declares no video (ModelSpec.video)")

    def _video_asked(self, model: vlmi.Model[Any], videos: Any) -> str:
        return model.eval(self.question, videos=videos, max_new_tokens=8)

    def _received_video(self, received: list[Any]) -> Any:
        """The one video part of the one sample that reached the plugin, loaded."""
        assert len(received) == 1, f"expected one sample to reach the model, got {len(received)}"
        parts = received[0].video_parts
        assert len(parts) == 1, f"expected one video in the sample, got {len(parts)}"
        part = parts[0]
        assert part.frames is not None and part.sampling is not None, "the video was not loaded"
        assert len(part.frames) == len(part.sampling.indices) >= 1
        assert all(frame.mode == "RGB" for frame in part.frames)
        return part

    def _frames_for(self, model: vlmi.Model[Any], asked: int) -> int:
        return min(asked, model.max_frames) if model.max_frames is not None else asked

    def test_video_sample_is_answered(
        self, model: vlmi.Model[Any], clip: str, received: list[Any]
    ) -> None:
        self._needs_video(model)
        answer = self._video_asked(model, clip)
        assert isinstance(answer, str)
        part = self._received_video(received)
        sampling = part.sampling
        assert sampling.total_frames == CLIP_FRAMES
        assert sampling.source_fps == pytest.approx(CLIP_FPS)
        assert list(sampling.indices) == sorted(sampling.indices)
        assert all(0 <= i < CLIP_FRAMES for i in sampling.indices)
        assert sampling.timestamps == pytest.approx([i / CLIP_FPS for i in sampling.indices])
        assert model.max_frames is None or len(part.frames) <= model.max_frames
        assert self.question in received[0].text

    def test_same_frames_give_the_same_answer(
        self, model: vlmi.Model[Any], clip: str, tmp_path: Path
    ) -> None:
        self._needs_video(model)
        copy = shutil.copy(clip, tmp_path / "same.mp4")
        video = _frames(clip, self._frames_for(model, 4))
        first = self._video_asked(model, video)
        assert self._video_asked(model, video) == first
        assert self._video_asked(model, _frames(str(copy), video.nframes or 4)) == first

    @pytest.mark.parametrize("nframes", [1, 4])
    def test_nframes_gives_that_many_frames(
        self, model: vlmi.Model[Any], clip: str, received: list[Any], nframes: int
    ) -> None:
        self._needs_video(model)
        assert isinstance(self._video_asked(model, _frames(clip, nframes)), str)
        part = self._received_video(received)
        assert len(part.frames) == self._frames_for(model, nframes)

    def test_max_frames_caps_a_video(
        self, model: vlmi.Model[Any], clip: str, received: list[Any]
    ) -> None:
        self._needs_video(model)
        limit = model.max_frames
        if limit is None:
            pytest.skip(f"{model.name} declares no frame limit (ModelSpec.max_frames)")
        if limit + 1 > CLIP_FRAMES:
            pytest.skip(f"{model.name} takes {limit} frames, more than the kit's clip holds")
        self._video_asked(model, _frames(clip, limit + 1))
        assert len(self._received_video(received).frames) == limit

    def test_batch_with_videos_matches_one_at_a_time(
        self, model: vlmi.Model[Any], clip: str, tmp_path: Path
    ) -> None:
        self._needs_video(model)
        samples: list[Any] = [
            {"query": self.question, "videos": clip},
            "Name a colour.",
            {"query": self.question, "videos": str(tmp_path / "missing.mp4")},
            {"query": self.question, "videos": _frames(clip, 2)},
        ]
        results = model.eval_batch(samples, max_new_tokens=8)
        assert isinstance(results[2], errors.VideoNotFoundError), results[2]
        assert results[2].sample_index == 2
        good = [0, 1, 3]
        assert all(isinstance(results[i], str) for i in good), results
        if self.batch_matches_single:
            singles = [model.eval_batch([samples[i]], max_new_tokens=8)[0] for i in good]
            assert singles == [results[i] for i in good]

    def test_video_is_refused_without_video(
        self, model: vlmi.Model[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if model.video:
            pytest.skip(f"{model.name} takes video ({model.video})")
        calls = engine_calls(model, monkeypatch)
        video = str(tmp_path / "clip.mp4")  # refused before it is read
        with pytest.raises(errors.VideoNotSupportedError, match="does not take video"):
            self._video_asked(model, video)
        assert calls == []
        results = model.eval_batch(
            [{"query": self.question, "videos": video}, "Name a colour."], max_new_tokens=8
        )
        assert isinstance(results[0], errors.VideoNotSupportedError), results[0]
        assert isinstance(results[1], str), results[1]


__all__ = [
    "CLIP_FPS",
    "CLIP_FRAMES",
    "CLIP_SIZE",
    "VideoConformance",
    "engine_calls",
    "write_test_clip",
]
