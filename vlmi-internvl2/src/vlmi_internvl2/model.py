"""InternVL2 through LMDeploy: the engine integration is not in this release yet.

The models are registered (``vlmi models`` lists them, with their weights ids)
so that names, aliases and limits are fixed; loading one says plainly that the
LMDeploy integration is still to come, rather than failing somewhere inside.
"""

from __future__ import annotations

from dataclasses import dataclass

import vlmi
from vlmi.errors import EngineUnavailableError
from vlmi.generation import GenerationOptions
from vlmi.sample import Sample

PENDING = (
    "vlmi-internvl2 {version} registers the InternVL2 models but cannot run them yet: its "
    "LMDeploy integration is not released. Watch the vlmi-internvl2 changelog, or run the "
    "model through another installed vlmi plugin."
)


@dataclass(frozen=True)
class InternVL2Options(vlmi.EngineOptions):
    """LMDeploy engine options (accepted now so that scripts keep working when it lands)."""

    backend: str = "turbomind"
    tp: int = 1
    session_len: int | None = None
    cache_max_entry_count: float = 0.8
    vision_max_batch_size: int = 8
    max_dynamic_patch: int = 12


class InternVL2Model(vlmi.Model):
    """Placeholder until the LMDeploy engine integration lands."""

    Options = InternVL2Options

    def setup(self) -> None:
        raise _pending()

    def generate(self, sample: Sample, generation: GenerationOptions) -> str:
        raise _pending()


def _pending() -> EngineUnavailableError:
    from importlib.metadata import version

    return EngineUnavailableError(PENDING.format(version=version("vlmi-internvl2")))
