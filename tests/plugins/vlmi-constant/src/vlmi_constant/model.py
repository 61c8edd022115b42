"""The constant model: one fixed answer, whatever it is asked."""

from __future__ import annotations

from dataclasses import dataclass

from vlmi.plugin import EngineOptions, GenerationOptions, Model, Sample


@dataclass(frozen=True)
class ConstantOptions(EngineOptions):
    """answer: the text every sample gets."""

    answer: str = "A yes"


class ConstantModel(Model[ConstantOptions]):
    """Answers every sample with ``answer``."""

    Options = ConstantOptions

    def generate(self, sample: Sample, generation: GenerationOptions) -> str:
        return self.engine_options.answer
