"""Serve names nobody registered: a local checkpoint folder or a hub repo id.

Claiming is cheap: vlmi reads the checkpoint's ``config.json`` (for a hub id,
that one file is fetched through the hub's own client, so its cache, mirror
and offline settings apply) and hands it to ``resolve_model``; its first
``architectures`` entry is looked up in the static table of
:mod:`vlmi_vllm.architectures`. Neither vLLM nor the weights are touched. A
checkpoint of another architecture is left to the other plugins.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from vlmi.errors import InvalidOptionError, UnknownModelError
from vlmi.plugin import ModelSpec, is_hub_id
from vlmi_vllm.architectures import ARCHITECTURES, Architecture, architecture_of
from vlmi_vllm.catalog import ENGINE, FACTORY, PREFERENCE, curated_by_repo

#: the longest context vlmi asks vLLM for by default (a checkpoint's own limit may be lower)
DEFAULT_MAX_MODEL_LEN = 32768


def read_config(folder: Path) -> dict[str, Any] | None:
    """The folder's ``config.json`` as a dict, or None when missing or unreadable."""
    return read_json(folder / "config.json")


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object file as a dict, or None when missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def image_processor_config(folder: Path) -> dict[str, Any] | None:
    """The image processor's settings: ``preprocessor_config.json`` (as the hub's checkpoints
    have it), else the ``image_processor`` part of ``processor_config.json`` (as Transformers 5
    saves a processor)."""
    flat = read_json(folder / "preprocessor_config.json")
    if flat is not None:
        return flat
    nested = (read_json(folder / "processor_config.json") or {}).get("image_processor")
    return nested if isinstance(nested, dict) else None


def _label(text: str) -> str:
    label = re.sub(r"[^a-z0-9._\-]+", "-", text.lower()).strip("-._")
    return label or "checkpoint"


def _spec(name: str, arch: Architecture, description: str, **fields: Any) -> ModelSpec:
    return ModelSpec(
        name=_label(name),
        factory=FACTORY,
        family=arch.family,
        engine=ENGINE,
        max_images=arch.default_max_images,
        description=description,
        generic=True,
        preference=PREFERENCE,
        **arch.video_fields(),
        **fields,
    )


def resolve(name: str, config: dict[str, Any] | None, hub: str = "huggingface") -> ModelSpec | None:
    """A spec for a folder or hub id whose architecture vLLM serves, or None if not ours.

    :param config: the checkpoint's ``config.json``, as vlmi read it (None: unreadable).
    :param hub: where a hub id's weights come from (``vlmi.load(..., hub=...)``).
    """
    folder = Path(name).expanduser()
    if folder.is_dir():
        arch = _served(config)
        if arch is None:
            return None
        folder = folder.resolve()
        return _spec(
            folder.name,
            arch,
            f"{arch.name} checkpoint in {folder}",
            defaults={"model_path": str(folder)},
        )
    if is_hub_id(name):
        curated = curated_by_repo(name)
        if curated is not None:
            return curated
        arch = _served(config)
        if arch is None:
            return None
        return _spec(
            name.replace("/", "--"),
            arch,
            f"hub repository {name} ({arch.name})",
            weights={hub: name},
        )
    return None


def _served(config: dict[str, Any] | None) -> Architecture | None:
    if config is None:
        return None
    name = architecture_of(config)
    return ARCHITECTURES.get(name) if name else None


def check_checkpoint(folder: Path, model_name: str, trust_remote_code: bool) -> Architecture:
    """The checkpoint's architecture; errors that name the fix when vlmi-vllm cannot run it."""
    config = read_config(folder)
    if config is None:
        raise UnknownModelError(
            f"{folder} has no readable config.json, so it is not a checkpoint vLLM can load "
            f"(model {model_name!r})"
        )
    name = architecture_of(config) or "none named"
    arch = ARCHITECTURES.get(name)
    if arch is None:
        served = ", ".join(sorted(ARCHITECTURES))
        raise UnknownModelError(
            f"{folder} holds a {name!r} model, which vlmi-vllm does not serve "
            f"(it serves {served}). "
            "A Transformers-native model may run with vlmi-transformers; InternVL2 with "
            "vlmi-internvl2; MiniCPM-V-2.6 with vlmi-minicpmv."
        )
    if "auto_map" in config and not trust_remote_code:
        raise InvalidOptionError(
            f"{folder} ships its own Python code ({name}, config.json auto_map), which vLLM "
            f"runs to load it: pass trust_remote_code=True to {model_name!r} if you trust "
            "that repository"
        )
    return arch


def model_max_len(config: dict[str, Any]) -> int | None:
    """The longest context the checkpoint's config declares (its text model's), if any."""
    for key in ("text_config", "llm_config", "language_config"):
        inner = config.get(key)
        if isinstance(inner, dict):
            found = model_max_len(inner)
            if found is not None:
                return found
    value = config.get("max_position_embeddings")
    return int(value) if isinstance(value, int) and value > 0 else None


#: the chat template's thinking switch (Qwen3's, MiniCPM-V-4.5's, Qwen3.5's, ...)
THINKING_SWITCH = "enable_thinking"


def chat_template_texts(folder: Path) -> list[str]:
    """Every chat template the folder carries (tokenizer_config.json, chat_template.* files)."""
    texts: list[str] = []
    for path in sorted(folder.glob("chat_template*.jinja")):
        texts.append(path.read_text(encoding="utf-8", errors="replace"))
    for name in ("tokenizer_config.json", "chat_template.json", "processor_config.json"):
        template = (read_json(folder / name) or {}).get("chat_template")
        if isinstance(template, str):
            texts.append(template)
        elif isinstance(template, list):  # named templates: [{"name": ..., "template": ...}]
            texts.extend(str(t.get("template", "")) for t in template if isinstance(t, dict))
    return texts


def check_thinking_switch(folder: Path, model_name: str) -> None:
    """Refuse ``enable_thinking`` for a checkpoint whose chat template has no such switch."""
    if not any(THINKING_SWITCH in text for text in chat_template_texts(folder)):
        raise InvalidOptionError(
            f"enable_thinking: {model_name}'s chat template has no thinking switch (it never "
            f"reads {THINKING_SWITCH}), so the option would change nothing; leave it unset"
        )


def default_max_model_len(config: dict[str, Any]) -> int:
    """The checkpoint's own limit, capped at :data:`DEFAULT_MAX_MODEL_LEN`."""
    limit = model_max_len(config)
    return DEFAULT_MAX_MODEL_LEN if limit is None else min(limit, DEFAULT_MAX_MODEL_LEN)


__all__ = [
    "DEFAULT_MAX_MODEL_LEN",
    "THINKING_SWITCH",
    "chat_template_texts",
    "check_checkpoint",
    "check_thinking_switch",
    "default_max_model_len",
    "image_processor_config",
    "model_max_len",
    "read_config",
    "read_json",
    "resolve",
]
