"""`vlmi run --ray`: the echo model over replicas of a real Ray cluster on this machine's CPUs.

One head node on loopback serves the whole module (vlmi_testkit.ray_cluster). The
drivers run as `vlmi run` subprocesses, as users run them, so that a driver
can be killed; waits are bounded and never timed assertions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vlmi_testkit.ray_cluster import RAY_ENV, LocalCluster

os.environ.update(RAY_ENV)  # before Ray is imported: a driver in this process stays on loopback
pytest.importorskip("ray.data", reason="needs Ray Data (pip install vlmi-ray)")

import vlmi
from vlmi_ray import RayPool
from vlmi_testkit.runs import write_mixed

pytestmark = pytest.mark.ray

#: Longest wait for anything the cluster does (a loaded 2-core machine is slow).
PATIENCE_S = 240


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(num_cpus=4) as running:
        yield running


def vlmi_run(*args, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "vlmi", "run", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **RAY_ENV},
        timeout=PATIENCE_S,
    )
    if check:
        assert result.returncode in (0, 3), result.stderr
    return result


def start_vlmi_run(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "vlmi", "run", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **RAY_ENV},
    )


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def complete_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text().split("\n")[:-1]]


def wait_for_lines(path: Path, count: int, process: subprocess.Popen) -> list[str]:
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        lines = complete_lines(path)
        if len(lines) >= count:
            return lines
        if process.poll() is not None:
            pytest.fail(f"the run ended before writing {count} records: {process.stderr.read()}")
        time.sleep(0.1)
    pytest.fail(f"no {count} records in {path} after {PATIENCE_S} s")


def comparable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("time", "replica")}


def plain_input(path: Path, count: int) -> Path:
    path.write_text(
        "".join(json.dumps({"id": f"s{i}", "query": f"q {i}"}) + "\n" for i in range(count))
    )
    return path


@pytest.fixture
def mixed(tmp_path):
    """The local runner tests' mixed input, plus failures, a repeated id and more samples."""
    extra = [
        json.dumps({"id": "boom", "query": "please explode now"}),
        json.dumps({"id": "text", "query": "the same id again"}),
        json.dumps(
            {"id": "shuffled", "query": "a b c d", "generation": {"temperature": 1, "seed": 3}}
        ),
    ]
    extra += [
        json.dumps({"id": f"s{i}", "query": f"sample {i}", "imgs": ["b.png"] * (i % 2)})
        for i in range(23)
    ]
    return write_mixed(tmp_path, extra)


def test_echo_over_two_replicas_equals_a_local_run_and_resumes(cluster, mixed, tmp_path):
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    common = ["-b", "4", "-O", "fail_on=explode"]
    vlmi_run("echo", str(mixed), "-o", str(local), *common, "-q")
    ray_flags = ["--ray", cluster.address, "--replicas", "2", "--gpus-per-replica", "0"]
    result = vlmi_run("echo", str(mixed), "-o", str(remote), *common, *ray_flags)
    assert result.returncode == 3, result.stderr  # some samples fail on their own, as locally
    assert "done 32 (4 failed)" in result.stderr
    assert "per replica:" in result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("vlmi run:")][-1]
    assert "32/32" in progress and "4 failed" in progress and "replica(s):" in progress

    want, got = records(local), records(remote)
    assert len(got) == len(want) == 32
    assert sorted(r["id"] for r in got) == sorted(r["id"] for r in want)
    by_id = {r["id"]: comparable(r) for r in got}
    for record in want:
        assert by_id[record["id"]] == comparable(record)
    errors = {r["id"]: r["error"]["type"] for r in got if r["error"]}
    assert errors == {
        "broken": "ImageNotFoundError",
        "5": "InvalidSampleError",
        "boom": "GenerationError",
        "text@line8": "InvalidSampleError",
    }
    for record in got:
        assert set(record["replica"]) == {"actor", "node", "host", "pid"}
        assert record["time"]["batch_size"] >= 1

    # resume: a run cut after 10 records and half a line redoes exactly the rest
    kept = complete_lines(remote)[:10]
    remote.write_text("\n".join(kept) + "\n" + kept[10 - 1][:25])
    failed_kept = sum(json.loads(line)["error"] is not None for line in kept)
    again = vlmi_run("echo", str(mixed), "-o", str(remote), *common, *ray_flags)
    assert f"done 22 ({4 - failed_kept} failed), skipped 10" in again.stderr, again.stderr
    resumed = records(remote)
    assert sorted(r["id"] for r in resumed) == sorted(r["id"] for r in want)
    assert {r["id"]: comparable(r) for r in resumed} == by_id

    # nothing left: nothing is sent to the cluster
    finished = vlmi_run("echo", str(mixed), "-o", str(remote), *common, *ray_flags)
    assert "done 0 (0 failed), skipped 32" in finished.stderr


