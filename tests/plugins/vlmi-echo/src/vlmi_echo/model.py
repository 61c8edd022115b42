"""The echo model: a deterministic stand-in engine for tests and benchmarks."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from vlmi.plugin import EngineOptions, GenerationOptions, ImagePart, Model, Sample


@dataclass(frozen=True)
class EchoOptions(EngineOptions):
    """latency: seconds slept per engine call; fail_on: text that makes generation fail."""

    latency: float = 0.0
    fail_on: str | None = None


class EchoModel(Model):
    """Answers with the words of its input; each image becomes ``<image:WxH:digest>``."""

    Options = EchoOptions

    def setup(self) -> None:
        self.batch_sizes: list[int] = []

    def generate(self, sample: Sample, generation: GenerationOptions) -> str:
        options = self.options.engine
        assert isinstance(options, EchoOptions)
        if options.fail_on and options.fail_on in sample.text:
            raise RuntimeError(f"engine failure on {options.fail_on!r}")
        words: list[str] = []
        for part in sample.parts:
            if isinstance(part, ImagePart):
                img = part.image
                digest = hashlib.sha1(img.tobytes()).hexdigest()[:8]
                words.append(f"<image:{img.width}x{img.height}:{digest}>")
            else:
                words.extend(part.text.split())
        if not generation.greedy:
            random.Random(generation.seed).shuffle(words)
        answer = " ".join(words[: generation.max_new_tokens])
        for stop in generation.stop:
            answer = answer.split(stop, 1)[0]
        return answer

    def generate_batch(
        self, samples: Sequence[Sample], generations: Sequence[GenerationOptions]
    ) -> list[str | BaseException]:
        self.batch_sizes.append(len(samples))
        options = self.options.engine
        assert isinstance(options, EchoOptions)
        if options.latency:
            time.sleep(options.latency)
        return super().generate_batch(samples, generations)
