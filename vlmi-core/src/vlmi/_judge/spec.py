"""Which model judges: a vlmi model name, its plugin and ``vlmi.load`` options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

#: option names never recorded nor used in the identity (credentials)
SECRET_OPTIONS = frozenset({"api_key", "token", "password", "secret"})
#: options of how requests travel, not of what the judge answers: recorded, not in the identity
TRANSPORT_OPTIONS = frozenset({"concurrency", "timeout", "max_retries"})


@dataclass(frozen=True)
class JudgeSpec:
    """A judge: ``vlmi.load(name, plugin=plugin, **options)``.

    :param name: any vlmi model name, e.g. ``openai:gpt-4o-mini`` (vlmi-openai).
    :param plugin: the distribution that must serve it, when several do.
    :param options: ``vlmi.load`` options (``base_url``, ``api_key``, ``concurrency``, ...).
    """

    name: str
    plugin: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        """Name, plugin and options, less credentials and transport settings (concurrency,
        timeout, max_retries): what makes two judges the same (the judge cache's key)."""
        options = {
            key: _plain(value)
            for key, value in sorted(self.options.items())
            if key not in SECRET_OPTIONS | TRANSPORT_OPTIONS
        }
        return {"name": self.name, "plugin": self.plugin, "options": options}

    def recorded_options(self) -> dict[str, Any]:
        """The options as the score file records them: no credentials, ``base_url`` as its host."""
        options = {
            key: _plain(value)
            for key, value in sorted(self.options.items())
            if key not in SECRET_OPTIONS
        }
        if options.get("base_url"):
            options["base_url"] = base_url_host(str(options["base_url"]))
        return dict(options)


def base_url_host(url: str | None) -> str | None:
    """``host[:port]`` of an endpoint URL (no user, path or query)."""
    if not url:
        return None
    parts = urlsplit(url if "//" in url else "//" + url)
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port else host


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


__all__ = ["SECRET_OPTIONS", "TRANSPORT_OPTIONS", "JudgeSpec", "base_url_host"]
