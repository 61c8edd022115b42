"""Schemathesis hooks for the fuzz test: how to make the pictures an ``image-url`` names.

The request schema marks image URLs with ``format: image-url``: any string
matching the pattern is well formed, but only a decodable picture is a valid
one. This teaches the generator to make valid ones: small PNG, JPEG and
GIF pictures of random size and colour, as ``data:`` URIs (so the server
never fetches anything).
"""

from __future__ import annotations

import base64
import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image


@st.composite
def picture_uris(draw: st.DrawFn) -> str:
    width = draw(st.integers(1, 48))
    height = draw(st.integers(1, 48))
    colour = draw(st.tuples(*[st.integers(0, 255)] * 3))
    kind = draw(st.sampled_from(["PNG", "JPEG", "GIF"]))
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format=kind)
    payload = base64.b64encode(buffer.getvalue()).decode()
    return f"data:image/{kind.lower()};base64,{payload}"


schemathesis.openapi.format("image-url", picture_uris())
