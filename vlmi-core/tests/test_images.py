from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vlmi import errors
from vlmi._images import load_img
from vlmi.testing.inputs import image_inputs, make_picture, png_bytes, serve_folder


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    with serve_folder(folder) as url:
        yield folder, url


def test_every_kind_decodes_to_the_same_pixels(served):
    folder, url = served
    inputs = image_inputs(folder, url)
    expected = make_picture().tobytes()
    assert set(inputs) == {"path", "pathlib", "url", "data_uri", "base64", "bytes", "pil", "numpy"}
    for kind, src in inputs.items():
        img = load_img(src)
        assert img.mode == "RGB", kind
        assert img.tobytes() == expected, kind


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif)
    assert load_img(path).size == (20, 40)


def test_transparency_becomes_white_and_grey_becomes_rgb():
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert load_img(rgba).getpixel((0, 0)) == (255, 255, 255)
    grey = Image.new("L", (4, 4), 100)
    assert load_img(grey).getpixel((1, 1)) == (100, 100, 100)


@pytest.mark.parametrize(
    ("array", "pixel"),
    [
        (np.full((5, 6, 3), 7, dtype=np.uint8), (7, 7, 7)),
        (np.full((5, 6), 9, dtype=np.uint8), (9, 9, 9)),
        (np.ones((5, 6, 3), dtype=np.float32), (255, 255, 255)),
        (np.full((3, 5, 6), 20, dtype=np.uint8), (20, 20, 20)),  # channels first
        (np.full((5, 6, 4), 255, dtype=np.uint8), (255, 255, 255)),
    ],
)
def test_numpy_arrays(array, pixel):
    img = load_img(array)
    assert img.mode == "RGB"
    assert img.getpixel((0, 0)) == pixel
    assert img.size == (6, 5)


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((2, 3, 4, 5), dtype=np.uint8),
        np.full((4, 4), 2.0),
        np.full((4, 4), 300, dtype=np.int32),
    ],
)
def test_bad_numpy_arrays(array):
    with pytest.raises(errors.UnsupportedImageTypeError):
        load_img(array)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(errors.ImageNotFoundError, match="missing.png"):
        load_img(tmp_path / "missing.png")
    with pytest.raises(errors.ImageNotFoundError, match="not a file that exists"):
        load_img(str(tmp_path / "missing.png"))
    with pytest.raises(errors.ImageNotFoundError, match="folder"):
        load_img(tmp_path)


