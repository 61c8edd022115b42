"""The hooks a vlmi plugin implements (entry-point group ``vlmi``).

A plugin is a module named by an entry point in the ``vlmi`` group::

    [project.entry-points.vlmi]
    myfamily = "vlmi_myfamily"

whose functions are marked with ``@vlmi.plugin.hookimpl``. Model plugins
implement ``register_models`` (and optionally ``resolve_model`` and
``build_dataset_prompt``); extensions add commands (``register_commands``)
or ways to execute ``vlmi run`` (``register_executors``). Implementations
may take fewer arguments than the spec, so specs can grow without breaking
plugins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from ._command import Command
    from ._run.executor import ExecutorType
    from ._sample import Sample
    from ._spec import ModelSpec
    from ._vlmevalkit.prompts import DatasetPrompt

hookspec = pluggy.HookspecMarker("vlmi")
hookimpl = pluggy.HookimplMarker("vlmi")


@hookspec
def register_models(register: Callable[[ModelSpec], None]) -> None:
    """Declare the models this plugin provides.

    Call ``register(ModelSpec(...))`` once per model. Keep it cheap: no engine,
    torch or weights import here; the spec's ``factory`` is imported only when
    the model is loaded.

    :param register: the registry's callback; raises
        :class:`vlmi.errors.PluginError` for an invalid spec.
    """


@hookspec
def resolve_model(
    name: str, config: Mapping[str, Any] | None, hub: str, revision: str | None
) -> ModelSpec | None:
    """Claim a model name that no plugin registered (a hub id, a local folder, ...).

    Return a :class:`vlmi.plugin.ModelSpec` for ``name`` if this plugin can serve it,
    else ``None``. Every plugin is asked; several claims are decided like several
    registrations of one name (see :class:`vlmi.plugin.ModelSpec`'s ``generic`` and
    ``preference``).

    :param name: what the user passed to ``vlmi.load``.
    :param config: for a hub id or a local folder, its ``config.json`` (read by vlmi
        before any weights are fetched); claim it by its architecture. None otherwise.
    :param hub: the hub the weights of a hub id come from (``"huggingface"`` or
        ``"modelscope"``: ``hub=`` / ``--hub``, else ``$VLMI_HUB``, else Hugging Face);
        a claimed hub id's spec names its weights there (``weights={hub: name}``).
    :param revision: the hub revision asked for (``revision=`` / ``--revision``), or None.
    """


@hookspec(firstresult=True)
def build_dataset_prompt(model: str, prompt: DatasetPrompt) -> Sample | None:
    """Give one of this plugin's models its own prompt for a row of a benchmark file.

    Optional, like VLMEvalKit's per-model ``build_prompt``: return ``None`` to
    keep VLMEvalKit's default (``prompt.default``). Only the plugin that
    registered ``model`` is asked. Predictions record the style used
    (``"<model>:<dataset_type>"`` when this hook answered).

    :param model: the canonical name of the model that will answer.
    :param prompt: the row, its images, dataset type and name, and the default parts.
    :returns: a :class:`vlmi.plugin.Sample` (e.g. ``Sample((ImagePart(b64), TextPart(q)))``).
    """


@hookspec
def register_commands(register: Callable[[Command], None]) -> None:
    """Add commands to the ``vlmi`` command (``vlmi serve``, ``vlmi compare``, ...).

    Call ``register(Command(name, help, add_arguments, run))`` once per command:
    ``add_arguments(parser)`` declares its arguments on an ``argparse`` parser, and
    ``run(args)`` does the work and returns the exit status (a
    :class:`vlmi.errors.VlmiError` it raises is printed as ``error: ...``, status 1).
    Import nothing heavy here or in ``add_arguments``: ``vlmi --help`` builds every
    command's parser.

    :param register: the callback; a name taken twice is an error naming both.
    """


@hookspec
def register_executors(register: Callable[[ExecutorType], None]) -> None:
    """Add a way to execute ``vlmi run`` (e.g. a pool of replicas on a cluster).

    Call ``register(ExecutorType(name, create, add_arguments, from_arguments))``:
    ``add_arguments(group)`` adds its flags to ``vlmi run``; ``from_arguments(args)``
    returns the :class:`vlmi.plugin.Executor` those flags ask for, or ``None``;
    ``create(**kwargs)`` builds one from Python.

    :param register: the callback.
    """
