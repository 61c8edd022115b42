"""What vlmi knows about distributions it does not ship: one table, used only for messages.

When no installed plugin provides a model, a command or a flag, the error
names what to install. The core's code paths hold no plugin names; this
module does. Model patterns are :mod:`fnmatch` globs over the lower-cased
name (or the last part of a hub id); the first match wins, so narrower
patterns come first. A model row lists every (distribution, engine) that
serves it, in the order a user would pick; an empty tuple means "no plugin
known": say so instead of pointing at the wrong one.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

Provider = tuple[str, str]  # (distribution, engine)

_TRANSFORMERS: Provider = ("vlmi-transformers", "transformers")
_VLLM: Provider = ("vlmi-vllm", "vllm")

#: model glob -> the distributions that serve it, with their engine
MODELS: tuple[tuple[str, tuple[Provider, ...]], ...] = (
    ("openai:*", (("vlmi-openai", "openai"),)),
    ("gpt-4o*", (("vlmi-openai", "openai"),)),
    ("gpt-4.1*", (("vlmi-openai", "openai"),)),
    ("internvl3*-hf", (_TRANSFORMERS,)),
    ("internvl3*", (_VLLM,)),
    ("internvl2.5*", (_VLLM,)),
    ("internvl2_5*", (_VLLM,)),
    ("internvl2*", (("vlmi-internvl2", "lmdeploy"),)),
    ("minicpm-v-2.6*", (("vlmi-minicpmv", "vllm"), _VLLM)),
    ("minicpm-v-2_6*", (("vlmi-minicpmv", "vllm"), _VLLM)),
    ("minicpm-v*", (_VLLM,)),
    ("qwen2.5-vl*", (_TRANSFORMERS, _VLLM)),
    ("qwen2_5-vl*", (_TRANSFORMERS, _VLLM)),
    ("qwen3-vl*", (_TRANSFORMERS, _VLLM)),
    ("gemma-3*", (_TRANSFORMERS, _VLLM)),
    ("gemma3*", (_TRANSFORMERS, _VLLM)),
    ("glm-4.1v*", (_TRANSFORMERS, _VLLM)),
    ("glm4.1v*", (_TRANSFORMERS, _VLLM)),
    ("llava-onevision*", (_TRANSFORMERS, _VLLM)),
    ("ovis2.5*", (_VLLM,)),
    ("keye-vl*", (_VLLM,)),
    ("kimi-vl*", (_VLLM,)),
    ("mimo-vl*", (_VLLM,)),
    ("idefics3*", (_TRANSFORMERS,)),
    ("smolvlm*", (_TRANSFORMERS,)),
)

#: command -> the distribution that adds it
COMMANDS: dict[str, str] = {"serve": "vlmi-serve"}

#: ``vlmi run`` flag -> the distribution that adds it
FLAGS: dict[str, str] = {
    "--ray": "vlmi-ray",
    "--replicas": "vlmi-ray",
    "--gpus-per-replica": "vlmi-ray",
    "--runtime-env": "vlmi-ray",
    "--max-retries": "vlmi-ray",
}

#: executor name -> the distribution that adds it
EXECUTORS: dict[str, str] = {"ray": "vlmi-ray"}

#: the plugin that serves hub ids and local folders of Transformers-native models
OPEN_NAMES_PLUGIN = "vlmi-transformers"


def providers_of(name: str) -> tuple[Provider, ...] | None:
    """Who could serve a model: ``None`` when the table does not know the name."""
    key = name.strip().lower().rstrip("/")
    candidates = [key, key.rsplit("/", 1)[-1]]
    for pattern, providers in MODELS:
        if any(fnmatchcase(candidate, pattern) for candidate in candidates):
            return providers
    return None


def missing_plugin_hint(name: str) -> str | None:
    """A sentence naming what to install for ``name``, or None when the table does not know it."""
    providers = providers_of(name)
    if providers is None:
        return None
    if not providers:
        return f"No vlmi plugin is known to serve {name!r} yet."
    if len(providers) == 1:
        distribution, engine = providers[0]
        return f"It comes with the plugin {distribution} ({engine}): pip install {distribution}"
    choices = " or ".join(f"pip install {d} ({engine})" for d, engine in providers)
    return f"Plugins that serve it: {choices}."


def distribution_for_command(name: str) -> str | None:
    """The distribution that adds ``vlmi NAME``, if the table knows it."""
    return COMMANDS.get(name)


def distribution_for_flag(flag: str) -> str | None:
    """The distribution that adds a ``vlmi run`` flag (``--ray`` or ``--ray=ADDRESS``)."""
    return FLAGS.get(flag.split("=", 1)[0])


def distribution_for_executor(name: str) -> str | None:
    """The distribution that adds the executor ``name``."""
    return EXECUTORS.get(name)


__all__ = [
    "COMMANDS",
    "EXECUTORS",
    "FLAGS",
    "MODELS",
    "OPEN_NAMES_PLUGIN",
    "distribution_for_command",
    "distribution_for_executor",
    "distribution_for_flag",
    "missing_plugin_hint",
    "providers_of",
]
