"""``vlmi models --json``, ``vlmi models --resolve NAME --json`` and ``vlmi plugins --json``.

What an environment provides, and which model a name gives there. The field
names are stable (documented in :data:`MODEL_FIELDS`, :data:`RESOLVE_FIELDS`
and :data:`PLUGIN_FIELDS`); ``format`` grows only when one changes meaning, so
tools such as ``vlmi compare`` can read another environment's listing
without importing vlmi.
"""

from __future__ import annotations

from typing import Any

from ._provenance import engine_version
from ._registry import Registry
from ._spec import ModelSpec

FORMAT = 1

#: one entry of ``models`` in ``vlmi models --json``: field -> meaning
MODEL_FIELDS: dict[str, str] = {
    "name": "canonical model name (what vlmi.load and `vlmi run` take)",
    "aliases": "other names of the same model (list of strings)",
    "plugin": "the distribution that provides it",
    "plugin_version": "that distribution's version",
    "entry_point": "the plugin's entry-point name (group vlmi)",
    "engine": "the inference engine, e.g. transformers, vllm, lmdeploy",
    "engine_version": "the installed engine's version, or null when not installed",
    "default": "true when the name alone (no plugin=) loads this provider",
    "generic": "true for an engine plugin serving many architectures, false for a family plugin",
    "preference": "the provider's declared preference (integer; higher wins among equals)",
    "family": "the model family",
    "weights": "default weights per hub: {huggingface: id, modelscope: id}",
    "max_images": "most images one sample may hold, or null for no limit",
    "video": "how it takes video: native (a clip with timestamps), frames (as images), or null",
    "max_frames": "most frames one video may give it, or null for no limit",
    "video_sampling": "its default video sampling (rule, nframes or fps, ...)",
    "description": "one line for people",
    "needs_gpu": "true when the model runs on a GPU of this machine (false: an API, the CPU)",
}

#: ``vlmi models --resolve NAME --json``: field -> meaning (the model ``vlmi.load`` would give)
RESOLVE_FIELDS: dict[str, str] = {
    "name": "canonical model name of what the name resolves to",
    "given": "the name as given (a name, alias, hub id or folder)",
    "plugin": "the distribution that serves it",
    "plugin_version": "that distribution's version",
    "engine": "the inference engine",
    "engine_version": "the installed engine's version, or null when not installed",
    "needs_gpu": "true when the model runs on a GPU of this machine (false: an API, the CPU)",
    "family": "the model family",
    "weights": "default weights per hub: {huggingface: id, modelscope: id}",
}

#: ``error`` of ``vlmi models --resolve NAME --json`` when the name does not resolve
RESOLVE_ERROR_FIELDS: dict[str, str] = {
    "type": "the vlmi.errors class, e.g. UnknownModelError, InvalidOptionError, PluginError",
    "message": "what is wrong and the fix, as `vlmi run` would say it",
    "install": "distributions to install here for it (list; empty when none is known)",
}

#: one entry of ``plugins`` in ``vlmi plugins --json``: field -> meaning
PLUGIN_FIELDS: dict[str, str] = {
    "distribution": "the plugin's distribution name",
    "version": "its version",
    "entry_point": "its entry-point name (group vlmi)",
    "status": "loaded, disabled (VLMI_DISABLE_PLUGINS / VLMI_LOAD_PLUGINS) or error",
    "models": "how many model names it registers",
    "engines": "the engines of its models, each with its installed version or null",
}

#: one entry of ``errors`` in ``vlmi plugins --json``
ERROR_FIELDS: dict[str, str] = {
    "distribution": "the failing plugin's distribution",
    "entry_point": "its entry-point name",
    "stage": "import, validate or register",
    "error": "the exception, one line",
    "details": "the end of its traceback",
}


def model_entry(registry: Registry, spec: ModelSpec) -> dict[str, Any]:
    """One provider of one name, as ``vlmi models --json`` lists it."""
    plugin = spec.plugin
    return {
        "name": spec.name,
        "aliases": list(spec.aliases),
        "plugin": plugin.distribution if plugin else None,
        "plugin_version": plugin.version if plugin else None,
        "entry_point": plugin.entry_point if plugin else None,
        "engine": spec.engine,
        "engine_version": engine_version(spec),
        "default": registry.is_default(spec),
        "generic": spec.generic,
        "preference": spec.preference,
        "family": spec.family,
        "weights": dict(spec.weights),
        "max_images": spec.max_images,
        "video": spec.video,
        "max_frames": spec.max_frames,
        "video_sampling": dict(spec.video_sampling),
        "description": spec.description,
        "needs_gpu": spec.needs_gpu,
    }