def test_corrupt_truncated_and_empty(tmp_path):
    data = png_bytes(make_picture())
    with pytest.raises(errors.ImageDecodeError, match="truncated or corrupt"):
        load_img(data[: len(data) // 2])
    with pytest.raises(errors.ImageDecodeError, match="format"):
        load_img(b"GIF89a-not-really" * 20)
    with pytest.raises(errors.ImageDecodeError, match="empty"):
        load_img(b"")
    jpeg = io.BytesIO()
    make_picture(200, 200).save(jpeg, format="JPEG")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpeg.getvalue()[:-400])
    with pytest.raises(errors.ImageDecodeError):
        load_img(cut)


def test_decompression_bomb(monkeypatch):
    data = png_bytes(make_picture(100, 100))
    monkeypatch.setenv("VLMI_MAX_IMAGE_PIXELS", "5000")
    with pytest.raises(errors.ImageTooLargeError, match="VLMI_MAX_IMAGE_PIXELS"):
        load_img(data)
    with pytest.raises(errors.ImageTooLargeError):
        load_img(make_picture(100, 100))


def test_raising_vlmi_max_image_pixels_lets_an_image_over_pillows_limit_open(monkeypatch):
    # Pillow's own limit stands in for its default (89M pixels) at a testable size; an image
    # over twice it is refused by Image.open itself unless vlmi lets it through.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    data = png_bytes(make_picture(100, 100))
    monkeypatch.setenv("VLMI_MAX_IMAGE_PIXELS", "5000")
    with pytest.raises(errors.ImageTooLargeError, match="VLMI_MAX_IMAGE_PIXELS"):
        load_img(data)
    monkeypatch.setenv("VLMI_MAX_IMAGE_PIXELS", "20000")  # as the error says to
    assert load_img(data).size == (100, 100)


def test_decoding_leaves_the_warning_filters_alone(monkeypatch):
    import warnings

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    monkeypatch.setenv("VLMI_MAX_IMAGE_PIXELS", "20000")
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        load_img(png_bytes(make_picture(100, 100)))
    assert warnings.filters == before
    assert not [w for w in seen if issubclass(w.category, Image.DecompressionBombWarning)]


@pytest.mark.parametrize("value", [object(), 3.5, None, ["a.png"]])
def test_unsupported_types(value):
    with pytest.raises(errors.UnsupportedImageTypeError, match="file path"):
        load_img(value)


def test_data_uri_and_base64_errors():
    with pytest.raises(errors.ImageDecodeError, match="no ','"):
        load_img("data:image/png;base64")
    with pytest.raises(errors.ImageDecodeError):
        load_img("data:image/png;base64," + base64.b64encode(b"nope" * 40).decode())
    urlsafe = base64.urlsafe_b64encode(png_bytes(make_picture())).decode().rstrip("=")
    assert load_img(urlsafe).size == (64, 48)


def test_url_errors(served, monkeypatch):
    folder, url = served
    with pytest.raises(errors.ImageDownloadError, match="404"):
        load_img(f"{url}/nothing-here.png")
    (folder / "big.png").write_bytes(png_bytes(make_picture(300, 300)))
    monkeypatch.setenv("VLMI_URL_MAX_BYTES", "100")
    with pytest.raises(errors.ImageDownloadError, match="VLMI_URL_MAX_BYTES"):
        load_img(f"{url}/big.png")


def test_url_timeout(monkeypatch):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts the connection, never answers
    monkeypatch.setenv("VLMI_URL_TIMEOUT", "0.3")
    try:
        with pytest.raises(errors.ImageDownloadError, match="VLMI_URL_TIMEOUT"):
            load_img(f"http://127.0.0.1:{server.getsockname()[1]}/x.png")
    finally:
        server.close()


def test_url_timeout_is_a_deadline_for_the_whole_download(monkeypatch):
    """A server that trickles its body is cut off, though each read arrives in time."""
    import socket
    import threading
    import time

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(300):  # one byte every 0.1 s: 30 s at most, then it gives up
                if stop.is_set():
                    return
                try:
                    conn.sendall(b"x")
                except OSError:
                    return
                time.sleep(0.1)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    monkeypatch.setenv("VLMI_URL_TIMEOUT", "1")
    began = time.monotonic()
    try:
        with pytest.raises(errors.ImageDownloadError, match="within 1 s"):
            load_img(f"http://127.0.0.1:{server.getsockname()[1]}/slow.png")
    finally:
        stop.set()
        server.close()
        thread.join(timeout=5)
    assert time.monotonic() - began < 10


def test_decoding_never_touches_the_warning_filters(monkeypatch):
    """warnings.catch_warnings is process-wide state, not safe in the decoding threads."""
    import threading
    import warnings

    touched: list[str] = []
    monkeypatch.setattr(warnings, "catch_warnings", lambda *a, **k: touched.append("catch"))
    monkeypatch.setattr(warnings, "simplefilter", lambda *a, **k: touched.append("filter"))
    data = png_bytes(make_picture(40, 30))
    threads = [
        threading.Thread(target=lambda: [load_img(data) for _ in range(20)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert touched == []


def test_file_uri(tmp_path: Path):
    path = tmp_path / "p.png"
    make_picture().save(path)
    assert load_img(path.as_uri()).size == (64, 48)


def test_an_upright_rgb_image_is_used_as_given_and_a_turned_one_is_not_changed():
    """No pixel copy for an image that needs nothing (a full copy per sample showed in
    eval_batch's time); a turned one becomes a new, upright image."""
    upright = make_picture()
    assert load_img(upright) is upright
    stored = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = stored.getexif()
    exif[0x0112] = 6
    turned = Image.open(io.BytesIO(_jpeg(stored, exif)))
    result = load_img(turned)
    assert result.size == (20, 40)
    assert turned.size == (40, 20)


def _jpeg(img: Image.Image, exif: Image.Exif) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


class _ThreadNoting:
    """A model's image loading that notes which thread loads what (files slowly)."""

    name = "taker"
    max_images = None
    images_first = True
    video = None

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = {"pil": set(), "file": set()}

    def load_img(self, src):
        import threading
        import time

        kind = "pil" if isinstance(src, Image.Image) else "file"
        self.seen[kind].add(threading.current_thread().name)
        if kind == "file":
            time.sleep(0.1)  # a large file: long enough for every thread to take one
        return load_img(src)


def _pictures(folder: Path, count: int) -> list[str]:
    paths = []
    for seed in range(count):
        path = folder / f"p{seed}.png"
        make_picture(seed=seed).save(path)
        paths.append(str(path))
    return paths


def test_pil_images_are_finished_in_the_calling_thread_and_files_shared_with_the_pool(
    tmp_path, monkeypatch
):
    """A PIL image has nothing to decode: handing it to a worker thread only costs time.

    Files are decoded by the calling thread and the pool's threads together.
    """
    import threading

    from vlmi._generation import GenerationOptions
    from vlmi._preparing import prepare_batch

    monkeypatch.setenv("VLMI_IMAGE_WORKERS", "3")
    taker = _ThreadNoting()
    paths = _pictures(tmp_path, 6)
    items = [("q", [make_picture(seed=1), paths[i]]) for i in range(6)]
    prepared = prepare_batch(taker, items, GenerationOptions())
    assert all(not isinstance(s, errors.VlmiError) for s in prepared.samples)
    here = threading.current_thread().name
    assert taker.seen["pil"] == {here}
    helpers = taker.seen["file"] - {here}
    assert here in taker.seen["file"] and len(helpers) == 2
    assert all(name.startswith("vlmi-decode") for name in helpers)


def test_the_decoding_pool_outlives_a_call_and_a_forked_child_gets_its_own(tmp_path, monkeypatch):
    """Files decode on the same threads call after call; a child of fork starts its own."""
    import multiprocessing

    from vlmi._generation import GenerationOptions
    from vlmi._preparing import prepare_batch

    monkeypatch.setenv("VLMI_IMAGE_WORKERS", "2")
    paths = _pictures(tmp_path, 6)
    items = [("q", paths[i : i + 2]) for i in range(5)]
    used: set[str] = set()
    for _ in range(3):
        taker = _ThreadNoting()
        prepared = prepare_batch(taker, items, GenerationOptions())
        assert all(not isinstance(s, errors.VlmiError) for s in prepared.samples)
        assert len(taker.seen["file"]) == 2  # this thread and one of the pool
        used |= taker.seen["file"]
    assert len(used) == 2  # the same pool thread each call, not a new one

    def in_child(queue) -> None:
        prepared = prepare_batch(_ThreadNoting(), items, GenerationOptions())
        queue.put(sum(isinstance(s, errors.VlmiError) for s in prepared.samples))

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=in_child, args=(queue,))
    child.start()
    assert queue.get(timeout=60) == 0  # answered: not waiting on the parent's threads
    child.join(timeout=60)
    assert child.exitcode == 0
