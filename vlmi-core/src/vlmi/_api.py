"""``vlmi.load`` and ``vlmi.list_models``: the entry points of the public API."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vlmi.errors import InvalidOptionError, PluginError

from ._model import Model
from ._options import parse_load_options
from ._provenance import engine_version
from ._registry import get_registry
from ._spec import ModelSpec


@dataclass(frozen=True)
class ModelInfo:
    """One row of ``vlmi.list_models()``."""

    name: str
    aliases: tuple[str, ...]
    family: str
    engine: str
    weights: dict[str, str]
    max_images: int | None
    distribution: str
    version: str
    description: str
    #: whether the name alone loads this provider (several plugins may provide one name)
    default: bool = True
    engine_version: str | None = None
    generic: bool = False
    preference: int = 0
    #: how it takes video: "native", "frames" or None (see ``ModelSpec.video``)
    video: str | None = None
    max_frames: int | None = None

    @classmethod
    def from_spec(cls, spec: ModelSpec, default: bool = True) -> ModelInfo:
        """Build the row from a registered spec."""
        plugin = spec.plugin
        return cls(
            name=spec.name,
            aliases=spec.aliases,
            family=spec.family,
            engine=spec.engine,
            weights=dict(spec.weights),
            max_images=spec.max_images,
            distribution=plugin.distribution if plugin else "?",
            version=plugin.version if plugin else "?",
            description=spec.description,
            default=default,
            engine_version=engine_version(spec),
            generic=spec.generic,
            preference=spec.preference,
            video=spec.video,
            max_frames=spec.max_frames,
        )

    @property
    def default_weights(self) -> str | None:
        """The Hugging Face id (or the first hub's id) loaded by default."""
        return self.weights.get("huggingface") or next(iter(self.weights.values()), None)


def list_models() -> list[ModelInfo]:
    """Every registered model once per plugin that provides it; imports no engine."""
    registry = get_registry()
    return [ModelInfo.from_spec(spec, registry.is_default(spec)) for spec in registry.models()]


def spec_for(name: str, options: Mapping[str, Any]) -> tuple[ModelSpec, dict[str, Any]]:
    """The spec ``vlmi.load(name, **options)`` uses, and the options without ``plugin``."""
    rest = dict(options)
    plugin = rest.pop("plugin", None)
    if plugin is not None and not isinstance(plugin, str):
        raise InvalidOptionError(f"plugin must be a distribution name, got {plugin!r}")
    hub, revision = rest.get("hub"), rest.get("revision")
    spec = get_registry().resolve(
        name,
        plugin=plugin,
        hub=hub if isinstance(hub, str) else None,
        revision=revision if isinstance(revision, str) else None,
    )
    return spec, rest


def load(name: str, plugin: str | None = None, **options: Any) -> Model[Any]:
    """Load a model by name or alias.

    :param name: a registered name or alias (``vlmi models`` lists them), or a
        name a plugin resolves (a hub id or a local folder, claimed by its
        ``config.json``).
    :param plugin: the distribution that must serve it (e.g. ``"vlmi-vllm"``), when
        several plugins provide the name; by default the one ``vlmi models`` marks.
    :param options: ``model_path``, ``hub``, ``revision``; the model's engine
        options; default generation options. An unknown one raises
        :class:`vlmi.errors.InvalidOptionError` listing the accepted names.
    """
    model = describe_model(name, plugin=plugin, **options)
    model.setup()
    return model


def describe_model(name: str, plugin: str | None = None, **options: Any) -> Model[Any]:
    """The model ``load(name, plugin, **options)`` gives, its options checked, but not set up.

    No weights are read and no engine starts: enough to parse samples, load
    their images and record the model's options (a run's driver uses it when
    the model answers elsewhere).
    """
    if plugin is not None:
        options["plugin"] = plugin
    spec, options = spec_for(name, options)
    cls = model_class(spec)
    return cls(spec, parse_load_options(spec.name, cls.Options, options, spec.defaults))


def model_class(spec: ModelSpec) -> type[Model[Any]]:
    """Import the :class:`Model` subclass named by ``spec.factory``."""
    module_name, _, attr = spec.factory.partition(":")
    owner = spec.plugin.distribution if spec.plugin else "its plugin"
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, attr)
    except ImportError as exc:
        raise PluginError(
            f"model {spec.name!r} from {owner} cannot be loaded: importing {module_name!r} "
            f"failed ({exc}); reinstall {owner} and its engine in this environment"
        ) from exc
    except AttributeError:
        raise PluginError(
            f"model {spec.name!r}: {module_name!r} has no {attr!r} ({owner} is broken)"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise PluginError(f"{spec.factory} is not a vlmi.Model subclass (plugin bug)")
    return cls


__all__ = ["ModelInfo", "describe_model", "list_models", "load", "model_class", "spec_for"]
