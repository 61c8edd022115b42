"""A vlmi sample as one chat-completions user message.

Text and images keep the sample's order (interleaved stays interleaved).
Each image is sent as a ``data:`` URI: the exact bytes vlmi loaded when the
input was a file, bytes, a ``data:`` URI or base64 text in a format every
endpoint reads (PNG, JPEG, WebP) and without an EXIF rotation; otherwise
(URLs, PIL images, numpy arrays, other formats, rotated photos) the decoded
picture vlmi answers for, as PNG. The endpoint so sees the same pixels a
local engine would, and needs no access to the files or URLs.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
from pathlib import Path
from typing import Any

from vlmi.plugin import ImagePart, Sample, TextPart

#: formats sent as they are, by Pillow's format name
_SENT_AS_IS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_EXIF_ORIENTATION = 0x0112


def build_messages(sample: Sample) -> list[dict[str, Any]]:
    """The chat messages for one sample: one user turn holding its parts in order."""
    if all(isinstance(part, TextPart) for part in sample.parts):
        return [{"role": "user", "content": sample.text}]
    content: list[dict[str, Any]] = []
    for part in sample.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        else:
            content.append({"type": "image_url", "image_url": {"url": image_data_uri(part)}})
    return [{"role": "user", "content": content}]


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


__all__ = ["build_messages", "image_data_uri", "image_payload", "raw_bytes"]
