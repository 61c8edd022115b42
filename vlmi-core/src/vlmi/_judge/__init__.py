"""An LLM judge for scoring: any vlmi model, its answers cached on disk and audited.

- :mod:`.spec`: which model judges (:class:`JudgeSpec`) and its identity;
- :mod:`.cache`: the judge's answers on disk, keyed by identity, prompt and sampling;
- :mod:`.runner`: per-row procedures (generators that yield judge requests) run
  round by round, each round's requests sent concurrently.
"""

from __future__ import annotations
