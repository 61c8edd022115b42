"""A vlmi sample as one chat-completions user message.

Text and images keep the sample's order (interleaved stays interleaved).
Each image is sent as a ``data:`` URI: the exact bytes vlmi loaded when the
input was a file, bytes, a ``data:`` URI or base64 text in a format every
endpoint reads (PNG, JPEG, WebP) and without an EXIF rotation; otherwise
(URLs, PIL images, numpy arrays, other formats, rotated photos) the decoded
picture vlmi answers for, as PNG. The endpoint so sees the same pixels a
local engine would, and needs no access to the files or URLs.

A video goes as a ``video_url`` part (``video_as="video_url"``, for servers
that take video, such as vLLM and ``vlmi serve``): the file's own bytes as a
``data:`` URI, or its ``http(s)`` URL as it is; the server samples it by its
own rule. With ``video_as="frames"`` (servers without video), or for a video
given as frames (a folder or list), the frames vlmi sampled go as image parts,
in order, as PNG ``data:`` URIs.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
from pathlib import Path
from typing import Any

from vlmi.plugin import ImagePart, Sample, TextPart, VideoPart

#: formats sent as they are, by Pillow's format name
_SENT_AS_IS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_EXIF_ORIENTATION = 0x0112
#: how videos are sent: as ``video_url`` parts, or as their sampled frames
VIDEO_AS = ("video_url", "frames")
#: container signatures: (offset, bytes, MIME type)
_VIDEO_SIGNATURES = (
    (4, b"ftyp", "video/mp4"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
    (8, b"AVI ", "video/x-msvideo"),
)


def build_messages(sample: Sample, video_as: str = "video_url") -> list[dict[str, Any]]:
    """The chat messages for one sample: one user turn holding its parts in order.

    :param video_as: ``"video_url"`` or ``"frames"`` (see the module's docstring).
    """
    if all(isinstance(part, TextPart) for part in sample.parts):
        return [{"role": "user", "content": sample.text}]
    content: list[dict[str, Any]] = []
    for part in sample.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, VideoPart):
            url = video_url(part) if video_as == "video_url" else None
            if url is not None:
                content.append({"type": "video_url", "video_url": {"url": url}})
            else:
                content.extend(
                    {"type": "image_url", "image_url": {"url": _png_uri(frame)}}
                    for frame in part.frames or ()
                )
        else:
            content.append({"type": "image_url", "image_url": {"url": image_data_uri(part)}})
    return [{"role": "user", "content": content}]


def video_url(part: VideoPart) -> str | None:
    """The ``video_url`` sent for a video: its URL, or its file as a ``data:`` URI.

    None for a video given as frames (a folder or a list), which has no file.
    """
    source = part.source.source
    if isinstance(source, str) and source.strip()[:8].lower().startswith(("http://", "https:/")):
        return source.strip()
    if isinstance(source, (list, tuple)) or (
        isinstance(source, (str, os.PathLike)) and Path(os.fspath(source)).expanduser().is_dir()
    ):
        return None
    raw = raw_bytes(source)
    if raw is None:
        return None
    mime = next(
        (m for at, magic, m in _VIDEO_SIGNATURES if raw[at : at + len(magic)] == magic),
        "application/octet-stream",
    )
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def _png_uri(image: Any) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def image_data_uri(part: ImagePart) -> str:
    """The ``data:`` URI sent for one loaded image part."""
    data, mime = image_payload(part)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_payload(part: ImagePart) -> tuple[bytes, str]:
    """``(bytes, MIME type)``: the loaded bytes where they can go as they are, else PNG."""
    raw = raw_bytes(part.source)
    if raw is not None:
        mime = _sendable_type(raw)
        if mime is not None:
            return raw, mime
    if part.image is None:
        raise ValueError("the image part is not loaded (vlmi loads images before generate)")
    buffer = io.BytesIO()
    part.image.save(buffer, format="PNG")
    return buffer.getvalue(), "image/png"


def raw_bytes(source: Any) -> bytes | None:
    """The encoded image bytes behind an input, where it has any (None for URLs, PIL, numpy)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, os.PathLike):
        return _read(Path(os.fspath(source)))
    if not isinstance(source, str):
        return None
    text = source.strip()
    head = text[:16].lower()
    if head.startswith(("http://", "https://", "file://")):
        return None
    if head.startswith("data:"):
        header, _, payload = text.partition(",")
        return _b64(payload) if header.lower().endswith(";base64") else None
    if len(text) < 4096 and "\n" not in text:
        found = _read(Path(text).expanduser())
        if found is not None:
            return found
    return _b64(text) if len(text) >= 64 else None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _b64(text: str) -> bytes | None:
    cleaned = "".join(text.split()).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=False) or None
    except (binascii.Error, ValueError):
        return None


def _sendable_type(raw: bytes) -> str | None:
    """The MIME type when ``raw`` may go as it is: a common format, no EXIF rotation."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as img:  # reads the header only
            mime = _SENT_AS_IS.get(img.format or "")
            if mime is None or getattr(img, "n_frames", 1) > 1:
                return None
            if img.getexif().get(_EXIF_ORIENTATION, 1) != 1:
                return None
            return mime
    except Exception:  # not readable as it is: send the decoded picture
        return None


__all__ = [
    "VIDEO_AS",
    "build_messages",
    "image_data_uri",
    "image_payload",
    "raw_bytes",
    "video_url",
]
