"""Hugging Face Hub (or a mirror through ``HF_ENDPOINT``) through ``huggingface_hub``.

``huggingface_hub`` is imported inside these functions only. Its own settings
apply: ``HF_ENDPOINT`` (a mirror), ``HF_HOME`` / ``HF_HUB_CACHE`` (the cache),
``HF_TOKEN``, ``HF_HUB_OFFLINE``. Files land in the hub cache (or ``local_dir``)
under temporary names first and take their final names only when complete, so
an interrupted download leaves nothing that looks finished; a rerun fetches the
missing files only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vlmi.errors import MissingDependencyError, VlmiError, WeightsNotFoundError

HUB = "huggingface"
INSTALL = "pip install 'vlmi-core[hub]'  (or: pip install huggingface_hub)"

#: exception class names (anywhere in the cause chain) meaning "the endpoint did not answer"
_UNREACHABLE = {
    "ConnectError",
    "ConnectTimeout",
    "ConnectionError",
    "ConnectionRefusedError",
    "TimeoutException",
    "ReadTimeout",
    "ProxyError",
}


def _client() -> Any:
    try:
        import huggingface_hub
        import huggingface_hub.constants
        import huggingface_hub.errors
        import huggingface_hub.hf_api
        import huggingface_hub.utils
    except ImportError:
        raise MissingDependencyError(
            f"downloading from Hugging Face needs the huggingface_hub package: {INSTALL}; "
            "or use ModelScope (--hub modelscope / hub='modelscope')",
            install=INSTALL.split("  (or", maxsplit=1)[0],
        ) from None
    return huggingface_hub


def endpoint() -> str:
    """The endpoint downloads go to (``HF_ENDPOINT`` or huggingface.co)."""
    return str(_client().constants.ENDPOINT)


def offline() -> bool:
    """Whether ``HF_HUB_OFFLINE`` forbids network calls."""
    return bool(_client().constants.HF_HUB_OFFLINE)


def cache_dir() -> Path:
    """Where downloads without ``local_dir`` go."""
    return Path(_client().constants.HF_HUB_CACHE)


def list_files(repo: str, revision: str | None) -> dict[str, int]:
    """Every file of ``repo`` at ``revision``: path -> bytes."""
    hub = _client()
    try:
        entries = hub.HfApi().list_repo_tree(repo, revision=revision, recursive=True)
        return {e.path: int(e.size or 0) for e in entries if isinstance(e, hub.hf_api.RepoFile)}
    except Exception as exc:
        raise explain(exc, repo, revision) from exc


def fetch_config(repo: str, revision: str | None, folder: Path) -> Path:
    """Download ``config.json`` alone into ``folder`` (offline: the cached one); its path."""
    hub = _client()
    try:
        if offline():
            return Path(hub.hf_hub_download(repo, "config.json", revision=revision))
        return Path(hub.hf_hub_download(repo, "config.json", revision=revision, local_dir=folder))
    except Exception as exc:
        raise explain(exc, repo, revision, file="config.json") from exc


def fetch(
    repo: str,
    revision: str | None,
    patterns: Sequence[str],
    local_dir: Path | None,
    progress: bool = True,
) -> str:
    """The files matching ``patterns``, downloaded (or found in the cache); their folder."""
    hub = _client()
    disabled = hub.utils.are_progress_bars_disabled()
    if not progress:
        hub.utils.disable_progress_bars()
    try:
        return str(
            hub.snapshot_download(
                repo, revision=revision, allow_patterns=list(patterns), local_dir=local_dir
            )
        )
    except Exception as exc:
        raise explain(exc, repo, revision) from exc
    finally:
        if not progress and not disabled:
            hub.utils.enable_progress_bars()


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _unreachable(exc: BaseException) -> bool:
    return any(cls.__name__ in _UNREACHABLE for error in _chain(exc) for cls in type(error).__mro__)


def _repo_exists(repo: str) -> bool:
    try:
        hub = _client()
        hub.HfApi().repo_info(repo, revision=hub.constants.DEFAULT_REVISION)
    except Exception:
        return False
    return True


def explain(
    exc: BaseException, repo: str, revision: str | None, file: str | None = None
) -> VlmiError:
    """A vlmi error that says what went wrong with ``repo`` and what to do."""
    if isinstance(exc, VlmiError):
        return exc
    errors = _client().errors
    where = endpoint()
    at = f"{repo!r}" + (f" at revision {revision!r}" if revision else "")
    mirror = (
        f"HF_ENDPOINT is {os.environ['HF_ENDPOINT']!r}"
        if os.environ.get("HF_ENDPOINT")
        else "set HF_ENDPOINT=<mirror URL> where huggingface.co is blocked"
    )
    if isinstance(exc, errors.GatedRepoError):
        return WeightsNotFoundError(
            f"{repo!r} is gated on {where}: accept its conditions on the model's page, then log "
            "in (hf auth login, or set HF_TOKEN)"
        )
    if isinstance(exc, errors.RevisionNotFoundError) or (
        isinstance(exc, errors.RepositoryNotFoundError) and revision and _repo_exists(repo)
    ):
        return WeightsNotFoundError(
            f"{repo!r} on {where} has no revision {revision!r}; check the branch, tag or commit "
            "(--revision)"
        )
    if isinstance(exc, errors.RepositoryNotFoundError):
        return WeightsNotFoundError(
            f"no repository {repo!r} on {where} (or it is private: log in with hf auth login, "
            "or set HF_TOKEN); check the id"
        )
    if type(exc).__name__ == "IncompleteSnapshotError":
        return WeightsNotFoundError(
            f"the cached weights of {at} are incomplete (an interrupted download) and {where} "
            f"cannot be reached: run `vlmi download {repo}` where the network reaches it"
        )
    if offline() and isinstance(exc, errors.LocalEntryNotFoundError):
        return WeightsNotFoundError(
            f"{at} is not in the Hugging Face cache ({cache_dir()}) and HF_HUB_OFFLINE=1 forbids "
            f"downloading it: run `vlmi download {repo}` where the network reaches the hub (or a "
            "mirror: HF_ENDPOINT), unset HF_HUB_OFFLINE, or use ModelScope (--hub modelscope; "
            "hub='modelscope' in Python)"
        )
    if _unreachable(exc) or isinstance(exc, errors.LocalEntryNotFoundError):
        return WeightsNotFoundError(
            f"cannot reach {where} to download {at} ({type(exc).__name__}); check the network "
            f"and the address ({mirror}), or use ModelScope (--hub modelscope; hub='modelscope' "
            "in Python)"
        )
    if isinstance(exc, errors.EntryNotFoundError) and file:
        return WeightsNotFoundError(
            f"{at} on {where} has no {file}, so it is not a model checkpoint"
        )
    return WeightsNotFoundError(
        f"downloading {at} from {where} failed: {type(exc).__name__}: {exc}. Run the same "
        "command again: the files already complete are kept, the others fetched again"
    )


__all__ = ["HUB", "cache_dir", "endpoint", "explain", "fetch", "fetch_config", "list_files"]