def test_videos_go_through_the_pipeline_as_in_a_local_run(cluster, tmp_path):
    from vlmi_testkit.clips import write_clip

    write_clip(tmp_path / "clip.mp4", 30, fps=10)
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    lines = [
        {"id": "default", "query": "what happens", "videos": "clip.mp4"},
        {"id": "bad", "query": "and here", "videos": "bad.mp4"},
        {"id": "three", "query": "q", "videos": {"source": "clip.mp4", "nframes": 3}},
        {"id": "text", "query": "just text"},
        {"id": "qwen", "query": "q", "videos": [{"source": "clip.mp4", "rule": "qwen"}]},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    local = vlmi.run(
        "echo", source, tmp_path / "local.jsonl", batch_size=2, progress=False,
        video_sampling={"nframes": 5},
    )  # fmt: skip
    assert (local.done, local.failed) == (5, 1)
    result = vlmi_run(
        "echo", str(source), "-o", str(tmp_path / "ray.jsonl"), "-b", "2", "-q",
        "--video-sampling", "nframes=5",
        "--ray", cluster.address, "--replicas", "2", "--gpus-per-replica", "0",
    )  # fmt: skip
    assert result.returncode == 3, result.stderr  # the bad video fails, as locally
    want = {r["id"]: comparable(r) for r in records(tmp_path / "local.jsonl")}
    got = {r["id"]: comparable(r) for r in records(tmp_path / "ray.jsonl")}
    assert got == want
    assert got["bad"]["error"]["type"] == "VideoDecodeError"  # its slot only
    assert "video" not in got["text"] and "video" not in got["bad"]
    # the replicas got the frames the CPU stage sampled: the run's 5, the sample's own 3
    assert got["default"]["video"][0]["indices"] == [5, 10, 15, 20, 25]
    assert "<video:5:192x96:5,10,15,20,25>" in got["default"]["prediction"]
    assert len(got["three"]["video"][0]["indices"]) == 3
    assert got["qwen"]["video"][0]["rule"] == "qwen"


def test_a_killed_replica_is_restarted_and_its_batch_retried(cluster, tmp_path):
    source = plain_input(tmp_path / "in.jsonl", 120)
    out = tmp_path / "out.jsonl"
    run = start_vlmi_run(
        "echo", str(source), "-o", str(out), "-b", "2", "-O", "latency=0.25", "-q",
        "--ray", cluster.address, "--replicas", "2", "--gpus-per-replica", "0",
    )  # fmt: skip
    try:
        first = json.loads(wait_for_lines(out, 1, run)[0])
        victim = first["replica"]["pid"]
        os.kill(victim, signal.SIGKILL)
        written_at_kill = len(complete_lines(out))
        _, stderr = run.communicate(timeout=PATIENCE_S)
    finally:
        run.kill()
    assert written_at_kill < 120, "the run ended before the replica was killed"
    assert run.returncode == 0, stderr
    got = records(out)
    assert sorted(r["id"] for r in got) == sorted(f"s{i}" for i in range(120))
    assert [r for r in got if r["error"]] == []
    restarted = {
        r["replica"]["pid"] for r in got if r["replica"]["actor"] == first["replica"]["actor"]
    }
    assert restarted - {victim}, "the killed replica was not restarted"
    assert "done 120 (0 failed)" in stderr


def test_a_killed_driver_resumes_on_the_next_run(cluster, tmp_path):
    source = plain_input(tmp_path / "in.jsonl", 100)
    out = tmp_path / "out.jsonl"
    args = [
        "echo", str(source), "-o", str(out), "-b", "2", "-O", "latency=0.2", "-q",
        "--ray", cluster.address, "--replicas", "2", "--gpus-per-replica", "0",
    ]  # fmt: skip
    run = start_vlmi_run(*args)
    try:
        wait_for_lines(out, 6, run)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=PATIENCE_S)
    finally:
        run.kill()
    before = {json.loads(line)["id"] for line in complete_lines(out)}
    assert 6 <= len(before) < 100, "the run ended before the driver was killed"

    result = vlmi_run(*args)
    assert result.returncode == 0, result.stderr
    ids = [r["id"] for r in records(out)]
    assert sorted(ids) == sorted(f"s{i}" for i in range(100))
    assert f"done {100 - len(before)} (0 failed), skipped {len(before)}" in result.stderr


