"""`vlmi serve echo` driven by the official openai client over loopback.

Servers run as child processes (`python -m vlmi serve`), or in a thread of
this process where a test inspects the loaded model (batching, deadlines).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.server
import io
import random
import signal
import socket
import threading
import time

import openai
import pytest
from PIL import Image

import vlmi
from vlmi.testing import make_picture
from vlmi_testkit.runs import run_vlmi
from vlmi_testkit.serving import start_server

KEY = "test-key-123"


def png_data_uri(seed: int = 0, size: tuple[int, int] = (64, 48)) -> str:
    buffer = io.BytesIO()
    make_picture(*size, seed=seed).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def image(url: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}}


def user(*parts) -> list[dict]:
    return [{"role": "user", "content": list(parts)}]


def video(url: str) -> dict:
    return {"type": "video_url", "video_url": {"url": url}}


class CountingImages:
    """A loopback HTTP server for a PNG picture (or ``body``) that counts every request."""

    def __init__(self, body: bytes | None = None, content_type: str = "image/png") -> None:
        self.hits = 0
        if body is None:
            picture = io.BytesIO()
            make_picture(seed=3).save(picture, format="PNG")
            body = picture.getvalue()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def images():
    server = CountingImages()
    yield server
    server.close()


@pytest.fixture(scope="module")
def open_server():
    """Echo, loopback image URLs allowed, an API key, a 1 MiB body limit."""
    server = start_server(
        "echo", "--allow-private-urls", "--api-key", KEY, "--max-body-mb", "1", "--max-wait-ms", "2"
    )
    yield server
    assert server.stop() == 0
    assert KEY not in "".join(server.log)


@pytest.fixture(scope="module")
def guarded_server():
    """Echo with the default URL guard, no API key and a 4 KiB image limit."""
    server = start_server("echo", env={"VLMI_URL_MAX_BYTES": "4096"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(open_server):
    with openai.OpenAI(base_url=open_server.base_url, api_key=KEY, max_retries=0) as made:
        yield made


@pytest.fixture(scope="module")
def local():
    with vlmi.load("echo") as model:
        yield model


def ask(client, messages, **params) -> str:
    response = client.chat.completions.create(model="echo", messages=messages, **params)
    assert response.object == "chat.completion"
    return response.choices[0].message.content


# --- answers ------------------------------------------------------------------------


def test_text_only(client, local):
    assert ask(client, [{"role": "user", "content": "What is two plus two?"}]) == local.eval(
        "What is two plus two?"
    )


def test_system_message_comes_first(client):
    messages = [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Name a colour."},
    ]
    assert ask(client, messages) == "Answer briefly. Name a colour."


def test_one_image_as_data_uri_and_as_loopback_url(client, local, images):
    uri = png_data_uri(seed=3)
    expected = local.eval("Describe it.", imgs=[uri])
    assert ask(client, user(image(uri), {"type": "text", "text": "Describe it."})) == expected
    before = images.hits
    url = f"http://127.0.0.1:{images.port}/p.png"
    assert ask(client, user(image(url), {"type": "text", "text": "Describe it."})) == expected
    assert images.hits == before + 1


def test_several_images_keep_their_order(client, local):
    first, second = png_data_uri(1, (40, 30)), png_data_uri(2, (50, 20))
    parts = [
        {"type": "text", "text": "Compare"},
        image(first),
        {"type": "text", "text": "with"},
        image(second),
    ]
    answer = ask(client, user(*parts))
    assert answer == local.eval_batch([parts])[0]
    assert answer.index("40x30") < answer.index("50x20")


def test_generation_options_reach_the_model(client, local):
    messages = [{"role": "user", "content": "one two three four five"}]
    assert ask(client, messages, max_tokens=2) == "one two"
    assert ask(client, messages, max_completion_tokens=3) == "one two three"
    assert ask(client, messages, stop=["four"]) == "one two three "
    sampled = ask(client, messages, temperature=0.7, top_p=0.9, seed=7)
    assert sampled == local.eval("one two three four five", temperature=0.7, top_p=0.9, seed=7)
    assert ask(client, messages, extra_body={"top_k": 5}) == "one two three four five"


def test_models_and_health(client, open_server):
    assert [m.id for m in client.models.list().data] == ["echo"]
    assert ask(client, [{"role": "user", "content": "alias works"}]) == "alias works"
    with contextlib.closing(openai.OpenAI(base_url=open_server.base_url, api_key=KEY)) as again:
        again.chat.completions.create(
            model="echo-test", messages=[{"role": "user", "content": "x"}]
        )


def test_streaming_sends_the_answer_as_one_delta(client):
    stream = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "stream me please"}], stream=True
    )
    chunks = list(stream)
    texts = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert texts == ["stream me please"]
    assert chunks[-1].choices[0].finish_reason == "stop"


# --- errors: the request's own 4xx in OpenAI's shape ---------------------------------


def error_of(call) -> tuple[int, dict]:
    with pytest.raises(openai.APIStatusError) as info:
        call()
    payload = info.value.response.json()
    assert set(payload["error"]) == {"message", "type", "param", "code"}
    return info.value.status_code, payload["error"]


def test_bad_image_is_a_400_naming_the_error(client):
    junk = "data:image/png;base64," + base64.b64encode(b"not a picture" * 20).decode()
    status, error = error_of(lambda: ask(client, user(image(junk))))
    assert (status, error["type"], error["code"]) == (
        400,
        "invalid_request_error",
        "ImageDecodeError",
    )
    assert "Pillow" in error["message"]


def test_too_many_images(client):
    uri = png_data_uri()
    status, error = error_of(lambda: ask(client, user(*[image(uri)] * 5)))
    assert (status, error["code"]) == (400, "TooManyImagesError")
    assert "at most 4" in error["message"]


def test_unknown_model(client):
    status, error = error_of(
        lambda: client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
    )
    assert (status, error["code"], error["param"]) == (404, "model_not_found", "model")


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"temperature": -1}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"n": 2}, "n must be 1"),
        ({"frequency_penalty": 0.5}, "frequency_penalty"),
    ],
)
def test_bad_options(client, params, needle):
    status, error = error_of(lambda: ask(client, [{"role": "user", "content": "x"}], **params))
    assert (status, error["code"]) == (400, "InvalidOptionError")
    assert needle in error["message"]


def test_malformed_conversations(client):
    status, error = error_of(
        lambda: ask(
            client,
            [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"},
            ],
        )
    )
    assert (status, error["code"]) == (400, "InvalidSampleError")
    status, error = error_of(lambda: ask(client, user(image("file:///etc/passwd"))))
    assert status == 400 and "http(s) URLs or data: URIs" in error["message"]


def test_body_over_the_limit_is_a_413(client):
    big = "data:image/png;base64," + "A" * (2 * 1024 * 1024)
    status, error = error_of(lambda: ask(client, user(image(big))))
    assert (status, error["code"]) == (413, "request_too_large")


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_missing_or_wrong_api_key_is_a_401(open_server, key):
    headers = {} if key else {"Authorization": ""}
    with contextlib.closing(
        openai.OpenAI(
            base_url=open_server.base_url,
            api_key=key or "unused",
            default_headers=headers,
            max_retries=0,
        )
    ) as stranger:
        status, error = error_of(lambda: ask(stranger, [{"role": "user", "content": "x"}]))
        assert (status, error["type"], error["code"]) == (
            401,
            "authentication_error",
            "invalid_api_key",
        )
        assert KEY not in error["message"]
        status, _ = error_of(lambda: stranger.models.list())
        assert status == 401


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from vlmi_testkit.clips import write_clip

    return write_clip(tmp_path_factory.mktemp("clips") / "count.mp4", 24, fps=8)


@pytest.fixture(scope="module")
def clips(clip):
    server = CountingImages(clip.read_bytes(), "video/mp4")
    yield server
    server.close()


def test_a_video_as_data_uri_and_as_loopback_url(client, local, clip, clips):
    uri = "data:video/mp4;base64," + base64.b64encode(clip.read_bytes()).decode()
    expected = local.eval("What happens?", videos=[str(clip)])
    # the echo model's default: VLMEvalKit's rule, 8 frames of 24: 2, 5, 8, ...
    assert expected.startswith("<video:8:192x96:2,5,8,10,13,16,18,21> ")
    parts = [video(uri), {"type": "text", "text": "What happens?"}]
    assert ask(client, user(*parts)) == expected
    before = clips.hits
    parts[0] = video(f"http://127.0.0.1:{clips.port}/count.mp4")
    assert ask(client, user(*parts)) == expected
    assert clips.hits == before + 1


def test_a_video_url_to_a_private_address_is_refused(guarded_server, clips):
    before = clips.hits
    with openai.OpenAI(base_url=guarded_server.base_url, api_key="none", max_retries=0) as c:
        url = f"http://127.0.0.1:{clips.port}/count.mp4"
        status, error = error_of(lambda: ask(c, user(video(url))))
    assert (status, error["code"]) == (400, "VideoDownloadError")
    assert "refused" in error["message"] and "--allow-private-urls" in error["message"]
    assert clips.hits == before


def test_a_video_data_uri_over_the_byte_limit_is_refused(guarded_server, tmp_path):
    from vlmi_testkit.clips import write_clip

    clip = write_clip(tmp_path / "long.mp4", 400, fps=25, options={"g": "1"})
    uri = "data:video/mp4;base64," + base64.b64encode(clip.read_bytes()).decode()
    assert clip.stat().st_size > 4096
    with openai.OpenAI(base_url=guarded_server.base_url, api_key="none", max_retries=0) as c:
        status, error = error_of(lambda: ask(c, user(video(uri))))
    assert (status, error["code"]) == (400, "VideoTooLargeError")
    assert "VLMI_URL_MAX_BYTES" in error["message"]


# --- SSRF: refused before any connection ---------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/p.png",
        "http://[::1]:{port}/p.png",
        "http://localhost:{port}/p.png",
        "http://10.1.2.3/p.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:{port}/p.png",
        "http://0.0.0.0:{port}/p.png",
    ],
)
def test_private_addresses_are_refused_without_a_request(guarded_server, images, url):
    url = url.format(port=images.port)
    before = images.hits
    with contextlib.closing(
        openai.OpenAI(base_url=guarded_server.base_url, api_key="none", max_retries=0)
    ) as guarded:
        status, error = error_of(lambda: ask(guarded, user(image(url))))
    assert (status, error["code"]) == (400, "ImageDownloadError")
    assert "refused" in error["message"] and "--allow-private-urls" in error["message"]
    assert images.hits == before


def test_an_image_over_the_byte_limit_is_refused(guarded_server):
    noise = Image.frombytes("RGB", (64, 64), bytes(random.Random(1).randbytes(64 * 64 * 3)))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert len(buffer.getvalue()) > 4096
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    with openai.OpenAI(base_url=guarded_server.base_url, api_key="none", max_retries=0) as c:
        status, error = error_of(lambda: ask(c, user(image(uri))))
        assert (status, error["code"]) == (400, "ImageTooLargeError")
        assert "VLMI_URL_MAX_BYTES" in error["message"]
        assert ask(c, user(image(png_data_uri()))).startswith("<image:64x48:")


def test_redirects_into_refused_addresses_are_not_followed():
    """Registered download checks also run on each redirect a download follows."""
    from vlmi.plugin import add_download_check, remove_download_check
    from vlmi_serve.url_guard import url_host

    target = CountingImages()

    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{target.port}/p.png")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    class RefuseTargetPort:
        def check_url(self, url: str) -> None:
            if url_host(url)[1] == target.port:
                raise vlmi.errors.ImageDownloadError(f"refused {url}")

        def check_address(self, host: str, address: str) -> None:
            pass

    redirector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=redirector.serve_forever, daemon=True).start()
    start = f"http://127.0.0.1:{redirector.server_address[1]}/start"
    check = RefuseTargetPort()
    add_download_check(check)
    try:
        with pytest.raises(vlmi.errors.ImageDownloadError, match="refused"):
            vlmi.load_img(start)
        assert target.hits == 0
        remove_download_check(check)
        assert vlmi.load_img(start).size == (64, 48)
        assert target.hits == 1
    finally:
        remove_download_check(check)
        redirector.shutdown()
        redirector.server_close()
        target.close()


def test_a_dns_answer_that_turns_private_after_the_check_is_refused(images, monkeypatch):
    """DNS rebinding: public at the URL check, loopback at connection time; no request made."""
    real = socket.getaddrinfo
    answers: list[str] = []

    def rebinding_resolver(host, port, *args, **kwargs):
        if host != "rebinding.test":
            return real(host, port, *args, **kwargs)
        address = "93.184.216.34" if not answers else "127.0.0.1"  # never connected to
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_resolver)
    before = images.hits
    target = f"http://rebinding.test:{images.port}/p.png"
    with (
        vlmi.load("echo") as model,
        app_in_thread(model) as (url, _),
        openai.OpenAI(base_url=url, api_key="none", max_retries=0) as guarded,
    ):
        status, error = error_of(lambda: ask(guarded, user(image(target))))
    assert (status, error["code"]) == (400, "ImageDownloadError")
    assert "127.0.0.1" in error["message"] and "refused" in error["message"]
    assert answers == ["93.184.216.34", "127.0.0.1"]
    assert images.hits == before


# --- dynamic batching, deadlines, shutdown (server in this process) --------------------


@contextlib.contextmanager
def app_in_thread(model, **settings):
    import uvicorn

    from vlmi_serve.app import ServeSettings, bind, create_app

    app = create_app(model, ServeSettings(**settings))
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1", app
    finally:
        server.should_exit = True
        thread.join(30)


async def ask_all(base_url, contents, *, model="echo"):
    async with openai.AsyncOpenAI(base_url=base_url, api_key="none", max_retries=0) as aclient:

        async def one(content):
            try:
                response = await aclient.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": content}]
                )
                return response.choices[0].message.content
            except openai.APIStatusError as exc:
                return exc

        return await asyncio.gather(*(one(c) for c in contents))


def test_concurrent_requests_are_batched_and_answered_in_their_own_slot():
    count = 12
    with vlmi.load("echo", latency=0.4) as model:
        with app_in_thread(model, max_batch_size=8, max_wait_ms=50) as (url, app):
            contents = [f"question number {i}" for i in range(count)]
            answers = asyncio.run(ask_all(url, contents))
            batches = app.state.service.batcher.batch_sizes
        assert answers == contents
        assert sum(batches) == count and len(batches) < count
        assert max(batches) <= 8
        assert model.batch_sizes == batches  # one eval_batch call per server batch


def test_a_failing_request_does_not_fail_its_batch():
    with (
        vlmi.load("echo", latency=0.3, fail_on="BOOM") as model,
        app_in_thread(model, max_batch_size=16, max_wait_ms=50) as (url, app),
    ):
        junk = "data:image/png;base64," + base64.b64encode(b"junk" * 30).decode()
        contents = [
            "fine one",
            "this goes BOOM",
            [image(junk), {"type": "text", "text": "bad image"}],
            [image(png_data_uri()) for _ in range(5)],
            "fine two",
        ]
        answers = asyncio.run(ask_all(url, contents))
        batches = app.state.service.batcher.batch_sizes
    assert answers[0] == "fine one" and answers[4] == "fine two"
    assert answers[1].status_code == 500 and "engine failure" in answers[1].message
    assert answers[2].status_code == 400 and "ImageDecodeError" in str(answers[2].body)
    assert answers[3].status_code == 400 and "TooManyImagesError" in str(answers[3].body)
    assert len(batches) < 3  # the three that reached the model shared batches


def test_a_request_past_its_deadline_is_a_504():
    with (
        vlmi.load("echo", latency=1.5) as model,
        app_in_thread(model, request_timeout_s=0.3) as (url, _),
    ):
        (answer,) = asyncio.run(ask_all(url, ["too slow"]))
    assert answer.status_code == 504 and answer.body["code"] == "timeout"


def test_sigterm_lets_in_flight_requests_finish():
    server = start_server("echo", "-O", "latency=1.5")
    try:
        result: dict = {}

        def request() -> None:
            with openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0) as c:
                result["answer"] = ask(c, [{"role": "user", "content": "finish me"}])

        thread = threading.Thread(target=request)
        thread.start()
        time.sleep(0.5)  # the request is in the model now
        server.process.send_signal(signal.SIGTERM)
        thread.join(30)
        assert server.process.wait(30) == 0
        assert result == {"answer": "finish me"}
        assert "1 request(s) in 1 batch(es)" in "".join(server.log)
    finally:
        server.stop()


def test_a_port_in_use_fails_before_the_model_loads():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        served = run_vlmi("serve", "echo", "--port", str(port), "-O", "latency=0")
    assert served.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in served.stderr
    assert "Traceback" not in served.stderr


def test_ipv6_loopback_host():
    server = start_server("echo", "--host", "::1")
    try:
        assert server.base_url.startswith("http://[::1]:")
        with openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0) as c:
            assert ask(c, [{"role": "user", "content": "over ipv6"}]) == "over ipv6"
    finally:
        assert server.stop() == 0


def test_an_unexpected_server_error_is_a_500_in_openai_shape(monkeypatch):
    with vlmi.load("echo") as model, app_in_thread(model) as (url, app):

        def broken(body):
            raise RuntimeError("a bug in the server")

        monkeypatch.setattr(app.state.service, "checked", broken)
        with openai.OpenAI(base_url=url, api_key="none", max_retries=0) as c:
            status, error = error_of(lambda: ask(c, [{"role": "user", "content": "x"}]))
    assert (status, error["type"], error["code"]) == (500, "server_error", "RuntimeError")
    assert "a bug in the server" in error["message"]


def test_failures_of_the_moment_are_a_503_naming_them():
    from vlmi import errors
    from vlmi_serve.api_errors import ApiError

    gone = ApiError.from_vlmi(errors.EngineGoneError("the engine core died"))
    assert (gone.status, gone.body["error"]["code"]) == (503, "EngineGoneError")
    assert ApiError.from_vlmi(errors.EngineTimeoutError("slow")).status == 503
    assert ApiError.from_vlmi(errors.GenerationError("failed on this sample")).status == 500
