"""Model weights from Hugging Face (or a mirror of it) and ModelScope: ``vlmi download``.

- :mod:`.target`: what a name means (the model's spec, its weights id per hub,
  its revision, the files its engine reads); a hub id nobody registered is
  claimed from its ``config.json`` alone, through the plugins' ``resolve_model``.
- :mod:`.fetching`: the download through the hub's own client, the checks
  before it (a writable target) and the summary after it.
- :mod:`.huggingface`, :mod:`.modelscope`: one module per hub client, each
  imported only when used; their errors become :class:`vlmi.errors.WeightsNotFoundError`
  (or :class:`vlmi.errors.MissingDependencyError` naming what to install). When
  the hub cannot be reached they read the cache and say so (:mod:`.cached`).
- :mod:`.cli`: the ``vlmi download`` command.
"""

from __future__ import annotations

from .fetching import Fetched, fetch, list_selected
from .files import DEFAULT_FILES, patterns_for
from .target import Target, resolve_target

__all__ = [
    "DEFAULT_FILES",
    "Fetched",
    "Target",
    "fetch",
    "list_selected",
    "patterns_for",
    "resolve_target",
]
