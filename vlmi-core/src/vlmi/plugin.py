"""Everything a vlmi plugin needs, in one module: model plugins and extensions alike.

A model plugin declares its models in its top-level module with
``@hookimpl`` functions and implements a :class:`Model` (or
:class:`BatchedModel`) subclass in a module that ``vlmi.load`` imports only
when the model is loaded::

    from vlmi.plugin import ModelSpec, hookimpl

    @hookimpl
    def register_models(register):
        register(ModelSpec(name="myfamily-7b", factory="vlmi_myfamily.model:MyModel",
                           family="myfamily", engine="my-engine"))

An extension adds a command (:class:`Command`, hook ``register_commands``)
or a way to execute ``vlmi run`` (:class:`Executor` and
:class:`ExecutorType`, hook ``register_executors``); ``vlmi-serve`` and
``vlmi-ray`` are built from this module alone.

The rest of ``vlmi``'s modules (``vlmi._*``) are private: their names and
signatures may change between releases; what is here does not without
notice. Heavy pieces are imported on first use, so importing this module
from a plugin's ``__init__`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vlmi import errors
from vlmi.errors import (
    EngineOutOfMemoryError,
    EngineUnavailableError,
    GenerationError,
    InvalidOptionError,
    InvalidSampleError,
    MissingDependencyError,
    PluginError,
    TooManyImagesError,
    VideoDecodeError,
    VideoNotSupportedError,
    VideoTooLargeError,
    VlmiError,
    WeightsNotFoundError,
)

from ._command import Command
from ._generation import GENERATION_OPTION_NAMES, GenerationOptions
from ._hookspecs import hookimpl
from ._lazy import lazy_getattr
from ._options import EngineOptions, WeightsOptions
from ._record import Record
from ._sample import ImagePart, Part, Sample, TextPart, VideoPart, as_sample
from ._spec import ModelSpec, PluginInfo
from ._video.values import Video, VideoSampling

if TYPE_CHECKING:
    from ._accelerator import OUT_OF_MEMORY_PHRASES, is_out_of_memory, require_cuda
    from ._api import describe_model
    from ._batching import run_built, run_chunked
    from ._checkpoint import checkpoint_config, is_hub_id
    from ._cli.options import (
        add_generation_arguments,
        add_model_arguments,
        generation_from,
        load_options_from,
    )
    from ._download_checks import add_download_check, remove_download_check
    from ._extensions import create_executor
    from ._images import describe as describe_image_source
    from ._images import load_img, url_max_bytes
    from ._model import BatchedModel, Model
    from ._options import parse_load_options
    from ._preparing import Prepared, check_limits, prepare_batch, prepare_samples
    from ._progress import progress_shown
    from ._registry import find_spec
    from ._run.executor import Executor, ExecutorType, RunJob
    from ._run.local import prepare_records
    from ._run.output import Answer, RunSummary
    from ._video.decode import decoder_name as video_decoder
    from ._video.load import load_video
    from ._vlmevalkit.prompts import DatasetPrompt
    from ._weights import resolve_weights, weights_id

_LAZY: dict[str, str | tuple[str, str]] = {
    # models
    "Model": "vlmi._model",
    "BatchedModel": "vlmi._model",
    "run_chunked": "vlmi._batching",
    "run_built": "vlmi._batching",
    "progress_shown": "vlmi._progress",
    "require_cuda": "vlmi._accelerator",
    "is_out_of_memory": "vlmi._accelerator",
    "OUT_OF_MEMORY_PHRASES": "vlmi._accelerator",
    "resolve_weights": "vlmi._weights",
    "weights_id": "vlmi._weights",
    "load_img": "vlmi._images",
    "load_video": "vlmi._video.load",
    "video_decoder": ("vlmi._video.decode", "decoder_name"),
    "parse_load_options": "vlmi._options",
    "find_spec": "vlmi._registry",
    "is_hub_id": "vlmi._checkpoint",
    "checkpoint_config": "vlmi._checkpoint",
    "DatasetPrompt": "vlmi._vlmevalkit.prompts",
    # preparing samples (every path: eval_batch, runs, serving)
    "prepare_batch": "vlmi._preparing",
    "prepare_samples": "vlmi._preparing",
    "check_limits": "vlmi._preparing",
    "Prepared": "vlmi._preparing",
    "describe_model": "vlmi._api",
    # extensions: runs
    "Executor": "vlmi._run.executor",
    "ExecutorType": "vlmi._run.executor",
    "RunJob": "vlmi._run.executor",
    "Answer": "vlmi._run.output",
    "RunSummary": "vlmi._run.output",
    "prepare_records": "vlmi._run.local",
    "create_executor": "vlmi._extensions",
    # extensions: commands and downloads
    "add_generation_arguments": "vlmi._cli.options",
    "add_model_arguments": "vlmi._cli.options",
    "generation_from": "vlmi._cli.options",
    "load_options_from": "vlmi._cli.options",
    "add_download_check": "vlmi._download_checks",
    "remove_download_check": "vlmi._download_checks",
    "url_max_bytes": "vlmi._images",
    "describe_image_source": ("vlmi._images", "describe"),
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


__all__ = [
    "GENERATION_OPTION_NAMES",
    "OUT_OF_MEMORY_PHRASES",
    "Answer",
    "BatchedModel",
    "Command",
    "DatasetPrompt",
    "EngineOptions",
    "EngineOutOfMemoryError",
    "EngineUnavailableError",
    "Executor",
    "ExecutorType",
    "GenerationError",
    "GenerationOptions",
    "ImagePart",
    "InvalidOptionError",
    "InvalidSampleError",
    "MissingDependencyError",
    "Model",
    "ModelSpec",
    "Part",
    "PluginError",
    "PluginInfo",
    "Prepared",
    "Record",
    "RunJob",
    "RunSummary",
    "Sample",
    "TextPart",
    "TooManyImagesError",
    "Video",
    "VideoDecodeError",
    "VideoNotSupportedError",
    "VideoPart",
    "VideoSampling",
    "VideoTooLargeError",
    "VlmiError",
    "WeightsNotFoundError",
    "WeightsOptions",
    "add_download_check",
    "add_generation_arguments",
    "add_model_arguments",
    "as_sample",
    "check_limits",
    "checkpoint_config",
    "create_executor",
    "describe_image_source",
    "describe_model",
    "errors",
    "find_spec",
    "generation_from",
    "hookimpl",
    "is_hub_id",
    "is_out_of_memory",
    "load_img",
    "load_options_from",
    "load_video",
    "parse_load_options",
    "prepare_batch",
    "prepare_records",
    "prepare_samples",
    "progress_shown",
    "remove_download_check",
    "require_cuda",
    "resolve_weights",
    "run_built",
    "run_chunked",
    "url_max_bytes",
    "video_decoder",
    "weights_id",
]
