"""The one warning both hubs give when the files come from the cache for want of a network."""

from __future__ import annotations

import warnings
from pathlib import Path


def warn_cached(endpoint: str, exc: BaseException, repo: str, folder: Path) -> None:
    """Say that ``repo`` is read from ``folder`` because ``endpoint`` could not be reached."""
    warnings.warn(
        f"cannot reach {endpoint} ({type(exc).__name__}): using the cached copy of {repo!r} "
        f"in {folder}, as last downloaded (set HF_HUB_OFFLINE=1 to skip the network)",
        stacklevel=2,
    )


__all__ = ["warn_cached"]
