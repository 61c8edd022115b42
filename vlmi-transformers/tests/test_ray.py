"""`vlmi run --ray` with a Transformers model: a tiny checkpoint over two replicas of a real
Ray cluster on this machine's CPUs answers exactly as a local run of the same model.

The cluster is one head node on loopback (vlmi_testkit.ray_cluster), started by this module
and stopped at its end. Greedy decoding in float32, so the predictions are deterministic;
the plugin's own tests show that batching does not change them, so the batches the replicas
receive may differ from the local run's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vlmi_testkit import tiny_checkpoint
from vlmi_testkit.ray_cluster import RAY_ENV, LocalCluster

os.environ.update(RAY_ENV)  # before Ray is imported: the driver in this process stays on loopback
pytest.importorskip("ray.data", reason="needs Ray Data (pip install vlmi-ray)")

import vlmi
from vlmi.plugin import create_executor

pytestmark = pytest.mark.ray

#: the architecture served: dynamic resolution, so every picture has its own token count
ARCH = "qwen2_vl"
GENERATION = {"max_new_tokens": 8, "temperature": 0.0}
LOAD = {"dtype": "float32"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    # one logical CPU per replica and one for the image-decoding stage: no idle workers to start
    with LocalCluster(num_cpus=3) as running:
        yield running


def samples_file(folder: Path, pictures: list[Path]) -> Path:
    """Text-only, one-image and several-image samples, one with its own options, one broken."""
    p = [str(picture) for picture in pictures]
    rows: list[dict[str, Any]] = [
        {"id": "text", "query": "What is two plus two?"},
        {"id": "one", "query": "Describe the picture.", "imgs": [p[0]]},
        {"id": "two", "query": "Compare these pictures.", "imgs": [p[1], p[2]]},
        {"id": "missing", "query": "Describe it.", "imgs": [str(folder / "missing.png")]},
        {"id": "three", "query": "Which is bigger?", "imgs": [p[3], p[4], p[0]]},
        {"id": "color", "query": "Name a color."},
        {"id": "short", "query": "Count the objects.", "imgs": [p[4]]},
        {"id": "own", "query": "What shape?", "imgs": [p[2]], "generation": {"max_new_tokens": 3}},
    ]
    path = folder / "in.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without what differs between runs: timings and the replica that answered."""
    return {key: value for key, value in record.items() if key not in ("time", "replica")}


def test_two_replicas_answer_as_a_local_run(
    cluster: LocalCluster, pictures: list[Path], tmp_path: Path
) -> None:
    folder = str(tiny_checkpoint(ARCH))
    source = samples_file(tmp_path, pictures)
    local_out, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    common: dict[str, Any] = {
        "batch_size": 2,
        "progress": False,
        "load_options": LOAD,
        **GENERATION,
    }

    local = vlmi.run(folder, source, local_out, **common)
    # the executor vlmi-ray registers, asked for by name (no import of another plugin)
    pool = create_executor("ray", address=cluster.address, replicas=2, gpus_per_replica=0)
    remote = vlmi.run(folder, source, ray_out, executor=pool, **common)

    assert (remote.done, remote.failed) == (local.done, local.failed) == (8, 1)
    assert sum(remote.replicas.values()) == 8 and 1 <= len(remote.replicas) <= 2
    want, got = read_records(local_out), read_records(ray_out)
    ids = [record["id"] for record in got]
    assert sorted(ids) == sorted(record["id"] for record in want)
    assert len(set(ids)) == len(ids) == 8, "an id written twice"
    by_id = {record["id"]: comparable(record) for record in got}
    for record in want:
        assert by_id[record["id"]] == comparable(record), record["id"]

    answered = [record for record in want if record["error"] is None]
    assert len(answered) == 7 and all(record["prediction"] for record in answered)
    assert {record["id"]: record["error"]["type"] for record in got if record["error"]} == {
        "missing": "ImageNotFoundError"
    }
    for record in got:  # each answer came from a replica process, not from this driver
        assert set(record["replica"]) == {"actor", "node", "host", "pid"}
        assert record["replica"]["pid"] != os.getpid()
