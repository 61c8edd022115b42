"""Generation options with one meaning across engines.

=================  ==========================================================
``max_new_tokens``  upper bound on generated tokens (default 512)
``temperature``     0 means greedy decoding (the default, as benchmarks want)
``top_p``           nucleus sampling mass, in (0, 1] (1 = off)
``top_k``           sample from the k most likely tokens (0 or None = off)
``seed``            random seed for sampling, for reproducible runs
``stop``            a string or list of strings that end the answer
=================  ==========================================================

Each plugin documents how it maps these onto its engine, and raises
:class:`vlmi.errors.InvalidOptionError` for a value the engine cannot honour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from vlmi.errors import InvalidOptionError


@dataclass(frozen=True)
class GenerationOptions:
    """Resolved generation options (see the module docstring)."""

    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()

    @property
    def greedy(self) -> bool:
        """True when decoding is greedy (temperature 0)."""
        return self.temperature == 0.0

    def merged(self, overrides: Mapping[str, Any] | None) -> GenerationOptions:
        """A copy with ``overrides`` applied and checked."""
        if not overrides:
            return self
        if not isinstance(overrides, Mapping):
            raise InvalidOptionError(
                f"generation options must be a mapping of name to value, got {overrides!r}"
            )
        check_names(overrides)
        return replace(self, **{k: _coerce(k, v) for k, v in overrides.items()})

    def unhonoured(self, honours: frozenset[str] | None) -> list[str]:
        """The options set away from their defaults that a model not honouring them would drop.

        :param honours: the option names the model honours (``None``: all of them).
        """
        if honours is None:
            return []
        default = GenerationOptions()
        return [
            f"{option.name}={getattr(self, option.name)!r}"
            for option in fields(self)
            if option.name not in honours
            and getattr(self, option.name) != getattr(default, option.name)
        ]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenerationOptions:
        """Options from :meth:`to_dict`'s output (or any mapping of names), checked."""
        return cls().merged(data)

    def cut_at_stop(self, text: str) -> str:
        """``text`` cut before the first of this call's stop strings (unchanged without one)."""
        cut = len(text)
        for word in self.stop:
            found = text.find(word)
            if found != -1:
                cut = min(cut, found)
        return text[:cut]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict."""
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data


GENERATION_OPTION_NAMES: tuple[str, ...] = tuple(f.name for f in fields(GenerationOptions))


def check_names(options: Mapping[str, Any]) -> None:
    """Raise InvalidOptionError for a name that is not a generation option."""
    unknown = sorted(set(options) - set(GENERATION_OPTION_NAMES))
    if unknown:
        raise InvalidOptionError(
            f"unknown generation option(s) {unknown}; "
            f"accepted: {', '.join(GENERATION_OPTION_NAMES)}"
        )


def _coerce(name: str, value: Any) -> Any:
    if name == "max_new_tokens":
        number = _int(name, value)
        if number < 1:
            raise InvalidOptionError(f"max_new_tokens must be >= 1, got {value!r}")
        return number
    if name == "temperature":
        ratio = _float(name, value)
        if ratio < 0:
            raise InvalidOptionError(f"temperature must be >= 0 (0 = greedy), got {value!r}")
        return ratio
    if name == "top_p":
        mass = _float(name, value)
        if not 0.0 < mass <= 1.0:
            raise InvalidOptionError(f"top_p must be in (0, 1], got {value!r}")
        return mass
    if name == "top_k":
        if value is None:
            return None
        number = _int(name, value)
        if number < 0:
            raise InvalidOptionError(f"top_k must be >= 0 (0 or None = off), got {value!r}")
        return number or None
    if name == "seed":
        return None if value is None else _int(name, value)
    if name == "stop":
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(s, str) and s for s in value):
            raise InvalidOptionError(
                f"stop must be a non-empty str or a list of them, got {value!r}"
            )
        return tuple(value)
    raise InvalidOptionError(f"unknown generation option {name!r}")  # pragma: no cover


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidOptionError(f"{name} must be an integer, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidOptionError(f"{name} must be an integer, got {value!r}") from None
    if isinstance(value, float) and value != number:
        raise InvalidOptionError(f"{name} must be an integer, got {value!r}")
    return number


def _float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise InvalidOptionError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidOptionError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InvalidOptionError(f"{name} must be a finite number, got {value!r}")
    return number


__all__ = ["GENERATION_OPTION_NAMES", "GenerationOptions", "check_names"]
