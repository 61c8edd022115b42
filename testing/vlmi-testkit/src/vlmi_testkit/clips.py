"""Synthetic video clips whose every frame shows its own index, for the video tests.

Each frame is painted with two rows of :data:`BITS` black-or-white blocks: the
top row is the frame's index in binary (most significant bit first, white = 1),
the bottom row its complement, so a reader can tell a read index from noise.
Blocks are large (a sixth of the frame's height, a twelfth of its width), so
the code survives lossy codecs (H.264, VP8/VP9, MPEG-4) at their default
quality. The echo test model reads it back (``vlmi_echo.model.frame_code``) and
shows each frame of a video it gets by its index.

PyAV (``av``) encodes the clips; it is imported only when a clip is written.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

#: bits per row: indices up to 4095
BITS = 12
#: the default frame size (width, height): blocks of 16 x 32 pixels
SIZE = (192, 96)


def painted_frame(index: int, size: tuple[int, int] = SIZE) -> Image.Image:
    """A grey frame with ``index`` and its complement painted as rows of blocks."""
    from PIL import Image, ImageDraw

    if not 0 <= index < 2**BITS:
        raise ValueError(f"index {index} does not fit in {BITS} bits")
    width, height = size
    image = Image.new("RGB", size, (128, 128, 128))
    draw = ImageDraw.Draw(image)
    block = width // BITS
    row = height // 3
    for bit in range(BITS):
        one = (index >> (BITS - 1 - bit)) & 1
        for top, value in ((0, one), (row * 2, 1 - one)):
            colour = (255, 255, 255) if value else (0, 0, 0)
            draw.rectangle([bit * block, top, (bit + 1) * block - 1, top + row - 1], fill=colour)
    return image


def write_clip(
    path: Path,
    frames: int,
    fps: float | Fraction = 25,
    codec: str = "libx264",
    size: tuple[int, int] = SIZE,
    options: dict[str, str] | None = None,
) -> Path:
    """Encode a clip of ``frames`` painted frames at ``fps`` with ``codec`` into ``path``.

    The container comes from the suffix (``.mp4``, ``.webm``, ``.avi``, ``.mkv``);
    ``options`` go to the encoder (e.g. ``{"g": "10"}`` for a keyframe every 10 frames).
    """
    import av

    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, options=options or {})
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        container.start_encoding()  # the header, even for a clip of no frames
        for index in range(frames):
            frame = av.VideoFrame.from_image(painted_frame(index, size))  # type: ignore[no-untyped-call]
            frame.pts = index
            frame.time_base = 1 / rate
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_frame_folder(folder: Path, frames: int, size: tuple[int, int] = SIZE) -> Path:
    """``frames`` painted JPEGs named ``00001.jpg``, ... (MVBench's frame folders)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(frames):
        painted_frame(index, size).save(folder / f"{index + 1:05d}.jpg", quality=90)
    return folder


__all__ = ["BITS", "SIZE", "painted_frame", "write_clip", "write_frame_folder"]
