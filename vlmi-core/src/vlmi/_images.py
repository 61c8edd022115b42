"""Turn any supported image input into an RGB ``PIL.Image.Image``.

Accepted inputs: a file path (``str`` or ``os.PathLike``), an ``http(s)://``
URL, a ``data:`` URI, a raw base64 string, ``bytes``, a PIL image and a numpy
array (numpy is imported only if such an array is given). EXIF orientation is
applied. Every failure is a typed :mod:`vlmi.errors` exception that names the
input and the fix.

Limits come from the environment:

- ``VLMI_MAX_IMAGE_PIXELS`` (default 89,478,485, Pillow's own warning limit):
  larger images are refused as possible decompression bombs.
- ``VLMI_URL_TIMEOUT`` (seconds, default 20: a deadline for the whole
  download, not for each read) and ``VLMI_URL_MAX_BYTES`` (default 64 MiB).
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlmi.errors import (
    ImageDecodeError,
    ImageDownloadError,
    ImageNotFoundError,
    ImageTooLargeError,
    UnsupportedImageTypeError,
)

DEFAULT_MAX_PIXELS = 89_478_485
DEFAULT_URL_TIMEOUT = 20.0
DEFAULT_URL_MAX_BYTES = 64 * 1024 * 1024

if TYPE_CHECKING:
    from PIL import Image

_BASE64_RE = re.compile(r"^[A-Za-z0-9+/=_\-\s]+$")


def describe(src: Any, limit: int = 80) -> str:
    """A short, printable description of an image input for error messages."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        return f"<{len(src)} bytes>"
    if is_pil_image(src):
        return f"<PIL image {src.mode} {src.width}x{src.height}>"
    if type(src).__module__ == "numpy":
        return (
            f"<numpy array shape={getattr(src, 'shape', '?')} dtype={getattr(src, 'dtype', '?')}>"
        )
    text = os.fspath(src) if isinstance(src, os.PathLike) else str(src)
    if text.startswith("data:") or len(text) > limit:
        return repr(text[: limit - 3] + "...")
    return repr(text)


def url_max_bytes() -> int:
    """The most bytes one image may have when downloaded (``VLMI_URL_MAX_BYTES``)."""
    return int(os.environ.get("VLMI_URL_MAX_BYTES", DEFAULT_URL_MAX_BYTES))


def max_pixels() -> int:
    """The largest number of pixels an image may have (``VLMI_MAX_IMAGE_PIXELS``)."""
    return int(os.environ.get("VLMI_MAX_IMAGE_PIXELS", DEFAULT_MAX_PIXELS))


def is_pil_image(value: Any) -> bool:
    """Whether ``value`` is a PIL image (without importing Pillow when nothing could be one)."""
    if "PIL.Image" not in sys.modules:  # no PIL image can exist before PIL is imported
        return False
    from PIL import Image  # waits for an import under way in another thread

    return isinstance(value, Image.Image)


def load_img(src: Any) -> Image.Image:
    """Load one image input as an RGB PIL image (see the module docstring)."""
    if is_pil_image(src):
        return _finish(src, src)
    if isinstance(src, (bytes, bytearray, memoryview)):
        return _decode(bytes(src), src)
    if type(src).__module__ == "numpy" and hasattr(src, "shape"):
        return _from_array(src)
    if isinstance(src, os.PathLike):
        return _from_path(Path(os.fspath(src)), src)
    if isinstance(src, str):
        return _from_string(src)
    raise UnsupportedImageTypeError(
        f"cannot read an image from a {type(src).__name__} ({describe(src)}); give a file "
        "path, an http(s) URL, a data: URI, base64 text, bytes, a PIL image or a numpy array"
    )


def _from_string(text: str) -> Image.Image:
    stripped = text.strip()
    lowered = stripped[:16].lower()
    if lowered.startswith(("http://", "https://")):
        return _decode(download(stripped), text)
    if lowered.startswith("data:"):
        return _decode(decode_data_uri(stripped), text)
    if lowered.startswith("file://"):
        from urllib.request import url2pathname

        return _from_path(Path(url2pathname(stripped[7:])), text)
    path = Path(stripped).expanduser()
    if _could_be_path(stripped) and _exists(path):
        return _from_path(path, text)
    if len(stripped) >= 64 and _BASE64_RE.match(stripped):
        try:
            raw = base64.b64decode(_pad(stripped), validate=False)
        except (binascii.Error, ValueError):
            raw = b""
        if raw:
            return _decode(raw, text)
    raise ImageNotFoundError(
        f"image {describe(text)} is not a file that exists (looked for {path.absolute()}), nor a "
        "URL, data: URI or base64 image; check the path (relative paths are taken from the "
        "current folder)"
    )


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # e.g. a name too long to be a file: base64 text
        return False


