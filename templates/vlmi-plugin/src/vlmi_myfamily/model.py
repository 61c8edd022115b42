"""The model class: engine options, engine start-up, and the one method that answers."""

from __future__ import annotations

from dataclasses import dataclass

from vlmi.plugin import EngineOptions, GenerationOptions, Model, Sample
from vlmi_myfamily.engine_config import engine_params
from vlmi_myfamily.prompts import build_prompt


@dataclass(frozen=True)
class MyFamilyOptions(EngineOptions):
    """Engine options, accepted by vlmi.load(..., name=value); anything else is rejected."""

    tensor_parallel_size: int = 1


class MyFamilyModel(Model[MyFamilyOptions]):
    """One answer per ``generate`` call. An engine that batches subclasses ``BatchedModel``."""

    Options = MyFamilyOptions

    def setup(self) -> None:
        """Find the weights and start the engine (import it here, never at module level)."""
        # from vlmi.plugin import resolve_weights
        # folder = resolve_weights(self.spec, self.options.weights)   # local folder or download
        # import my_engine
        # self.engine = my_engine.Engine(folder, tp=self.engine_options.tensor_parallel_size)
        self.engine = None

    def generate(self, sample: Sample, generation: GenerationOptions) -> str:
        """Answer one checked sample whose images are decoded RGB PIL images."""
        prompt = build_prompt(sample)
        params = engine_params(generation)
        # return self.engine.generate(prompt, **params)   # the real call
        words = prompt.replace("\n", " ").split()  # this placeholder echoes the prompt
        return generation.cut_at_stop(" ".join(words[: params["max_tokens"]]))


__all__ = ["MyFamilyModel", "MyFamilyOptions"]
