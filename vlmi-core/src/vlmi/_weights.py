"""Find a model's weights: a local folder, or a download from Hugging Face or ModelScope.

Downloads go through the hubs' own clients (``huggingface_hub`` or
``modelscope``, imported only in :mod:`vlmi._download`), so their settings
apply as usual: ``HF_ENDPOINT`` for a Hugging Face mirror, ``HF_HOME`` /
``HF_HUB_OFFLINE``, ``MODELSCOPE_CACHE``. ``VLMI_HUB`` picks the default hub.
Only the files the engine reads are fetched (``ModelSpec.weights_files``, or
vlmi's default globs); ``vlmi download`` fetches the same files ahead of time.
Where the hub cannot be reached, the cached files are used, with a warning.
"""

from __future__ import annotations

from pathlib import Path

from vlmi.errors import WeightsNotFoundError

from ._checkpoint import is_hub_id
from ._options import WeightsOptions
from ._spec import ModelSpec


def weights_id(spec: ModelSpec, options: WeightsOptions) -> str:
    """The local folder or hub id the weights come from (without downloading)."""
    if options.model_path:
        return options.model_path
    hub = options.hub or "huggingface"
    repo = spec.weights.get(hub)
    if repo is None:
        available = ", ".join(spec.weights) or "none"
        raise WeightsNotFoundError(
            f"model {spec.name!r} has no default weights on {hub} (available hubs: {available}); "
            "pass model_path=<local folder or hub id> or hub=<one of those>"
        )
    return repo


def resolve_weights(
    spec: ModelSpec, options: WeightsOptions, *, local_dir: str | Path | None = None
) -> str:
    """A local folder holding the weights, downloading them first if needed.

    :param local_dir: download into this folder instead of the hub's cache.
    :raises WeightsNotFoundError: no such folder or repository, revision,
        network, or a target that cannot be written; the message says which.
    :raises MissingDependencyError: the hub's client is not installed (the
        message names the extra to install).
    """
    target = weights_id(spec, options)
    local = Path(target).expanduser()
    if local.is_dir():
        return str(local.resolve())
    if not is_hub_id(target):
        raise WeightsNotFoundError(
            f"weights folder {target!r} for {spec.name!r} does not exist, and it is not a hub id "
            "(owner/name); pass model_path=<folder with config.json>"
        )
    from ._download import fetch, patterns_for

    folder = Path(local_dir).expanduser().resolve() if local_dir is not None else None
    fetched = fetch(
        options.hub or "huggingface",
        target,
        options.revision,
        patterns_for(spec),
        local_dir=folder,
    )
    return str(fetched.folder)


__all__ = ["resolve_weights", "weights_id"]
