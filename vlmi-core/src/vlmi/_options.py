"""Options of ``vlmi.load``: where weights come from, engine options, generation defaults.

Three groups, all passed as keyword arguments to ``vlmi.load``:

- weights: ``model_path`` (a local folder or a hub id), ``hub``
  (``"huggingface"`` or ``"modelscope"``; default ``$VLMI_HUB`` or
  huggingface; mirrors through the hubs' own ``HF_ENDPOINT`` etc.) and
  ``revision``;
- engine options, declared by each model class as a frozen dataclass
  ``Options`` (subclass of :class:`EngineOptions`);
- generation defaults (:mod:`vlmi._generation`), used when a call does not
  override them.

An unknown option is an :class:`~vlmi.errors.InvalidOptionError` listing
every accepted name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vlmi.errors import InvalidOptionError

from ._generation import GENERATION_OPTION_NAMES, GenerationOptions
from ._spec import HUBS


@dataclass(frozen=True)
class EngineOptions:
    """Base of a model class's engine options (a frozen dataclass of typed fields).

    A field declared with ``metadata={"secret": True}`` (an API key) is
    written as ``"<hidden>"`` wherever vlmi records options (``vlmi run``'s output).
    """


@dataclass(frozen=True)
class WeightsOptions:
    """Where the weights come from."""

    model_path: str | None = None
    hub: str | None = None
    revision: str | None = None

    def __post_init__(self) -> None:
        hub = self.hub or os.environ.get("VLMI_HUB") or "huggingface"
        if hub not in HUBS:
            raise InvalidOptionError(f"hub must be one of {HUBS}, got {hub!r} (check VLMI_HUB)")
        object.__setattr__(self, "hub", hub)


WEIGHTS_OPTION_NAMES = tuple(f.name for f in dataclasses.fields(WeightsOptions))


@dataclass(frozen=True)
class LoadOptions:
    """Everything ``vlmi.load`` was given, checked and split into its groups."""

    weights: WeightsOptions
    engine: EngineOptions
    generation: GenerationOptions


def accepted_names(engine_cls: type[EngineOptions]) -> list[str]:
    """Every option name ``vlmi.load`` accepts for a model class's options."""
    engine = [f.name for f in dataclasses.fields(engine_cls)]
    return [*WEIGHTS_OPTION_NAMES, *engine, *GENERATION_OPTION_NAMES]


def parse_load_options(
    model_name: str,
    engine_cls: type[EngineOptions],
    options: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
) -> LoadOptions:
    """Check and split ``options`` (over the spec's ``defaults``) into LoadOptions."""
    merged = {**(defaults or {}), **options}
    accepted = accepted_names(engine_cls)
    unknown = sorted(set(merged) - set(accepted))
    if unknown:
        raise InvalidOptionError(
            f"unknown option(s) {unknown} for model {model_name!r}; accepted: {', '.join(accepted)}"
        )
    engine_names = {f.name for f in dataclasses.fields(engine_cls)}
    weights = WeightsOptions(**{k: v for k, v in merged.items() if k in WEIGHTS_OPTION_NAMES})
    engine_values = {k: v for k, v in merged.items() if k in engine_names}
    engine = engine_cls(**coerce_fields(engine_cls, engine_values))
    generation = GenerationOptions().merged(
        {k: v for k, v in merged.items() if k in GENERATION_OPTION_NAMES}
    )
    return LoadOptions(weights=weights, engine=engine, generation=generation)


def coerce_fields(cls: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check values against a dataclass's annotations, reading text as :func:`from_text` says."""
    hints = typing.get_type_hints(cls)
    return {name: _coerce(name, hints.get(name, Any), value) for name, value in values.items()}


def from_text(text: str, allowed: tuple[type, ...] | None) -> Any:
    """An option value given as text (``-O KEY=VALUE``, or a str in Python), read for its type.

    One rule for the command line and Python: for a ``bool`` option,
    ``true/yes/on/1`` and ``false/no/off/0``; for one that may be ``None``,
    ``none/null``; then an ``int``, then a ``float``, as the option's type
    allows; for a list or dict option, JSON; else the text itself.
    """
    lowered = text.strip().lower()
    if allowed is None:  # a container (dict, list, ...): JSON
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    if type(None) in allowed and lowered in ("none", "null"):
        return None
    if bool in allowed:
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
    for kind in (int, float):
        if kind in allowed:
            try:
                return kind(text)
            except ValueError:
                continue
    return text


def _coerce(name: str, hint: Any, value: Any) -> Any:
    allowed = _simple_types(hint)
    if isinstance(value, str) and hint is not Any and (allowed is None or str not in allowed):
        value = from_text(value, allowed)
    if allowed is None or (value is None and type(None) in allowed):
        return value
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if is_int and float in allowed and int not in allowed:
        return float(value)
    if isinstance(value, bool) and bool not in allowed:
        raise _type_error(name, allowed, value)
    if not isinstance(value, allowed):
        raise _type_error(name, allowed, value)
    return value


def _simple_types(hint: Any) -> tuple[type, ...] | None:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        parts = [_simple_types(arg) for arg in typing.get_args(hint)]
        if any(p is None for p in parts):
            return None
        return tuple(t for p in parts if p for t in p)
    if hint is type(None):
        return (type(None),)
    if hint in (int, float, str, bool):
        return (hint,)
    return None  # containers and others: left to the model class


def _type_error(name: str, allowed: tuple[type, ...], value: Any) -> InvalidOptionError:
    names = " or ".join("None" if t is type(None) else t.__name__ for t in allowed)
    return InvalidOptionError(f"option {name} must be {names}, got {value!r}")


__all__ = [
    "EngineOptions",
    "LoadOptions",
    "WeightsOptions",
    "accepted_names",
    "coerce_fields",
    "from_text",
    "parse_load_options",
]
