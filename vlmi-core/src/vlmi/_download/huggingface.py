"""Hugging Face Hub (or a mirror through ``HF_ENDPOINT``) through ``huggingface_hub``.

``huggingface_hub`` is imported inside these functions only. Its own settings
apply: ``HF_ENDPOINT`` (a mirror), ``HF_HOME`` / ``HF_HUB_CACHE`` (the cache),
``HF_TOKEN``, ``HF_HUB_OFFLINE``. Files land in the hub cache (or ``local_dir``)
under temporary names first and take their final names only when complete, so
an interrupted download leaves nothing that looks finished; a rerun fetches the
missing files only. Listing the repository, choosing the files and the cache
fallback are ``huggingface_hub``'s own; when the endpoint cannot be reached,
the cached files are used with a warning that says so (no ``HF_HUB_OFFLINE``
needed), and a fully cached model costs the one request that pins its revision.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vlmi.errors import MissingDependencyError, VlmiError, WeightsNotFoundError

from .cached import warn_cached

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
    """Every file of ``repo`` at ``revision``: path -> bytes (for ``vlmi download --check``)."""
    hub = _client()
    try:
        entries = hub.HfApi().list_repo_tree(repo, revision=revision, recursive=True)
        return {e.path: int(e.size or 0) for e in entries if isinstance(e, hub.hf_api.RepoFile)}
    except Exception as exc:
        raise explain(exc, repo, revision) from exc


def fetch_config(repo: str, revision: str | None) -> Path:
    """``config.json`` alone, into the hub cache (or found there); its path."""
    hub = _client()
    try:
        return Path(hub.hf_hub_download(repo, "config.json", revision=revision))
    except Exception as exc:
        if offline() or not _unreachable(exc):
            raise explain(exc, repo, revision, file="config.json") from exc
        try:
            path = Path(
                hub.hf_hub_download(repo, "config.json", revision=revision, local_files_only=True)
            )
        except Exception:
            raise explain(exc, repo, revision, file="config.json") from exc
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

    ``huggingface_hub`` lists the repository, picks the files and uses the cache
    alone when ``HF_HUB_OFFLINE`` is set. When the endpoint cannot be reached,
    the cached files (as last downloaded) are used, with a warning that says so.
    """
    hub = _client()
    disabled = hub.utils.are_progress_bars_disabled()
    if not progress:
        hub.utils.disable_progress_bars()
    arguments: dict[str, Any] = {"allow_patterns": list(patterns), "local_dir": local_dir}
    try:
        try:
            pinned = _resolve_revision(repo, revision)
            return str(hub.snapshot_download(repo, revision=pinned, **arguments))
        except Exception as exc:
            if offline() or not _unreachable(exc):
                raise explain(exc, repo, revision) from exc
            try:
                folder = str(
                    hub.snapshot_download(
                        repo, revision=revision, local_files_only=True, **arguments
                    )
                )
            except Exception as again:
                raise explain(again if _incomplete(again) else exc, repo, revision) from exc
            warn_cached(endpoint(), exc, repo, Path(folder))
            return folder
    finally:
        if not progress and not disabled:
            hub.utils.enable_progress_bars()


def _resolve_revision(repo: str, revision: str | None) -> str | None:
    """``revision`` pinned to its commit by ``huggingface_hub`` (which records it in the
    cache), so that the download that follows asks the endpoint nothing more for files
    already cached; raises when the endpoint cannot be reached, where ``huggingface_hub``
    would silently take the cached commit. Unchanged where the client cannot pin."""
    hub = _client()
    if offline() or not hasattr(hub.HfApi, "resolve_revision"):
        return revision
    failures: list[BaseException] = []

    api: Any = hub.HfApi

    class Watched(api):  # type: ignore[misc]
        def repo_info(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().repo_info(*args, **kwargs)
            except Exception as exc:
                failures.append(exc)
                raise

    pinned = Watched().resolve_revision(repo, revision=revision or hub.constants.DEFAULT_REVISION)
    unreachable = [exc for exc in failures if _unreachable(exc)]
    if unreachable:
        raise unreachable[-1]
    return pinned  # type: ignore[no-any-return]


def _incomplete(exc: BaseException) -> bool:
    return type(exc).__name__ == "IncompleteSnapshotError"


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


__all__ = [
    "HUB",
    "cache_dir",
    "endpoint",
    "explain",
    "fetch",
    "fetch_config",
    "list_files",
]