def resolution(spec: ModelSpec, given: str) -> dict[str, Any]:
    """``vlmi models --resolve`` for a name that resolved to ``spec``."""
    from vlmi import __version__

    plugin = spec.plugin
    return {
        "format": FORMAT,
        "vlmi_version": __version__,
        "name": spec.name,
        "given": given,
        "plugin": plugin.distribution if plugin else None,
        "plugin_version": plugin.version if plugin else None,
        "engine": spec.engine,
        "engine_version": engine_version(spec),
        "needs_gpu": spec.needs_gpu,
        "family": spec.family,
        "weights": dict(spec.weights),
    }


def resolution_error(error: Exception, install: list[str]) -> dict[str, Any]:
    """``vlmi models --resolve`` for a name that does not resolve."""
    from vlmi import __version__

    return {
        "format": FORMAT,
        "vlmi_version": __version__,
        "error": {"type": type(error).__name__, "message": str(error), "install": install},
    }


def conflicts(registry: Registry) -> dict[str, list[str]]:
    """Names no rule decides: name -> the distributions claiming it."""
    return {
        name: [s.plugin.distribution if s.plugin else "?" for s in specs]
        for name, specs in sorted(registry.conflicts.items())
    }


def models_listing(registry: Registry) -> dict[str, Any]:
    """``vlmi models --json``: every name once per providing plugin."""
    from vlmi import __version__

    return {
        "format": FORMAT,
        "vlmi_version": __version__,
        "models": [model_entry(registry, spec) for spec in registry.models()],
        "conflicts": conflicts(registry),
    }


def plugins_listing(registry: Registry) -> dict[str, Any]:
    """``vlmi plugins --json``: loaded, disabled and failed plugins, with their engines."""
    from vlmi import __version__

    plugins = registry.plugins
    specs_of: dict[str, list[ModelSpec]] = {}
    for spec in registry.specs:
        if spec.plugin:
            specs_of.setdefault(spec.plugin.entry_point, []).append(spec)
    failed = {f.entry_point for f in plugins.failures}
    records: list[dict[str, Any]] = []
    for name, info in sorted(plugins.loaded.items()):
        specs = specs_of.get(name, [])
        engines = {s.engine: engine_version(s) for s in specs}
        records.append(
            _plugin(info.distribution, info.version, name, "error" if name in failed else "loaded")
            | {"models": len({s.name for s in specs}), "engines": engines}
        )
    for info in sorted(plugins.skipped.values(), key=lambda i: (i.entry_point, i.distribution)):
        records.append(_plugin(info.distribution, info.version, info.entry_point, "disabled"))
    for failure in plugins.failures:
        if failure.entry_point not in plugins.loaded:
            records.append(
                _plugin(failure.distribution, failure.version, failure.entry_point, "error")
            )
    errors = [
        {
            "distribution": f.distribution,
            "entry_point": f.entry_point,
            "stage": f.stage,
            "error": f.error,
            "details": f.details,
        }
        for f in plugins.failures
    ]
    return {
        "format": FORMAT,
        "vlmi_version": __version__,
        "plugins": records,
        "errors": errors,
        "conflicts": conflicts(registry),
    }


def _plugin(distribution: str, version: str, entry_point: str, status: str) -> dict[str, Any]:
    return {
        "distribution": distribution,
        "version": version,
        "entry_point": entry_point,
        "status": status,
        "models": 0,
        "engines": {},
    }


__all__ = [
    "ERROR_FIELDS",
    "FORMAT",
    "MODEL_FIELDS",
    "PLUGIN_FIELDS",
    "RESOLVE_ERROR_FIELDS",
    "RESOLVE_FIELDS",
    "conflicts",
    "model_entry",
    "models_listing",
    "plugins_listing",
    "resolution",
    "resolution_error",
]
