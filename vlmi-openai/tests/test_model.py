"""vlmi-openai against `vlmi serve echo` and a scripted loopback endpoint."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import pytest

import vlmi
from vlmi import errors
from vlmi_testkit.serving import start_server


@pytest.fixture(scope="module")
def local():
    with vlmi.load("echo") as model:
        yield model


@pytest.fixture(scope="module")
def remote(echo_server):
    with vlmi.load("openai:echo", base_url=echo_server.base_url) as model:
        yield model


def test_answers_equal_the_in_process_model(remote, local, pictures):
    encoded = base64.b64encode(Path(pictures[1]).read_bytes()).decode()
    samples = [
        "What is two plus two?",
        ("Describe the picture.", pictures[0]),
        ("Which is larger?", pictures[1:4]),
        [
            {"type": "text", "text": "First"},
            {"type": "image", "value": pictures[2]},
            {"type": "text", "text": "then"},
            {"type": "image", "value": f"data:image/png;base64,{encoded}"},
        ],
        {"query": "one two three four five", "generation": {"max_new_tokens": 2}},
        {"query": "one two three four five", "generation": {"stop": ["four"]}},
        {"query": "shuffle these words please", "generation": {"temperature": 0.8, "seed": 5}},
    ]
    assert remote.eval_batch(samples) == local.eval_batch(samples)
    assert remote.eval("Name a colour.", imgs=pictures[4]) == local.eval(
        "Name a colour.", imgs=pictures[4]
    )


def test_one_failing_sample_does_not_fail_the_batch(remote, pictures):
    results = remote.eval_batch(
        [
            "good one",
            ("too many", pictures * 1),  # 5 images: the echo server takes 4
            {"query": "top k", "generation": {"top_k": 3}},  # not sent without send_top_k
            ("missing", "/nonexistent/picture.png"),
            "good two",
        ]
    )
    assert results[0] == "good one" and results[4] == "good two"
    assert isinstance(results[1], errors.TooManyImagesError) and "HTTP 400" in str(results[1])
    assert isinstance(results[2], errors.InvalidOptionError)
    assert isinstance(results[3], errors.ImageNotFoundError)
    assert [r.sample_index for r in results[1:4]] == [1, 2, 3]


def test_top_k_goes_to_servers_that_take_it(echo_server):
    with vlmi.load("openai:echo", base_url=echo_server.base_url, send_top_k=True) as model:
        assert model.eval("a b c", top_k=2) == "a b c"


def test_a_model_the_endpoint_does_not_serve(echo_server):
    with (
        vlmi.load("openai:not-served", base_url=echo_server.base_url) as model,
        pytest.raises(errors.UnknownModelError, match="not-served"),
    ):
        model.eval("hi")


def test_the_server_api_key():
    server = start_server("echo", env={"VLMI_API_KEY": "sk-right"})
    try:
        with (
            vlmi.load("openai:echo", base_url=server.base_url, api_key="sk-wrong") as model,
            pytest.raises(errors.EngineUnavailableError, match="API key"),
        ):
            model.eval("hi")
        with vlmi.load("openai:echo", base_url=server.base_url, api_key="sk-right") as model:
            assert model.eval("hi there") == "hi there"
    finally:
        server.stop()
    assert "sk-right" not in "".join(server.log)


def test_429_twice_then_an_answer_is_retried(endpoint):
    endpoint.errors = [429, 429]
    with vlmi.load("openai:m", base_url=endpoint.base_url, max_retries=3) as model:
        assert model.eval("after two refusals") == "after two refusals"
    assert len(endpoint.requests) == 3


def test_server_errors_are_retried_then_reported(endpoint):
    endpoint.errors = [500, 503, 502, 500]
    with vlmi.load("openai:m", base_url=endpoint.base_url, max_retries=1) as model:
        results = model.eval_batch(["first", "second"])
    # two requests, each tried twice: all four scripted errors are used up
    assert len(endpoint.requests) == 4
    # the last answer decides: a 500 is the sample's failure, a 502 / 503 one of the moment
    kinds = {type(r) for r in results}
    assert kinds <= {errors.GenerationError, errors.EngineConnectionError}, results
    assert all(r.retryable == isinstance(r, errors.EngineConnectionError) for r in results)
    assert "after 1 retries" in str(results[0])


def test_a_busy_endpoint_is_a_failure_of_the_moment(endpoint):
    endpoint.errors = [503]
    with vlmi.load("openai:m", base_url=endpoint.base_url, max_retries=0) as model:
        (result,) = model.eval_batch(["x"])
    assert isinstance(result, errors.EngineConnectionError) and result.retryable
    assert "busy or unavailable" in str(result)


def test_a_400_is_not_retried(endpoint):
    endpoint.errors = [400]
    with vlmi.load("openai:m", base_url=endpoint.base_url) as model:
        assert isinstance(model.eval_batch(["x"])[0], errors.InvalidSampleError)
    assert len(endpoint.requests) == 1


def test_an_unreachable_endpoint_is_a_connection_error_of_the_moment():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    unreachable = f"http://127.0.0.1:{port}/v1"
    with (
        vlmi.load("openai:m", base_url=unreachable, max_retries=0) as model,
        pytest.raises(errors.EngineConnectionError, match="no answer from") as info,
    ):
        model.eval("anyone?")
    assert info.value.retryable


@pytest.mark.parametrize("concurrency", [1, 4])
def test_requests_run_concurrently_up_to_the_limit(endpoint, concurrency):
    endpoint.delay = 0.3
    with vlmi.load("openai:m", base_url=endpoint.base_url, concurrency=concurrency) as model:
        answers = model.eval_batch([f"sample {i}" for i in range(8)])
    assert answers == [f"sample {i}" for i in range(8)]
    if concurrency == 1:
        assert endpoint.max_in_flight == 1
    else:
        assert 2 <= endpoint.max_in_flight <= concurrency


def test_what_is_sent(endpoint, pictures):
    with vlmi.load("openai:m", base_url=endpoint.base_url, api_key="sk-test") as model:
        model.eval("Look", imgs=pictures[0], max_new_tokens=7, temperature=0.5, seed=1)
    (body,) = endpoint.requests
    assert body["model"] == "m"
    assert (body["max_completion_tokens"], body["temperature"], body["seed"]) == (7, 0.5, 1)
    image_part, text_part = body["messages"][0]["content"]
    sent = base64.b64decode(image_part["image_url"]["url"].split(",", 1)[1])
    assert sent == Path(pictures[0]).read_bytes()
    assert text_part == {"type": "text", "text": "Look"}


def test_vlmi_run_records_no_api_key(endpoint, tmp_path):
    source = tmp_path / "bench.jsonl"
    source.write_text("\n".join(json.dumps({"id": i, "query": f"q {i}"}) for i in range(3)))
    output = tmp_path / "out.jsonl"
    summary = vlmi.run(
        "openai:m",
        source,
        output,
        progress=False,
        load_options={"base_url": endpoint.base_url, "api_key": "sk-never-written"},
    )
    assert summary.ok
    text = output.read_text()
    assert "sk-never-written" not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["prediction"] for r in records] == ["q 0", "q 1", "q 2"]
    assert records[0]["options"]["engine"]["api_key"] == "<hidden>"


def test_vlmi_run_reads_four_times_concurrency_per_chunk(endpoint, tmp_path):
    source = tmp_path / "bench.jsonl"
    source.write_text("\n".join(json.dumps({"id": i, "query": f"q {i}"}) for i in range(10)))
    summary = vlmi.run(
        "openai:m",
        source,
        tmp_path / "out.jsonl",
        progress=False,
        load_options={"base_url": endpoint.base_url, "concurrency": 1},
    )
    assert summary.ok and summary.batch_size == 4
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["time"]["batch_size"] for r in records] == [4] * 8 + [2] * 2
    from vlmi.plugin import describe_model

    described = describe_model("openai:m", concurrency=16)
    assert described.preferred_batch_size == 64  # known without a client or a request


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from vlmi_testkit.clips import write_clip

    return write_clip(tmp_path_factory.mktemp("clips") / "count.mp4", 24, fps=8)


def test_videos_go_as_video_url_or_as_frames(remote, local, clip, echo_server):
    # video_url: the file goes to the server, which samples it as the echo model does
    expected = local.eval("What happens?", videos=str(clip))
    assert expected.startswith("<video:8:192x96:2,5,8,10,13,16,18,21> ")
    assert remote.eval("What happens?", videos=str(clip)) == expected
    # frames: the frames vlmi sampled (4 here) go as images, in order
    with vlmi.load(
        "openai:echo", base_url=echo_server.base_url, video_as="frames", max_video_pixels=4608
    ) as framed:
        answer = framed.eval("What happens?", videos=vlmi.Video(str(clip), nframes=4))
    frames, sampling = local.load_video(vlmi.Video(str(clip), nframes=4))
    assert sampling.indices == (4, 9, 14, 19)
    # 192 x 96 shrunk to a quarter of its pixels: 96 x 48, the images echo shows
    assert answer == local.eval(
        "What happens?", imgs=[frame.resize((96, 48), 3) for frame in frames]
    )
    assert answer.count("<image:96x48:") == 4
