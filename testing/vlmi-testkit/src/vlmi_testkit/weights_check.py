"""Did a real vLLM engine load every weight of a checkpoint folder, and leave no parameter random?

A tiny checkpoint shaped to fit vLLM's loader can still pass a generation test
while some of its tensors are skipped (a name the model's ``load_weights``
drops silently) or some of the model's parameters keep their random
initialisation. This module follows the data instead of trusting names:

- :func:`install` (once, before the engine starts) wraps vLLM 0.32's
  ``DefaultModelLoader.load_weights``. While the engine loads, every tensor read
  from the folder's safetensors is tracked through the torch operations the
  model's ``load_weights`` runs on it (a ``TorchDispatchMode``: narrow, cat,
  transpose, ``copy_``...), down to the parameter storages it is written into.
- :func:`weights_report` / :func:`assert_all_weights_loaded` (after the engine
  started) read what was recorded for the engine's model, through
  ``LLM.apply_model``: the folder's tensors whose data reached no parameter,
  and the model's parameters no folder tensor was written into.

Usage, in a conftest of engine tests (engines in-process: vLLM's
``VLLM_ENABLE_V1_MULTIPROCESSING=0``, so the engine loads in the test process)::

    from vlmi_testkit import weights_check

    weights_check.install()                      # at import, before any engine starts
    ...
    weights_check.assert_all_weights_loaded(llm)  # llm: the started vllm.LLM

``assert_all_weights_loaded(llm, allow_unused=("vision_tower.vision_model.encoder.layers.23.",))``
accepts folder tensors the architecture skips by design (name prefixes; say why
at the call). :func:`weights_report` gives the sets without asserting.

It costs no engine start: call it in a test that already has the engine. The
tracking keeps the loaded tensors alive while the weights load (a tiny
checkpoint's size), and checks only engines that load safetensors through
vLLM's default loader.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

#: the attribute the record is kept under on vLLM's model (an ``nn.Module``)
_RECORD_ATTRIBUTE = "_vlmi_testkit_weights_record"


@dataclass
class WeightsReport:
    """What one engine's weight loading did with its checkpoint folder."""

    #: the safetensors files' tensor names
    in_folder: set[str] = field(default_factory=set)
    #: the model's parameter names (``named_parameters``, before vLLM's CPU repacking)
    parameters: set[str] = field(default_factory=set)
    #: folder tensors whose data was written into some parameter
    used: set[str] = field(default_factory=set)
    #: parameters some folder tensor was written into
    loaded_parameters: set[str] = field(default_factory=set)

    @property
    def unused(self) -> set[str]:
        """Tensors of the folder whose data reached no parameter."""
        return self.in_folder - self.used

    @property
    def unloaded(self) -> set[str]:
        """Parameters of the model that no tensor of the folder was written into."""
        return self.parameters - self.loaded_parameters

    def problems(self) -> str:
        """A readable list of what is wrong; empty when every weight was loaded."""
        lines = []
        if not self.in_folder:
            lines.append("no safetensors tensor was found in the checkpoint folder")
        if self.unused:
            lines.append(f"tensors in the folder never loaded: {sorted(self.unused)}")
        if self.unloaded:
            lines.append(f"parameters left as initialised: {sorted(self.unloaded)}")
        return "\n".join(lines)


def _storage_key(tensor: Any) -> int | None:
    import torch

    if not isinstance(tensor, torch.Tensor) or tensor.is_meta:
        return None
    try:
        return int(tensor.untyped_storage().data_ptr())
    except (RuntimeError, NotImplementedError):
        return None


