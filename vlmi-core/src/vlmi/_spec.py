"""Model specs: the cheap, declarative data a plugin registers for each model."""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vlmi.errors import PluginError

if TYPE_CHECKING:
    from ._model import Model

HUBS = ("huggingface", "modelscope")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._\-]*$")


@dataclass(frozen=True)
class PluginInfo:
    """Which distribution registered a model."""

    entry_point: str
    distribution: str
    version: str


@dataclass(frozen=True)
class ModelSpec:
    """One model a plugin provides.

    :param name: the canonical name users pass to ``vlmi.load`` (lower case).
    :param factory: ``"module:ClassName"`` of the :class:`vlmi.Model` subclass;
        imported only when the model is loaded.
    :param family: model family, e.g. ``"internvl2"``.
    :param engine: inference engine, e.g. ``"lmdeploy"``.
    :param weights: default weights per hub, e.g.
        ``{"huggingface": "OpenGVLab/InternVL2-8B", "modelscope": "..."}``.
    :param aliases: other names that resolve to this model.
    :param max_images: most images one sample may hold (None = no limit).
    :param images_first: where ``eval(query, imgs)`` puts the images.
    :param defaults: per-model defaults for load options (engine or generation).
    :param description: one line for ``vlmi models``.
    :param weights_files: globs (:mod:`fnmatch`, over paths in the weights
        repository) of the files the engine reads; ``vlmi download`` and
        ``vlmi.load`` fetch only these. Empty: vlmi's default (config,
        tokenizer, processor and chat-template files, remote code, safetensors
        weights, or ``.bin`` weights where a repository has no safetensors).
    """

    name: str
    factory: str
    family: str
    engine: str
    weights: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    max_images: int | None = None
    images_first: bool = True
    defaults: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    plugin: PluginInfo | None = None
    weights_files: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for label in (self.name, *self.aliases):
            if not _NAME_RE.match(label):
                raise PluginError(
                    f"model name {label!r} is not valid: use lower-case letters, digits, '.', "
                    "'_' and '-'"
                )
        if ":" not in self.factory:
            raise PluginError(
                f"model {self.name!r}: factory {self.factory!r} must be 'module:ClassName'"
            )
        unknown_hubs = sorted(set(self.weights) - set(HUBS))
        if unknown_hubs:
            raise PluginError(f"model {self.name!r}: unknown hub(s) {unknown_hubs}; use {HUBS}")
        if self.max_images is not None and self.max_images < 0:
            raise PluginError(f"model {self.name!r}: max_images must be >= 0")

    @property
    def names(self) -> tuple[str, ...]:
        """The name followed by the aliases (each once)."""
        return tuple(dict.fromkeys((self.name, *self.aliases)))

    def load_factory(self) -> type[Model[Any]]:
        """Import the Model subclass named by ``factory``."""
        module_name, _, attr = self.factory.partition(":")
        owner = self.plugin.distribution if self.plugin else "its plugin"
        try:
            module = importlib.import_module(module_name)
            cls = getattr(module, attr)
        except ImportError as exc:
            raise PluginError(
                f"model {self.name!r} from {owner} cannot be loaded: importing {module_name!r} "
                f"failed ({exc}); reinstall {owner} and its engine in this environment"
            ) from exc
        except AttributeError:
            raise PluginError(
                f"model {self.name!r}: {module_name!r} has no {attr!r} ({owner} is broken)"
            ) from None
        return cls  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly description (for ``vlmi models --json``)."""
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "family": self.family,
            "engine": self.engine,
            "weights": dict(self.weights),
            "max_images": self.max_images,
            "description": self.description,
            "plugin": None
            if self.plugin is None
            else {
                "entry_point": self.plugin.entry_point,
                "distribution": self.plugin.distribution,
                "version": self.plugin.version,
            },
        }


__all__ = ["HUBS", "ModelSpec", "PluginInfo"]
