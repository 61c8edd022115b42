"""ModelScope through its own client (``modelscope``), imported inside these functions only.

Its settings apply: ``MODELSCOPE_CACHE`` (the cache), ``MODELSCOPE_ENDPOINT``
/ ``MODELSCOPE_DOMAIN`` (the site). ModelScope has no offline switch of its
own: with ``HF_HUB_OFFLINE=1`` (vlmi's one offline switch for both hubs), or
when the site cannot be reached, the weights come from the cache alone
(``local_files_only=True``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vlmi.errors import MissingDependencyError, VlmiError, WeightsNotFoundError

from .cached import warn_cached

HUB = "modelscope"
INSTALL = "pip install 'vlmi-core[modelscope]'  (or: pip install modelscope)"


def _client() -> Any:
    try:
        import modelscope
    except ImportError:
        raise MissingDependencyError(
            f"downloading from ModelScope needs the modelscope package: {INSTALL}; or use "
            "Hugging Face or a mirror of it (--hub huggingface, HF_ENDPOINT)",
            install=INSTALL.split("  (or", maxsplit=1)[0],
        ) from None
    return modelscope


def endpoint() -> str:
    """The site downloads go to."""
    return (
        os.environ.get("MODELSCOPE_ENDPOINT")
        or os.environ.get("MODELSCOPE_DOMAIN")
        or "https://www.modelscope.cn"
    )


def offline() -> bool:
    """``HF_HUB_OFFLINE`` set: use the ModelScope cache alone."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def cache_dir() -> Path:
    """Where downloads without ``local_dir`` go."""
    return Path(os.environ.get("MODELSCOPE_CACHE") or Path.home() / ".cache" / "modelscope")


def list_files(repo: str, revision: str | None) -> dict[str, int]:
    """Every file of ``repo`` at ``revision``: path -> bytes (for ``vlmi download --check``)."""
    _client()
    from modelscope.hub.api import HubApi

    try:
        entries = HubApi().get_model_files(repo, revision=revision, recursive=True)
    except Exception as exc:
        raise explain(exc, repo, revision) from exc
    return {
        str(e["Path"]): int(e.get("Size") or 0) for e in entries if e.get("Type", "blob") == "blob"
    }


def fetch_config(repo: str, revision: str | None) -> Path:
    """``config.json`` alone, into the ModelScope cache (or found there); its path."""
    _client()
    from modelscope.hub.file_download import model_file_download

    def download(local_files_only: bool) -> Path:
        return Path(
            model_file_download(
                repo, "config.json", revision=revision, local_files_only=local_files_only
            )
        )

    if offline():
        try:
            return download(local_files_only=True)
        except Exception as exc:
            raise _not_cached(exc, repo, None) from exc
    try:
        return download(local_files_only=False)
    except Exception as exc:
        if not _unreachable(exc):
            raise explain(exc, repo, revision) from exc
        try:
            path = download(local_files_only=True)
        except Exception:
            raise explain(exc, repo, revision) from exc
        warn_cached(endpoint(), exc, repo, path.parent)
        return path


def fetch(
    repo: str,
    revision: str | None,
    patterns: Sequence[str],
    local_dir: Path | None,
    progress: bool = True,
) -> str:
    """The files matching ``patterns``, downloaded (or found in the cache); their folder.

    The client lists the repository and picks the files; with ``HF_HUB_OFFLINE``,
    or when the site cannot be reached (then with a warning), the cache answers.
    """
    modelscope = _client()
    arguments: dict[str, Any] = {
        "model_id": repo,
        "revision": revision,
        "allow_patterns": list(patterns),
        "local_dir": str(local_dir) if local_dir is not None else None,
    }
    error: BaseException | None = None
    if not offline():
        try:
            return str(modelscope.snapshot_download(**arguments))
        except Exception as exc:
            if not _unreachable(exc):
                raise explain(exc, repo, revision) from exc
            error = exc
    try:
        folder = str(modelscope.snapshot_download(**arguments, local_files_only=True))
    except Exception as exc:
        raise _not_cached(exc, repo, local_dir) from exc
    if error is not None:
        warn_cached(endpoint(), error, repo, Path(folder))
    return folder


def _not_cached(exc: BaseException, repo: str, local_dir: Path | None) -> WeightsNotFoundError:
    return WeightsNotFoundError(
        f"{repo!r} is not in the ModelScope cache ({local_dir or cache_dir()}) and "
        + (
            "HF_HUB_OFFLINE=1 forbids downloading it"
            if offline()
            else f"{endpoint()} cannot be reached"
        )
        + f": run `vlmi download {repo} --hub modelscope` where the network reaches it "
        f"({type(exc).__name__}: {exc})"
    )


def _unreachable(exc: BaseException) -> bool:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, (ConnectionError, TimeoutError)) or type(current).__name__ in {
            "NetworkError",
            "ConnectionError",
            "ConnectTimeout",
        }:
            return True
        current = current.__cause__ or current.__context__
    return False


def explain(exc: BaseException, repo: str, revision: str | None) -> VlmiError:
    """A vlmi error that says what went wrong with ``repo`` and what to do."""
    if isinstance(exc, VlmiError):
        return exc
    at = f"{repo!r}" + (f" at revision {revision!r}" if revision else "")
    if _unreachable(exc):
        return WeightsNotFoundError(
            f"cannot reach {endpoint()} to download {at} ({type(exc).__name__}); check the "
            "network, or use Hugging Face or a mirror of it (--hub huggingface, HF_ENDPOINT)"
        )
    return WeightsNotFoundError(
        f"downloading {at} from ModelScope failed: {type(exc).__name__}: {exc}. Check the id "
        "and revision on modelscope.cn (a gated model needs MODELSCOPE_API_TOKEN)"
    )


__all__ = [
    "HUB",
    "cache_dir",
    "endpoint",
    "explain",
    "fetch",
    "fetch_config",
    "list_files",
]