def _tracking_mode() -> Any:
    """A dispatch mode carrying folder-tensor names from inputs to outputs and written arguments."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class Tracking(TorchDispatchMode):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            #: storage address -> names of the folder tensors its data came from
            self.sources: dict[int, set[str]] = {}
            #: every tracked tensor, kept alive so that no address is reused while loading
            self.alive: list[Any] = []

        def mark(self, tensor: Any, names: set[str]) -> None:
            key = _storage_key(tensor)
            if key is not None and names:
                self.sources.setdefault(key, set()).update(names)
                self.alive.append(tensor)

        def __torch_dispatch__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            kwargs = kwargs or {}
            result = func(*args, **kwargs)
            inputs, _ = tree_flatten((args, kwargs))
            names: set[str] = set()
            for value in inputs:
                key = _storage_key(value)
                if key is not None:
                    names |= self.sources.get(key, set())
            if names:
                written = [
                    argument.name
                    for argument in func._schema.arguments
                    if argument.alias_info is not None and argument.alias_info.is_write
                ]
                for position, argument in enumerate(func._schema.arguments):
                    if argument.name in written:
                        in_args = position < len(args)
                        self.mark(args[position] if in_args else kwargs.get(argument.name), names)
                outputs, _ = tree_flatten(result)
                for value in outputs:
                    if isinstance(value, torch.Tensor):
                        self.mark(value, names)
            return result

    return Tracking()


def _tensor_names(folder: Path) -> set[str]:
    from safetensors import safe_open

    names: set[str] = set()
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as handle:
            names.update(handle.keys())
    return names


def install() -> None:
    """Record, for every engine started from now on in this process, what its weight loading did.

    Idempotent. Wraps ``vllm.model_executor.model_loader.default_loader.
    DefaultModelLoader.load_weights``; engines started before it are not recorded.
    """
    from vllm.model_executor.model_loader import default_loader

    loader_class = default_loader.DefaultModelLoader
    original = loader_class.load_weights
    if getattr(original, "_vlmi_testkit_wrapped", False):
        return

    def load_weights(self: Any, model: Any, model_config: Any) -> None:
        mode = _tracking_mode()
        all_weights = self.get_all_weights

        def tracked_weights(config: Any, module: Any) -> Iterator[tuple[str, Any]]:
            for name, tensor in all_weights(config, module):
                own = tensor.clone()  # its own storage: one address, one name
                mode.mark(own, {name})
                yield name, own

        report = WeightsReport(
            in_folder=_tensor_names(Path(model_config.model)),
            parameters={name for name, _ in model.named_parameters()},
        )
        self.get_all_weights = tracked_weights
        try:
            with mode:
                original(self, model, model_config)
        finally:
            del self.get_all_weights
        for name, parameter in model.named_parameters(remove_duplicate=False):
            names = mode.sources.get(_storage_key(parameter) or -1, set())
            if names:
                report.loaded_parameters.add(name)
                report.used |= names
        for _, buffer in model.named_buffers():
            report.used |= mode.sources.get(_storage_key(buffer) or -1, set())
        mode.alive.clear()
        setattr(model, _RECORD_ATTRIBUTE, report)

    load_weights._vlmi_testkit_wrapped = True  # type: ignore[attr-defined]
    loader_class.load_weights = load_weights


def weights_report(llm: Any) -> WeightsReport:
    """The :class:`WeightsReport` of a started in-process ``vllm.LLM`` (one worker)."""
    reports = llm.apply_model(lambda model: getattr(model, _RECORD_ATTRIBUTE, None))
    if not reports or reports[0] is None:
        raise AssertionError(
            "no weight-loading record for this engine: call vlmi_testkit.weights_check.install() "
            "before the engine starts, with the engine in this process "
            "(VLLM_ENABLE_V1_MULTIPROCESSING=0) and its weights in safetensors"
        )
    report: WeightsReport = reports[0]
    return report


def assert_all_weights_loaded(llm: Any, allow_unused: Iterable[str] = ()) -> WeightsReport:
    """Fail unless every folder tensor reached a parameter and every parameter was loaded.

    ``allow_unused``: name prefixes of folder tensors the architecture is known
    not to load in the released checkpoints too (say why at the call), e.g. a
    vision tower's layers after the feature layer vLLM stops at.
    """
    report = weights_report(llm)
    prefixes = tuple(allow_unused)
    if prefixes:
        allowed = {name for name in report.in_folder if name.startswith(prefixes)}
        report = replace(report, used=report.used | allowed)
    problems = report.problems()
    assert not problems, problems
    return report


__all__ = ["WeightsReport", "assert_all_weights_loaded", "install", "weights_report"]