def _could_be_path(text: str) -> bool:
    return len(text) < 4096 and "\n" not in text


def _pad(text: str) -> str:
    text = "".join(text.split()).replace("-", "+").replace("_", "/")
    return text + "=" * (-len(text) % 4)


def decode_data_uri(uri: str) -> bytes:
    """The payload of a ``data:`` URI (base64 or percent-encoded)."""
    header, sep, payload = uri.partition(",")
    if not sep:
        raise ImageDecodeError(
            f"data URI {describe(uri)} has no ',' before its payload; expected "
            "data:image/png;base64,<data>"
        )
    try:
        if header.endswith(";base64"):
            return base64.b64decode(_pad(payload), validate=False)
        from urllib.parse import unquote_to_bytes

        return unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise ImageDecodeError(f"data URI {describe(uri)} holds invalid base64: {exc}") from exc


def download(url: str, what: str = "image") -> bytes:
    """The body of ``url``, within ``VLMI_URL_TIMEOUT`` for the whole download.

    The one download path of media inputs (images and videos), under the same checks
    (:mod:`vlmi._download_checks`) and size limit (``VLMI_URL_MAX_BYTES``); failures are
    :class:`~vlmi.errors.ImageDownloadError` whose message names ``what``.
    """
    import urllib.error
    import urllib.request

    from ._download_checks import checked_opener

    timeout = float(os.environ.get("VLMI_URL_TIMEOUT", DEFAULT_URL_TIMEOUT))
    limit = url_max_bytes()
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"User-Agent": "vlmi"})
    received = bytearray()
    try:
        with checked_opener().open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise ImageDownloadError(
                    f"{what} URL {describe(url)} is {int(declared)} bytes, over the limit of "
                    f"{limit}; raise VLMI_URL_MAX_BYTES or download it yourself"
                )
            while len(received) <= limit:
                # read1 returns what has arrived, so a server that trickles its body is
                # cut off at the deadline instead of holding the sample forever
                _shorten_timeout(response, deadline)
                piece = response.read1(min(65536, limit + 1 - len(received)))
                if not piece:
                    break
                received += piece
                if time.monotonic() > deadline:
                    raise ImageDownloadError(
                        f"{what} URL {describe(url)} did not finish downloading within "
                        f"{timeout:g} s ({len(received)} bytes so far); raise VLMI_URL_TIMEOUT "
                        "or download it yourself",
                        retryable=True,
                    )
    except ImageDownloadError:
        raise
    except TimeoutError as exc:
        raise ImageDownloadError(
            f"{what} URL {describe(url)} did not finish downloading within {timeout:g} s "
            f"({len(received)} bytes so far); raise VLMI_URL_TIMEOUT or download it yourself",
            retryable=True,
        ) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ImageDownloadError(
            f"could not fetch {what} URL {describe(url)}: {exc}; check the address and the "
            f"network, or raise VLMI_URL_TIMEOUT (now {timeout:g} s)",
            retryable=_of_the_moment(exc),
        ) from exc
    if len(received) > limit:
        raise ImageDownloadError(
            f"{what} URL {describe(url)} sent more than {limit} bytes; raise VLMI_URL_MAX_BYTES "
            "or download it yourself"
        )
    return bytes(received)


def _of_the_moment(exc: BaseException) -> bool:
    """Whether a failed fetch may succeed later: timed out, refused or reset, server busy."""
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):
        return exc.code == 429 or exc.code >= 500
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return isinstance(reason, (TimeoutError, ConnectionError))


