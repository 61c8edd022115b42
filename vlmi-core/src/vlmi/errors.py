"""Every error vlmi raises, or puts in the slot of a failed sample.

Each message names the input at fault and what to do about it. All errors
derive from :class:`VlmiError`, so ``except vlmi.errors.VlmiError`` catches
exactly the problems vlmi knows how to explain.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class VlmiError(Exception):
    """Base class of every vlmi error.

    ``sample_index`` is set when the error stands in the slot of a failed
    sample in an ``eval_batch`` result. ``retryable`` says whether the failure
    was of the moment (the engine, the network: :class:`TransientError`), so
    that answering the sample again may succeed, or of the sample itself (a
    bad image, a prompt too long, an invalid option), which fails again.
    """

    sample_index: int | None = None
    retryable: bool = False

    @property
    def reason(self) -> str:
        """The message alone, without the class name."""
        return str(self)

    def to_dict(self) -> dict[str, Any]:
        """``{"type": ..., "message": ..., "retryable": ...}`` for JSON output."""
        return {"type": type(self).__name__, "message": str(self), "retryable": self.retryable}


# --- plugins and the registry ---------------------------------------------------


class PluginError(VlmiError):
    """A plugin could not be imported or could not register its models."""


class DuplicateModelError(PluginError):
    """One plugin registers a model name twice, or several claim it and no rule decides.

    ``twice`` is True when one plugin registered the name twice (a bug in that plugin).
    """

    def __init__(self, name: str, owners: Iterable[str], twice: bool = False) -> None:
        self.name = name
        self.owners = tuple(owners)
        self.twice = twice
        listed = " and ".join(self.owners)
        if twice:
            message = (
                f"model name {name!r} is registered twice by {listed} (a bug in that plugin); "
                "report it to its authors, or pick another provider with "
                "plugin=<distribution> (--plugin on the command line)"
            )
        else:
            message = (
                f"model name {name!r} is claimed by {listed}, and no rule decides between them; "
                "pick one with plugin=<distribution> (--plugin on the command line), "
                "uninstall one, or block one with VLMI_DISABLE_PLUGINS=<distribution>"
            )
        super().__init__(message)


class UnknownModelError(VlmiError):
    """No installed plugin provides the requested model."""


class InvalidOptionError(VlmiError, TypeError):
    """An option of ``vlmi.load`` or a generation option is unknown or has a bad value."""


# --- samples --------------------------------------------------------------------


class InvalidSampleError(VlmiError, ValueError):
    """A sample is malformed: nothing to ask, a bad content part, a bad type."""


class TooManyImagesError(InvalidSampleError):
    """A sample has more images than the model declares it can take."""


class DuplicateIndexError(InvalidSampleError):
    """A VLMEvalKit TSV gives the same ``index`` to several rows.

    Answers are matched to rows by index, so such a file is refused as a
    whole when it is read. ``repeated`` maps each repeated index to the
    file lines of its rows.
    """

    def __init__(self, message: str, repeated: dict[str, tuple[int, ...]]) -> None:
        super().__init__(message)
        self.repeated = repeated


# --- files written ----------------------------------------------------------------


class OutputFileError(VlmiError):
    """An output path names a file vlmi will not write into.

    It is one of the command's own inputs, it is not a file of the kind the
    command writes (a ``vlmi run`` output, a score file, an export), or a
    ``vlmi run`` output has a damaged line before its end. The file is left
    as it is; the message names the line at fault and the way out (another
    ``-o``, or ``--overwrite`` where replacing it is allowed).
    """


# --- images ---------------------------------------------------------------------


class ImageError(VlmiError):
    """An image input could not be turned into a picture."""


class ImageNotFoundError(ImageError, FileNotFoundError):
    """An image path names no file."""


class ImageDecodeError(ImageError):
    """The bytes are not a readable image (unknown format, truncated, corrupt)."""


class ImageTooLargeError(ImageError):
    """The image has more pixels than allowed (a decompression bomb guard)."""


class UnsupportedImageTypeError(ImageError, TypeError):
    """The value given as an image is of a type vlmi cannot read."""


class ImageDownloadError(ImageError):
    """An image URL could not be fetched (network error, timeout, too large).

    ``retryable`` is True when the fetch failed for the moment (it timed out,
    the connection was refused or reset, the server was busy), False when the
    address itself is at fault (not found, too large).
    """

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


# --- videos ---------------------------------------------------------------------


class VideoNotSupportedError(InvalidSampleError):
    """A sample holds a video and the model takes none (its spec declares no ``video``).

    The message names the installed models that take video.
    """


class VideoError(InvalidSampleError):
    """A video input could not be turned into frames."""


class VideoNotFoundError(VideoError):
    """A video path names no file (or a frame folder holds no image)."""


class VideoDecodeError(VideoError):
    """Not a video, an unsupported codec, no frames, or a sampling that picks none."""


class VideoTooLargeError(VideoError):
    """A video is longer, or its frames hold more pixels, than allowed."""


class VideoDownloadError(VideoError):
    """A video URL could not be fetched (refused, network error, timeout, too large).

    ``retryable`` as for :class:`ImageDownloadError`.
    """

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


# --- weights and engines --------------------------------------------------------


class WeightsNotFoundError(VlmiError):
    """Model weights are neither in the given folder nor downloadable."""


class EngineUnavailableError(VlmiError):
    """The engine cannot run here: not installed, no CUDA device, ..."""


class JudgeUnavailableError(EngineUnavailableError):
    """The scoring judge did not answer its first request: nothing was judged."""


class TransientError(VlmiError):
    """A failure of the moment, not of the sample: answering it again later may succeed.

    Its subclasses say what failed; an engine plugin maps its engine's own
    exceptions onto them (``Model.map_error``). ``vlmi run --retry-failed``
    answers the samples that failed this way again.
    """

    retryable = True


class EngineGoneError(TransientError):
    """The engine is gone (its process died, its server shut down): nothing more is answered.

    ``vlmi run`` stops at the first one (exit status 5) instead of failing
    every remaining sample; start the engine again and rerun with
    ``--retry-failed``.
    """


class EngineTimeoutError(TransientError, TimeoutError):
    """The engine or endpoint gave no answer in time."""


class EngineConnectionError(TransientError, ConnectionError):
    """The engine or endpoint could not be reached: connection refused or reset, busy."""


class EngineOutOfMemoryError(TransientError):
    """The engine ran out of accelerator memory (loading the model, or on a batch).

    Retryable: the memory may be free on another try, with another batch
    size, or with other processes gone.
    """


class GenerationError(VlmiError):
    """The engine failed on a sample; the original exception is the ``__cause__``."""


class MissingDependencyError(EngineUnavailableError, WeightsNotFoundError, ImportError):
    """Something to install is missing: an extra, an engine, a plugin or an extension.

    The one error for "install X", everywhere: the message names the command,
    and ``install`` holds it (e.g. ``"pip install vlmi-serve"``).

    Until vlmi-core 0.3 it is also an :class:`EngineUnavailableError` and a
    :class:`WeightsNotFoundError`, the classes vlmi-core 0.2 raised for a
    missing engine, Ray or hub client, so ``except`` clauses written for them
    keep working; catch ``MissingDependencyError`` instead.
    """

    def __init__(self, message: str, install: str | None = None) -> None:
        super().__init__(message)
        self.install = install


__all__ = [
    "DuplicateIndexError",
    "DuplicateModelError",
    "EngineConnectionError",
    "EngineGoneError",
    "EngineOutOfMemoryError",
    "EngineTimeoutError",
    "EngineUnavailableError",
    "GenerationError",
    "ImageDecodeError",
    "ImageDownloadError",
    "ImageError",
    "ImageNotFoundError",
    "ImageTooLargeError",
    "InvalidOptionError",
    "InvalidSampleError",
    "JudgeUnavailableError",
    "MissingDependencyError",
    "OutputFileError",
    "PluginError",
    "TooManyImagesError",
    "TransientError",
    "UnknownModelError",
    "UnsupportedImageTypeError",
    "VideoDecodeError",
    "VideoDownloadError",
    "VideoError",
    "VideoNotFoundError",
    "VideoNotSupportedError",
    "VideoTooLargeError",
    "VlmiError",
    "WeightsNotFoundError",
]
