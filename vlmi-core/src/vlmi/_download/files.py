"""Which files of a weights repository an engine reads.

A repository often holds more than one engine needs: the same weights in
other formats (``.bin``, ``.gguf``, ``.onnx``, ``.h5``), pictures for its
model card, training logs. Only the files matching the model's
``ModelSpec.weights_files`` globs are fetched, or, when a plugin declares
none, :data:`DEFAULT_FILES`. Globs are :mod:`fnmatch` patterns over paths in
the repository (``*`` also matches ``/``), as the hubs' own clients apply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from .._spec import ModelSpec

#: config, tokenizer, processor and chat template files, remote code, safetensors weights
DEFAULT_FILES: tuple[str, ...] = (
    "*.json",
    "*.safetensors",
    "*.py",
    "*.txt",
    "*.model",
    "*.tiktoken",
    "*.jinja",
)

#: PyTorch pickles: fetched with the default globs only when a repository has no safetensors
FALLBACK_WEIGHTS: tuple[str, ...] = ("*.bin",)


def patterns_for(spec: ModelSpec | None) -> tuple[str, ...]:
    """The globs of the files ``spec``'s engine reads."""
    declared = tuple(getattr(spec, "weights_files", ()) or ())
    return declared or DEFAULT_FILES


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Whether a repository path matches one of the globs."""
    return any(fnmatchcase(path, pattern) for pattern in patterns)


def choose(
    listing: Mapping[str, int], patterns: tuple[str, ...]
) -> tuple[tuple[str, ...], dict[str, int]]:
    """The globs to fetch with and the files (path -> bytes) they select from ``listing``.

    With the default globs, a repository without ``.safetensors`` weights gets
    its ``.bin`` weights instead.
    """
    if patterns == DEFAULT_FILES and not any(p.endswith(".safetensors") for p in listing):
        patterns = patterns + FALLBACK_WEIGHTS
    selected = {path: size for path, size in sorted(listing.items()) if matches(path, patterns)}
    return patterns, selected


__all__ = ["DEFAULT_FILES", "FALLBACK_WEIGHTS", "choose", "matches", "patterns_for"]
