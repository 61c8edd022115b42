"""Image inputs of every supported kind, all showing the same picture, made locally."""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

#: Every kind of image input ``vlmi.load_img`` accepts.
IMAGE_KINDS = ("path", "pathlib", "url", "data_uri", "base64", "bytes", "pil", "numpy")


def make_picture(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    """A small RGB picture with shapes, different for each seed."""
    img = Image.new("RGB", (width, height), ((40 * seed) % 256, 120, 200))
    draw = ImageDraw.Draw(img)
    draw.rectangle((width // 8, height // 8, width // 2, height // 2), fill=(255, 200, 0))
    draw.ellipse((width // 2, height // 3, width - 4, height - 4), fill=((90 * seed) % 256, 30, 60))
    return img


def png_bytes(img: Image.Image) -> bytes:
    """The picture as PNG bytes (lossless, so every kind decodes to the same pixels)."""
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve a folder over HTTP on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def image_inputs(folder: Path, base_url: str | None, seed: int = 0) -> dict[str, Any]:
    """One input per kind in IMAGE_KINDS, all of the same picture.

    ``base_url`` must serve ``folder`` (see :func:`serve_folder`); without it
    the ``url`` kind is left out. ``numpy`` is left out where numpy is missing.
    """
    picture = make_picture(seed=seed)
    data = png_bytes(picture)
    path = folder / f"picture-{seed}.png"
    path.write_bytes(data)
    encoded = base64.b64encode(data).decode("ascii")
    inputs: dict[str, Any] = {
        "path": str(path),
        "pathlib": path,
        "data_uri": f"data:image/png;base64,{encoded}",
        "base64": encoded,
        "bytes": data,
        "pil": picture.copy(),
    }
    if base_url is not None:
        inputs["url"] = f"{base_url}/{path.name}"
    try:
        import numpy as np

        inputs["numpy"] = np.asarray(picture)
    except ImportError:
        pass
    return inputs


__all__ = ["IMAGE_KINDS", "image_inputs", "make_picture", "png_bytes", "serve_folder"]
