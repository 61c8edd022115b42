"""Serve names nobody registered: a local checkpoint folder or a hub repo id.

vlmi reads the checkpoint's ``config.json`` before asking plugins (no weights
are fetched); this plugin claims it when the config names an architecture of
its static table (:mod:`vlmi_transformers.architectures`) and no remote code
(``auto_map``), so remote-code checkpoints such as InternVL2 or MiniCPM-V-2.6
stay free for the engine plugins. When another plugin claims the same
checkpoint, vlmi's choice rule decides (this plugin's specs are ``generic``).
Whether the installed Transformers supports the architecture is checked again
when the model is loaded (:func:`check_architecture`), with an error that says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vlmi.errors import UnknownModelError
from vlmi.plugin import ModelSpec, WeightsOptions, checkpoint_config, is_hub_id, weights_id
from vlmi_transformers.architectures import served_model_type, video_fields
from vlmi_transformers.catalog import ENGINE, FACTORY, FAMILY, curated_by_repo


def read_config(folder: Path) -> dict[str, Any] | None:
    """The folder's ``config.json`` as a dict, or None when missing or unreadable."""
    try:
        data = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _label(text: str) -> str:
    """A valid model name made from a folder name or repo id."""
    label = re.sub(r"[^a-z0-9._\-]+", "-", text.lower()).strip("-._")
    return label or "checkpoint"


def resolve(name: str, config: Mapping[str, Any] | None) -> ModelSpec | None:
    """A spec for a folder or hub id whose ``config`` names an architecture we serve."""
    model_type = served_model_type(config) if config is not None else None
    if model_type is None:
        return None
    folder = Path(name).expanduser()
    if folder.is_dir():
        folder = folder.resolve()
        return ModelSpec(
            name=_label(folder.name),
            factory=FACTORY,
            family=FAMILY,
            engine=ENGINE,
            generic=True,
            defaults={"model_path": str(folder)},
            description=f"{model_type} checkpoint in {folder}",
            **video_fields(model_type),
        )
    if is_hub_id(name):
        curated = curated_by_repo(name)
        if curated is not None:
            return curated
        return ModelSpec(
            name=_label(name.replace("/", "--")),
            factory=FACTORY,
            family=FAMILY,
            engine=ENGINE,
            generic=True,
            weights={"huggingface": name, "modelscope": name},
            description=f"{model_type} checkpoint, hub repository {name}",
            **video_fields(model_type),
        )
    return None


def supported_model_types() -> dict[str, str]:
    """model_type -> class name for every architecture AutoModelForImageTextToText loads."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    return dict(MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES)


def check_architecture(folder: Path, model_name: str) -> str:
    """The checkpoint's model_type, or UnknownModelError when Transformers cannot serve it."""
    config = read_config(folder)
    if config is None:
        raise UnknownModelError(
            f"{folder} has no readable config.json, so it is not a Transformers checkpoint "
            f"(model {model_name!r})"
        )
    return _check_config(config, str(folder), model_name)


def _check_config(config: Mapping[str, Any], where: str, model_name: str) -> str:
    model_type = str(config.get("model_type", ""))
    if "auto_map" in config:
        raise UnknownModelError(
            f"{where} is a remote-code checkpoint ({model_type or 'unknown type'}); "
            "vlmi-transformers runs only Transformers-native architectures. For InternVL2 use "
            "vlmi-internvl2, for MiniCPM-V-2.6 vlmi-minicpmv, or pick the model's '-hf' "
            "conversion if one exists."
        )
    supported = supported_model_types()
    if model_type not in supported:
        import transformers

        raise UnknownModelError(
            f"{where} holds a {model_type or 'untyped'!r} model, which "
            f"AutoModelForImageTextToText does not support in transformers "
            f"{transformers.__version__}; supported types include: "
            f"{', '.join(sorted(supported)[:40])}, ..."
        )
    return model_type


def check_architecture_early(spec: ModelSpec, weights: WeightsOptions, model_name: str) -> None:
    """For hub weights, check the architecture from ``config.json`` before the big download.

    Only ``config.json`` is read, through vlmi (into the hub's cache, where the
    weights download finds it). Local folders are checked after resolution by
    :func:`check_architecture`; when the config cannot be fetched, the weights
    download that follows reports why.
    """
    target = weights_id(spec, weights)
    if not is_hub_id(target):
        return
    config, _ = checkpoint_config(target, weights.hub, weights.revision)
    if config is not None:
        _check_config(config, f"{target} (on {weights.hub})", model_name)


__all__ = [
    "check_architecture",
    "check_architecture_early",
    "read_config",
    "resolve",
    "supported_model_types",
]
