"""Find a model's weights: a local folder, or a download from Hugging Face or ModelScope.

Downloads go through the hubs' own clients (``huggingface_hub`` or
``modelscope``, imported only here), so their settings apply as usual:
``HF_ENDPOINT`` for a Hugging Face mirror, ``HF_HOME`` / ``HF_HUB_OFFLINE``,
``MODELSCOPE_CACHE``. ``VLMI_HUB`` picks the default hub.
"""

from __future__ import annotations

import os
from pathlib import Path

from vlmi.errors import MissingDependencyError, WeightsNotFoundError

from ._options import WeightsOptions
from ._spec import ModelSpec

_CLIENTS = {"huggingface": "huggingface_hub", "modelscope": "modelscope"}


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


def resolve_weights(spec: ModelSpec, options: WeightsOptions) -> str:
    """A local folder holding the weights, downloading them first if needed."""
    target = weights_id(spec, options)
    local = Path(target).expanduser()
    if local.is_dir():
        return str(local.resolve())
    if local.is_absolute() or target.startswith((".", "~")) or target.count("/") != 1:
        raise WeightsNotFoundError(
            f"weights folder {target!r} for {spec.name!r} does not exist, and it is not a hub id "
            "(owner/name); pass model_path=<folder with config.json>"
        )
    hub = options.hub or "huggingface"
    return _download(hub, target, options.revision, spec.name)


def _download(hub: str, repo: str, revision: str | None, model: str) -> str:
    client = _CLIENTS[hub]
    try:
        if hub == "huggingface":
            from huggingface_hub import snapshot_download
        else:
            from modelscope import snapshot_download
    except ImportError:
        extra = "hub" if hub == "huggingface" else "modelscope"
        raise MissingDependencyError(
            f"downloading {repo!r} from {hub} needs the {client} package: "
            f"pip install 'vlmi-core[{extra}]'"
            + (" (or set VLMI_HUB=modelscope / hub='modelscope')" if hub == "huggingface" else ""),
            install=f"pip install 'vlmi-core[{extra}]'",
        ) from None
    try:
        return str(snapshot_download(repo, revision=revision))
    except Exception as exc:
        hints = {
            "huggingface": "check the id, your token (huggingface-cli login), HF_HUB_OFFLINE, and "
            "HF_ENDPOINT for a mirror (now " + os.environ.get("HF_ENDPOINT", "unset") + "); or "
            "try hub='modelscope'",
            "modelscope": "check the id and the network; or try hub='huggingface'",
        }
        raise WeightsNotFoundError(
            f"could not get the weights of {model!r} ({repo!r}) from {hub}: "
            f"{type(exc).__name__}: {exc}. {hints[hub]}; or pass model_path=<local folder>"
        ) from exc


__all__ = ["resolve_weights", "weights_id"]
