"""One input record of a run: an id, the sample's fields, or the error that made it unreadable.

Readers (:mod:`vlmi._run.inputs`, :mod:`vlmi._vlmevalkit.rows`) make them;
executors answer them; :mod:`vlmi._run.output` writes one output record each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vlmi.errors import VlmiError


@dataclass
class Record:
    """One input record: its id and sample fields, or the error that made it unreadable.

    ``fields`` holds what the sample is made from: a JSON object's keys, or
    ``{"sample": Sample}`` / ``{"item": anything eval_batch takes}``.
    """

    id: str
    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    error: VlmiError | None = None
    prompt_style: str = "as-given"

    @property
    def item(self) -> Any:
        """What ``eval_batch`` would take for this record (a dict, a Sample, a string...)."""
        return self.fields.get("sample", self.fields.get("item", self.fields))


__all__ = ["Record"]