def _shorten_timeout(response: Any, deadline: float) -> None:
    """Let the next socket read wait no longer than the time left to the deadline."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(0.01, deadline - time.monotonic()))


def _from_path(path: Path, src: Any) -> Image.Image:
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ImageNotFoundError(
            f"image file {describe(src)} {what} (looked for {path.absolute()}); check the path"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageNotFoundError(f"cannot read image file {describe(src)}: {exc}") from exc
    return _decode(data, src)


def _decode(data: bytes, src: Any) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ImageDecodeError(f"image {describe(src)} is empty (0 bytes)")
    limit = max_pixels()
    _let_pillow_open(limit)
    try:
        img = Image.open(io.BytesIO(data))
        _check_size(img, src, limit)
        img.load()
    except (ImageTooLargeError, ImageDecodeError):
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(
            f"image {describe(src)} is too large to decode safely ({exc}); if you trust it, "
            "raise VLMI_MAX_IMAGE_PIXELS"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(
            f"image {describe(src)} is not in a format Pillow can read; convert it to PNG or JPEG"
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageDecodeError(
            f"image {describe(src)} is truncated or corrupt ({exc}); re-export or re-download it"
        ) from exc
    return _finish(img, src)


def _let_pillow_open(limit: int) -> None:
    """Raise Pillow's own decompression-bomb limit to ``limit`` where it is lower.

    Pillow refuses images over twice its ``Image.MAX_IMAGE_PIXELS`` (and warns
    over it) before vlmi sees their size, so a user who raised
    ``VLMI_MAX_IMAGE_PIXELS`` as the error told them would still be refused.
    vlmi checks every image against its own limit (:func:`_check_size`);
    Pillow's is only ever raised here, never lowered, and no warning filter
    is touched (``warnings.catch_warnings`` is not thread-safe).
    """
    from PIL import Image

    current = Image.MAX_IMAGE_PIXELS
    if current is not None and current < limit:
        Image.MAX_IMAGE_PIXELS = limit


def _check_size(img: Image.Image, src: Any, limit: int) -> None:
    pixels = img.width * img.height
    if pixels > limit:
        raise ImageTooLargeError(
            f"image {describe(src)} has {img.width}x{img.height} = {pixels} pixels, over the "
            f"limit of {limit} (a decompression bomb guard); if you trust it, raise "
            "VLMI_MAX_IMAGE_PIXELS"
        )


#: the EXIF tag that says how the stored pixels are turned; 1 (or none) is upright
_ORIENTATION = 0x0112


def _upright(img: Image.Image) -> Image.Image:
    """``img`` turned as its EXIF orientation says; ``img`` itself when it is already upright.

    Pillow's ``exif_transpose`` copies every image that needs no turning (a
    full pixel copy per sample); the orientation tag is read first so that only
    turned images pay for a new one. A given PIL image is never changed.
    """
    from PIL import ImageOps

    try:
        img.load()
        if img.getexif().get(_ORIENTATION, 1) in range(2, 9):
            return ImageOps.exif_transpose(img) or img
    except (OSError, ValueError, SyntaxError, TypeError):
        pass  # a broken EXIF block: keep the pixels as stored
    return img


def _finish(img: Image.Image, src: Any) -> Image.Image:
    from PIL import Image

    _check_size(img, src, max_pixels())
    img = _upright(img)
    if img.mode == "RGB":
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Composite transparency onto white rather than letting it turn black.
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _from_array(array: Any) -> Image.Image:
    import numpy as np
    from PIL import Image

    arr = np.asarray(array)
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)  # channels-first (C, H, W) -> (H, W, C)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise UnsupportedImageTypeError(
            f"numpy array of shape {arr.shape} is not an image; expected (H, W), (H, W, 3), "
            "(H, W, 4) or channels-first (3, H, W)"
        )
    if arr.dtype.kind == "f":
        if arr.size and (np.nanmin(arr) < 0.0 or np.nanmax(arr) > 1.0):
            raise UnsupportedImageTypeError(
                f"float numpy array ({describe(array)}) must hold values in [0, 1]; scale it or "
                "convert it to uint8"
            )
        arr = (arr * 255.0 + 0.5).astype(np.uint8)
    elif arr.dtype.kind == "b":
        arr = arr.astype(np.uint8) * 255
    elif arr.dtype != np.uint8:
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise UnsupportedImageTypeError(
                f"integer numpy array ({describe(array)}) must hold values in [0, 255]"
            )
        arr = arr.astype(np.uint8)
    return _finish(Image.fromarray(np.ascontiguousarray(arr)), array)


__all__ = ["decode_data_uri", "describe", "download", "is_pil_image", "load_img", "max_pixels"]
