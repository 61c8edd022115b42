"""Samples as chat messages: order kept, images as data: URIs of the bytes vlmi loaded."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

import vlmi
from vlmi.plugin import ImagePart, Sample, TextPart
from vlmi.testing import make_picture
from vlmi_openai.prompts import build_messages, image_data_uri


def loaded(src) -> ImagePart:
    return ImagePart(src, vlmi.load_img(src))


def decoded(uri: str) -> tuple[str, bytes]:
    header, _, payload = uri.partition(",")
    assert header.endswith(";base64")
    return header[len("data:") : -len(";base64")], base64.b64decode(payload)


def saved(tmp_path: Path, name: str, fmt: str, **kwargs) -> Path:
    path = tmp_path / name
    make_picture(seed=2).save(path, format=fmt, **kwargs)
    return path


def test_text_only_is_one_plain_user_message():
    sample = Sample((TextPart("What is two plus two?"),))
    assert build_messages(sample) == [{"role": "user", "content": "What is two plus two?"}]


def test_interleaved_parts_keep_their_order(tmp_path):
    first = saved(tmp_path, "a.png", "PNG")
    second = saved(tmp_path, "b.jpg", "JPEG")
    sample = Sample(
        (TextPart("Compare"), loaded(str(first)), TextPart("with"), loaded(str(second)))
    )
    (message,) = build_messages(sample)
    assert message["role"] == "user"
    kinds = [part["type"] for part in message["content"]]
    assert kinds == ["text", "image_url", "text", "image_url"]
    assert [p["text"] for p in message["content"] if p["type"] == "text"] == ["Compare", "with"]
    mimes = [decoded(p["image_url"]["url"])[0] for p in message["content"][1::2]]
    assert mimes == ["image/png", "image/jpeg"]


def test_files_bytes_base64_and_data_uris_go_as_the_exact_bytes(tmp_path):
    for name, fmt, mime in [
        ("p.png", "PNG", "image/png"),
        ("p.jpg", "JPEG", "image/jpeg"),
        ("p.webp", "WEBP", "image/webp"),
    ]:
        path = saved(tmp_path, name, fmt)
        raw = path.read_bytes()
        encoded = base64.b64encode(raw).decode()
        for src in (str(path), path, raw, encoded, f"data:{mime};base64,{encoded}"):
            assert decoded(image_data_uri(loaded(src))) == (mime, raw), (name, type(src))


def test_decoded_pictures_go_as_png_of_the_same_pixels(tmp_path):
    picture = make_picture(seed=4)
    for src in (picture, saved(tmp_path, "p.gif", "GIF"), saved(tmp_path, "p.bmp", "BMP")):
        part = loaded(src)
        mime, data = decoded(image_data_uri(part))
        assert mime == "image/png"
        assert Image.open(io.BytesIO(data)).convert("RGB").tobytes() == part.image.tobytes()


def test_a_rotated_photo_goes_upright_as_png(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    path = saved(tmp_path, "rotated.jpg", "JPEG", exif=exif.tobytes())
    part = loaded(str(path))
    assert part.image.size == (48, 64)  # vlmi applied the rotation
    mime, data = decoded(image_data_uri(part))
    assert mime == "image/png" and Image.open(io.BytesIO(data)).size == (48, 64)
