"""``vlmi run``'s Ray flags: ``--ray [ADDRESS] --replicas N --gpus-per-replica G ...``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from vlmi.plugin import Executor

DESCRIPTION = "Run on a pool of model replicas on a Ray cluster; the output is the same."


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def add_ray_arguments(group: Any) -> None:
    """The flags, on ``vlmi run``'s argument group for this executor."""
    group.add_argument(
        "--ray",
        nargs="?",
        const=True,
        metavar="ADDRESS",
        help="the cluster's address (HOST:PORT, auto); alone: RAY_ADDRESS or a local cluster",
    )
    group.add_argument("--replicas", type=int, default=1, metavar="N", help="model replicas")
    group.add_argument(
        "--gpus-per-replica",
        type=float,
        default=1,
        metavar="G",
        help="GPUs each replica holds (default 1; 0 for CPU models)",
    )
    group.add_argument(
        "--runtime-env",
        type=_json_object,
        metavar="JSON",
        help="Ray runtime_env, e.g. '{\"pip\": [...]}'",
    )
    group.add_argument(
        "--max-retries",
        type=int,
        default=3,
        metavar="N",
        help="restarts of a dead replica and retries of its batch before the run stops",
    )


def pool_from_arguments(args: argparse.Namespace) -> Executor | None:
    """A :class:`~vlmi_ray.pool.RayPool` when ``--ray`` was given, else ``None``."""
    from vlmi.errors import InvalidOptionError

    from .pool import RayPool

    if args.ray is None:
        cluster_only = {
            "--replicas": args.replicas != 1,
            "--gpus-per-replica": args.gpus_per_replica != 1,
            "--runtime-env": args.runtime_env is not None,
            "--max-retries": args.max_retries != 3,
        }
        given = [flag for flag, set_here in cluster_only.items() if set_here]
        if given:
            raise InvalidOptionError(
                f"{', '.join(given)} take effect on a Ray cluster only; add --ray [ADDRESS]"
            )
        return None
    return RayPool(
        address=None if args.ray is True else str(args.ray),
        replicas=args.replicas,
        gpus_per_replica=args.gpus_per_replica,
        runtime_env=args.runtime_env,
        max_retries=args.max_retries,
    )


__all__ = ["DESCRIPTION", "add_ray_arguments", "pool_from_arguments"]
