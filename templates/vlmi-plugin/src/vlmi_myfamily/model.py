"""The model class: engine options, engine start-up, and the one method that answers."""

from __future__ import annotations

from dataclasses import dataclass

from vlmi.plugin import EngineOptions, GenerationOptions, ImagePart, Model, Sample


@dataclass(frozen=True)
class MyFamilyOptions(EngineOptions):
    """Engine options, accepted by vlmi.load(..., name=value); anything else is rejected."""

    tensor_parallel_size: int = 1


class MyFamilyModel(Model):
    Options = MyFamilyOptions

    def setup(self) -> None:
        # Import the engine here, never at module level, and start it, e.g.:
        #   from vlmi._weights import resolve_weights
        #   path = resolve_weights(self.spec, self.options.weights)
        #   import my_engine
        #   self.engine = my_engine.Engine(path, tp=self.options.engine.tensor_parallel_size)
        self.engine = None

    def generate(self, sample: Sample, generation: GenerationOptions) -> str:
        # sample.parts holds TextPart and ImagePart (image = RGB PIL) in order. Build the
        # model's prompt, call the engine with max_new_tokens, temperature, ... mapped onto
        # its own parameters, and return the text. This placeholder describes its input.
        sizes = [
            f"{p.image.width}x{p.image.height}" for p in sample.parts if isinstance(p, ImagePart)
        ]
        words = f"{len(sizes)} image(s) {' '.join(sizes)} question: {sample.text}".split()
        return " ".join(words[: generation.max_new_tokens])

    # For an engine that batches, override generate_batch(samples, generations) with one
    # engine call for the whole list, returning a str or an exception per sample, in order.
