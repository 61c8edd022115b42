"""The parrot model: answers ``parrot: <the query's words>``."""

from __future__ import annotations

from vlmi.plugin import EngineOptions, GenerationOptions, Model, Sample


class ParrotModel(Model[EngineOptions]):
    """Repeats the text of its input after its plugin's name."""

    def generate(self, sample: Sample, generation: GenerationOptions) -> str:
        return generation.cut_at_stop(f"parrot: {sample.text}".strip())
