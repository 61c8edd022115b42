"""vlmi-ray: ``vlmi run`` over a pool of model replicas on a Ray cluster.

>>> from vlmi_ray import RayPool                                   # doctest: +SKIP
>>> vlmi.run("internvl2-8b", "bench.jsonl", "out.jsonl",
...          executor=RayPool("10.0.0.1:6379", replicas=8))        # doctest: +SKIP

On the command line: ``vlmi run MODEL IN -o OUT --ray [ADDRESS] --replicas N``.
Ray is imported only when a pool runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vlmi.plugin import ExecutorType, hookimpl

if TYPE_CHECKING:
    from .pool import RayPool


def _create(**options: Any) -> RayPool:
    from .pool import RayPool

    return RayPool(**options)


@hookimpl
def register_executors(register: Callable[[ExecutorType], None]) -> None:
    """The ``ray`` executor and its ``vlmi run`` flags."""
    from .cli import DESCRIPTION, add_ray_arguments, pool_from_arguments

    register(
        ExecutorType(
            name="ray",
            create=_create,
            add_arguments=add_ray_arguments,
            from_arguments=pool_from_arguments,
            description=DESCRIPTION,
        )
    )


def __getattr__(name: str) -> Any:
    if name == "RayPool":
        from .pool import RayPool

        return RayPool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RayPool", "register_executors"]
