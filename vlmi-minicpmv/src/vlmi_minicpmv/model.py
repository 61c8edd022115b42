"""MiniCPM-V through vLLM: the engine integration is not in this release yet.

The models are registered (``vlmi models`` lists them, with their weights ids)
so that names, aliases and limits are fixed; loading one says plainly that the
vLLM integration is still to come, rather than failing somewhere inside.
"""

from __future__ import annotations

from dataclasses import dataclass

import vlmi
from vlmi.errors import EngineUnavailableError
from vlmi.generation import GenerationOptions
from vlmi.sample import Sample

PENDING = (
    "vlmi-minicpmv {version} registers the MiniCPM-V models but cannot run them yet: its "
    "vLLM integration is not released. Watch the vlmi-minicpmv changelog, or run the model "
    "through another installed vlmi plugin."
)


@dataclass(frozen=True)
class MiniCPMVOptions(vlmi.EngineOptions):
    """vLLM engine options (accepted now so that scripts keep working when it lands)."""

    tensor_parallel_size: int = 1
    max_model_len: int = 8192
    gpu_memory_utilization: float = 0.9
    dtype: str = "auto"


class MiniCPMVModel(vlmi.Model):
    """Placeholder until the vLLM engine integration lands."""

    Options = MiniCPMVOptions

    def setup(self) -> None:
        raise _pending()

    def generate(self, sample: Sample, generation: GenerationOptions) -> str:
        raise _pending()


def _pending() -> EngineUnavailableError:
    from importlib.metadata import version

    return EngineUnavailableError(PENDING.format(version=version("vlmi-minicpmv")))