def test_replicas_the_cluster_cannot_hold_are_refused(cluster, tmp_path):
    source = plain_input(tmp_path / "in.jsonl", 3)
    result = vlmi_run(
        "echo", str(source), "-o", str(tmp_path / "out.jsonl"), "-q",
        "--ray", cluster.address, "--replicas", "2",
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "need 2 GPUs, the cluster has 0" in result.stderr
    assert "--gpus-per-replica 0" in result.stderr


def test_retries_are_bounded_then_the_run_stops_with_the_way_to_resume(cluster, tmp_path):
    source = plain_input(tmp_path / "in.jsonl", 80)
    out = tmp_path / "out.jsonl"
    args = [
        "echo", str(source), "-o", str(out), "-b", "2", "-O", "latency=0.3", "-q",
        "--ray", cluster.address, "--replicas", "2", "--gpus-per-replica", "0",
    ]  # fmt: skip
    run = start_vlmi_run(*args, "--max-retries", "0")
    try:
        first = json.loads(wait_for_lines(out, 1, run)[0])
        os.kill(first["replica"]["pid"], signal.SIGKILL)
        _, stderr = run.communicate(timeout=PATIENCE_S)
    finally:
        run.kill()
    written = len(complete_lines(out))
    assert run.returncode == 1, stderr
    assert "the Ray run stopped" in stderr
    assert "run the same command again to resume" in stderr
    assert written < 80
    kept = records(out)  # what was answered before the stop stays, once, for the next run
    assert len({r["id"] for r in kept}) == len(kept)
    assert [r for r in kept if r["error"]] == []


def test_a_loaded_model_runs_on_the_cluster_with_its_options(cluster, tmp_path):
    source = plain_input(tmp_path / "in.jsonl", 6)
    model = vlmi.load("echo", fail_on="q 3", max_new_tokens=1)
    local = vlmi.run(model, source, tmp_path / "local.jsonl", batch_size=4, progress=False)
    remote = vlmi.run(
        model, source, tmp_path / "ray.jsonl", batch_size=4, progress=False,
        executor=RayPool(cluster.address, replicas=1, gpus_per_replica=0),
    )  # fmt: skip
    assert (remote.done, remote.failed) == (local.done, local.failed) == (6, 1)
    assert sum(remote.replicas.values()) == 6
    want = {r["id"]: comparable(r) for r in records(tmp_path / "local.jsonl")}
    assert {r["id"]: comparable(r) for r in records(tmp_path / "ray.jsonl")} == want
    assert want["s0"]["prediction"] == "q"


def test_replicas_without_the_plugin_stop_the_run_naming_it(cluster, tmp_path):
    source = plain_input(tmp_path / "in.jsonl", 4)
    hidden = json.dumps({"env_vars": {"VLMI_DISABLE_PLUGINS": "vlmi-echo"}})
    result = vlmi_run(
        "echo", str(source), "-o", str(tmp_path / "out.jsonl"), "-q",
        "--ray", cluster.address, "--replicas", "1", "--gpus-per-replica", "0",
        "--runtime-env", hidden,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    message = result.stderr.splitlines()[-1]
    assert message.startswith("error: the Ray run stopped: UnknownModelError:"), message
    # the driver asks for the plugin it chose; a replica without it says so
    assert "no loaded plugin is called 'vlmi-echo'" in message
    assert "run the same command again to resume" in message
