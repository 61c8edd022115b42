"""The echo model: a deterministic stand-in engine for tests and benchmarks.

``VLMI_ECHO_OUTAGE`` makes its engine fail as real ones do, for the tests of
what a run does then: ``dead@N`` the engine dies after answering N samples in
this process (every later call raises :class:`EchoEngineDead`, mapped to
``EngineGoneError``), ``refused@N`` its "server" refuses connections after N
samples (``ConnectionRefusedError``, mapped to ``EngineConnectionError``).
"""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vlmi.errors import EngineConnectionError, EngineGoneError, VlmiError
from vlmi.plugin import (
    EngineOptions,
    GenerationOptions,
    ImagePart,
    Model,
    Sample,
    Video,
    VideoPart,
    VideoSampling,
    load_video,
)

OUTAGE_VARIABLE = "VLMI_ECHO_OUTAGE"


class EchoEngineDead(RuntimeError):
    """The echo engine's process is gone (as vLLM's ``EngineDeadError``)."""


@dataclass(frozen=True)
class EchoOptions(EngineOptions):
    """latency: seconds slept per engine call; fail_on: text that makes generation fail;
    chunk: the model's ``preferred_batch_size`` (a run's chunk when it is given none).

    ``ignore_max_new_tokens``, ``reverse_images``, ``ignore_stop``, ``ignore_seed``,
    ``unmapped_errors`` and ``ignore_max_frames`` make a deliberately wrong model, for the tests that show the
    conformance kit catches one.
    """

    latency: float = 0.0
    fail_on: str | None = None
    ignore_max_new_tokens: bool = False
    reverse_images: bool = False
    ignore_stop: bool = False
    ignore_seed: bool = False
    unmapped_errors: bool = False
    ignore_max_frames: bool = False
    chunk: int = 8


#: the painted code of vlmi_testkit.clips: bits per row
CODE_BITS = 12


def frame_code(image: Any) -> int | None:
    """The index painted on a frame by ``vlmi_testkit.clips`` (``None``: no such code).

    Two rows of 12 blocks: the index in binary (white = 1), then its complement.
    """
    from PIL import ImageStat

    grey = image.convert("L")
    block, row = grey.width // CODE_BITS, grey.height // 3
    rows = []
    for top in (0, row * 2):
        bits = 0
        for bit in range(CODE_BITS):
            box = (
                bit * block + block // 4,
                top + row // 4,
                (bit + 1) * block - block // 4,
                top + row - row // 4,
            )
            bits = bits << 1 | (ImageStat.Stat(grey.crop(box)).mean[0] > 128)
        rows.append(bits)
    return rows[0] if rows[0] ^ rows[1] == 2**CODE_BITS - 1 else None


def _shown(image: Any) -> str:
    code = frame_code(image)
    return str(code) if code is not None else hashlib.sha1(image.tobytes()).hexdigest()[:8]


class EchoModel(Model[EchoOptions]):
    """Answers with the words of its input; each image becomes ``<image:WxH:digest>``.

    Each video becomes ``<video:N:WxH:f1,f2,...>``: its frame count, size, and each
    frame's painted index (``vlmi_testkit.clips``), or its digest where none is painted.
    """

    Options = EchoOptions

    @property
    def preferred_batch_size(self) -> int:
        return self.engine_options.chunk

    def setup(self) -> None:
        self.batch_sizes: list[int] = []
        self.answered = 0
        kind, _, after = os.environ.get(OUTAGE_VARIABLE, "").partition("@")
        self.outage = (kind, int(after or 0)) if kind in ("dead", "refused") else None

    def load_video(self, video: Video) -> tuple[tuple[Any, ...], VideoSampling]:
        """The sampled frames; with ``ignore_max_frames``, past the model's frame limit."""
        if not self.engine_options.ignore_max_frames:
            return super().load_video(video)
        return load_video(video, default=self.video_sampling)

    def map_error(self, exc: BaseException) -> VlmiError | None:
        """The echo engine's own failures as vlmi's failures of the moment."""
        if self.engine_options.unmapped_errors:
            return None
        if isinstance(exc, EchoEngineDead):
            return EngineGoneError(f"{self.name}: the echo engine is gone ({exc})")
        if isinstance(exc, ConnectionRefusedError):
            return EngineConnectionError(f"{self.name}: the echo server refused ({exc})")
        return None

    def generate(self, sample: Sample, generation: GenerationOptions) -> str:
        self._check_outage()
        self.answered += 1
        options = self.engine_options
        if options.fail_on and options.fail_on in sample.text:
            raise RuntimeError(f"engine failure on {options.fail_on!r}")
        words: list[str] = []
        for part in sample.parts:
            if isinstance(part, ImagePart):
                img = part.image
                digest = hashlib.sha1(img.tobytes()).hexdigest()[:8]
                words.append(f"<image:{img.width}x{img.height}:{digest}>")
            elif isinstance(part, VideoPart):
                frames = part.frames or ()
                size = f"{frames[0].width}x{frames[0].height}" if frames else "0x0"
                codes = ",".join(_shown(frame) for frame in frames)
                words.append(f"<video:{len(frames)}:{size}:{codes}>")
            else:
                words.extend(part.text.split())
        if options.reverse_images:
            shown = iter(reversed([w for w in words if w.startswith("<image:")]))
            words = [next(shown) if w.startswith("<image:") else w for w in words]
        if not generation.greedy:
            random.Random(None if options.ignore_seed else generation.seed).shuffle(words)
        limit = None if options.ignore_max_new_tokens else generation.max_new_tokens
        answer = " ".join(words[:limit])
        return answer if options.ignore_stop else generation.cut_at_stop(answer)

    def generate_batch(
        self, samples: Sequence[Sample], generations: Sequence[GenerationOptions]
    ) -> list[str | BaseException]:
        self.batch_sizes.append(len(samples))
        if self.engine_options.latency:
            time.sleep(self.engine_options.latency)
        self._check_outage()  # the whole call fails, as an engine's does
        return super().generate_batch(samples, generations)

    def _check_outage(self) -> None:
        if self.outage is not None and self.answered >= self.outage[1]:
            if self.outage[0] == "dead":
                raise EchoEngineDead("engine process exited")
            raise ConnectionRefusedError(111, "Connection refused")
