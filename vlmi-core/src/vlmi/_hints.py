"""What vlmi knows about plugins it does not ship: one table, used only for messages.

When no installed plugin provides a model, the error names the distribution
to install. The core's code paths hold no plugin names; this table does.
Patterns are :mod:`fnmatch` globs over the lower-cased name (or the last part
of a hub id); the first match wins, so narrower patterns come first. A
distribution of ``None`` means "no plugin known": say so instead of
pointing at the wrong one.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

#: (glob, distribution that provides it or None)
MODEL_PLUGINS: tuple[tuple[str, str | None], ...] = (
    ("openai:*", "vlmi-openai"),
    ("gpt-4o*", "vlmi-openai"),
    ("gpt-4.1*", "vlmi-openai"),
    ("internvl2.5*", None),
    ("internvl2_5*", None),
    ("internvl3*", "vlmi-transformers"),
    ("internvl2*", "vlmi-internvl2"),
    ("minicpm-v*", "vlmi-minicpmv"),
    ("minicpmv*", "vlmi-minicpmv"),
    ("qwen2.5-vl*", "vlmi-transformers"),
    ("qwen2_5-vl*", "vlmi-transformers"),
    ("qwen3-vl*", "vlmi-transformers"),
    ("gemma-3*", "vlmi-transformers"),
    ("gemma3*", "vlmi-transformers"),
    ("glm-4.1v*", "vlmi-transformers"),
    ("glm4.1v*", "vlmi-transformers"),
    ("llava-onevision*", "vlmi-transformers"),
    ("idefics3*", "vlmi-transformers"),
    ("smolvlm*", "vlmi-transformers"),
)

#: the plugin that serves hub ids and local folders of Transformers-native models
OPEN_NAMES_PLUGIN = "vlmi-transformers"


def plugin_for(name: str) -> tuple[bool, str | None]:
    """``(known, distribution)`` for a model name: whether the table has it, and who serves it."""
    key = name.strip().lower().rstrip("/")
    candidates = [key, key.rsplit("/", 1)[-1]]
    for pattern, distribution in MODEL_PLUGINS:
        if any(fnmatchcase(candidate, pattern) for candidate in candidates):
            return True, distribution
    return False, None


def missing_plugin_hint(name: str) -> str | None:
    """A sentence naming what to install for ``name``, or None when the table does not know it."""
    known, distribution = plugin_for(name)
    if not known:
        return None
    if distribution is None:
        return f"No vlmi plugin is known to serve {name!r} yet."
    return f"It comes with the plugin {distribution}; install it with: pip install {distribution}"


__all__ = ["MODEL_PLUGINS", "OPEN_NAMES_PLUGIN", "missing_plugin_hint", "plugin_for"]
