"""`vlmi run` / vlmi.run over files, with the echo plugin as a free model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import vlmi
from vlmi._cli import main
from vlmi._run.output import RunConfigMismatchError
from vlmi.errors import OutputFileError
from vlmi.testing.inputs import make_picture

from .conftest import write_mixed


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def mixed(tmp_path):
    return write_mixed(tmp_path)


def test_mixed_file_gives_the_expected_records(mixed, tmp_path, vlmi_cli):
    out = tmp_path / "out.jsonl"
    result = vlmi_cli("run", "echo", str(mixed), "-o", str(out), "-b", "4", "-O", "latency=0")
    assert result.returncode == 3, result.stderr  # some samples failed
    assert "done 6 (2 failed)" in result.stderr
    records = {r["id"]: r for r in read(out)}
    assert list(records) == ["text", "one", "two", "broken", "5", "short"]
    assert records["text"]["prediction"] == "hello there"
    assert records["one"]["prediction"].startswith("<image:64x48:")
    assert records["two"]["prediction"].count("<image:") == 2
    assert records["broken"]["error"]["type"] == "ImageNotFoundError"
    assert records["broken"]["prediction"] is None
    assert records["5"]["error"]["type"] == "InvalidSampleError"
    assert "in.jsonl:5" in records["5"]["error"]["message"]
    assert records["short"]["prediction"] == "one two"
    for record in records.values():
        assert record["model"] == "echo"
        assert record["options"]["generation"]["max_new_tokens"] == 512
        assert record["time"]["batch_s"] >= 0


def test_rerun_skips_done_ids_and_refuses_changed_options(mixed, tmp_path):
    out = tmp_path / "out.jsonl"
    model = vlmi.load("echo")
    first = vlmi.run(model, mixed, out, progress=False)
    assert (first.done, first.failed, first.skipped) == (6, 2, 0)
    again = vlmi.run(model, mixed, out, progress=False)
    assert (again.done, again.skipped, again.previously_failed) == (0, 6, 2)
    assert not again.ok
    assert len(read(out)) == 6
    with pytest.raises(RunConfigMismatchError, match="max_new_tokens 512 -> 3"):
        vlmi.run(model, mixed, out, progress=False, max_new_tokens=3)
    over = vlmi.run(model, mixed, out, progress=False, max_new_tokens=3, overwrite=True)
    assert over.done == 6
    assert read(out)[0]["prediction"] == "hello there"


def test_a_cut_last_line_is_dropped_and_redone(mixed, tmp_path):
    out = tmp_path / "out.jsonl"
    vlmi.run("echo", mixed, out, progress=False)
    text = out.read_text()
    out.write_text(text[: len(text) - 30])  # the crash cut the last record
    summary = vlmi.run("echo", mixed, out, progress=False)
    assert summary.done == 1
    ids = [r["id"] for r in read(out)]
    assert sorted(ids) == sorted(["text", "one", "two", "broken", "5", "short"])


def test_an_output_vlmi_did_not_write_is_refused_untouched(mixed, tmp_path, capsys):
    dataset = tmp_path / "MMBench_DEV_EN.tsv"
    dataset.write_text("index\tquestion\tA\tB\n1\tWhich?\tx\ty\n")
    notes = tmp_path / "NOTES.md"
    notes.write_text("# notes\n\nkeep these\n")
    one_line = tmp_path / "one_line.txt"
    one_line.write_text('{"id": "mine"}')  # no newline: not a torn record either
    copied = tmp_path / "copy.jsonl"
    copied.write_text(mixed.read_text())  # JSON lines, but not `vlmi run` records
    before = {path: path.read_bytes() for path in (dataset, notes, one_line, copied)}
    assert main(["run", "echo", str(mixed), "-o", str(dataset), "-q"]) == 1
    err = capsys.readouterr().err
    assert "is not a `vlmi run` output (line 1" in err and "--overwrite" in err
    for path in (notes, one_line, copied):
        with pytest.raises(OutputFileError, match="--overwrite"):
            vlmi.run("echo", mixed, path, progress=False)
    assert {path: path.read_bytes() for path in before} == before
    replaced = vlmi.run("echo", mixed, notes, progress=False, overwrite=True)  # asked for
    assert replaced.done == 6 and len(read(notes)) == 6
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert vlmi.run("echo", mixed, empty, progress=False).done == 6


def test_a_file_vlmi_did_not_write_is_refused_before_any_model_loads(mixed, tmp_path):
    notes = tmp_path / "NOTES.md"
    notes.write_text("# notes\n")
    # a model name nothing provides: the output is refused before the load would fail
    with pytest.raises(OutputFileError, match="is not a `vlmi run` output"):
        vlmi.run("no-such-model", mixed, notes, progress=False)
    with pytest.raises(OutputFileError, match="is a folder"):
        vlmi.run("no-such-model", mixed, tmp_path, progress=False)
    assert notes.read_text() == "# notes\n"


def test_the_input_is_never_its_own_output(mixed, tmp_path):
    before = mixed.read_bytes()
    (tmp_path / "sub").mkdir()
    same = tmp_path / "sub" / ".." / "in.jsonl"
    for overwrite in (False, True):
        with pytest.raises(OutputFileError, match="is the input file itself"):
            vlmi.run("echo", mixed, same, progress=False, overwrite=overwrite)
    assert mixed.read_bytes() == before


def test_a_damaged_line_before_the_end_is_refused_with_its_number(mixed, tmp_path):
    out = tmp_path / "out.jsonl"
    vlmi.run("echo", mixed, out, progress=False)
    lines = out.read_text().splitlines(keepends=True)
    lines[2] = "not a record\n"
    out.write_text("".join(lines) + '{"id": "torn", "predic')
    before = out.read_bytes()
    with pytest.raises(OutputFileError, match="out.jsonl:3 is not a `vlmi run` record"):
        vlmi.run("echo", mixed, out, progress=False)
    assert out.read_bytes() == before  # neither the line nor the torn end is cut
    lines[2] = "\n"  # a blank line is no record, and no damage either
    out.write_text("".join(lines) + '{"id": "torn", "predic')
    summary = vlmi.run("echo", mixed, out, progress=False)
    assert (summary.skipped, summary.done) == (5, 1)
    assert sorted(r["id"] for r in map(json.loads, filter(str.strip, out.open()))) == sorted(
        ["text", "one", "two", "broken", "5", "short"]
    )


def test_duplicate_ids_in_input_are_reported_not_lost(tmp_path):
    path = tmp_path / "dupes.jsonl"
    path.write_text(
        json.dumps({"id": "a", "query": "x"}) + "\n" + json.dumps({"id": "a", "query": "y"}) + "\n"
    )
    out = tmp_path / "out.jsonl"
    vlmi.run("echo", path, out, progress=False)
    records = read(out)
    assert [r["id"] for r in records] == ["a", "a@line2"]
    assert "appears again" in records[1]["error"]["message"]


def test_a_repeated_id_stays_an_error_when_its_first_answer_is_resumed(tmp_path):
    path = tmp_path / "dupes.jsonl"
    rows = [{"id": "a", "query": "x"}, {"id": "b", "query": "y"}, {"id": "a", "query": "z"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out.jsonl"
    vlmi.run("echo", path, out, progress=False)
    first = out.read_text().splitlines()
    out.write_text(first[0] + "\n")  # a crash after the first answer
    summary = vlmi.run("echo", path, out, progress=False)
    assert (summary.skipped, summary.done) == (1, 2)
    assert [r["id"] for r in read(out)] == ["a", "b", "a@line3"]
    assert "appears again" in read(out)[2]["error"]["message"]


def test_iterables_and_tsv(tmp_path):
    out = tmp_path / "out.jsonl"
    summary = vlmi.run(
        "echo", [{"id": "x", "query": "hi"}, "plain", ("q", None)], out, progress=False
    )
    assert summary.done == 3
    assert [r["id"] for r in read(out)] == ["x", "1", "2"]
    tsv = tmp_path / "b.tsv"
    tsv.write_text("index\tquestion\tA\tB\n7\tPick\tyes\tno\n")
    vlmi.run("echo", tsv, tmp_path / "t.jsonl", progress=False, max_new_tokens=100)
    (record,) = read(tmp_path / "t.jsonl")
    assert record["id"] == "7"
    assert "A. yes B. no" in record["prediction"]


def test_progress_lines_when_not_a_terminal(tmp_path, vlmi_cli):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": i, "query": "x"}) + "\n" for i in range(20)))
    result = vlmi_cli("run", "echo", str(path), "-o", str(tmp_path / "o.jsonl"), "-b", "5")
    assert result.returncode == 0
    status = [line for line in result.stderr.splitlines() if line.startswith("vlmi run:")]
    assert status, result.stderr
    assert "20/20" in status[-1] and "sample/s" in status[-1] and "0 failed" in status[-1]
    assert "\r" not in result.stderr  # plain lines, not a redrawn bar
    quiet = vlmi_cli("run", "echo", str(path), "-o", str(tmp_path / "o2.jsonl"), "-q")
    assert "vlmi run:" not in quiet.stderr


def test_without_b_a_run_reads_in_the_models_preferred_chunk(tmp_path, capsys):
    from vlmi._cli.main import main

    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"id": i, "query": f"q {i}"}) + "\n" for i in range(12)))
    out = tmp_path / "out.jsonl"
    assert main(["run", "echo", str(path), "-o", str(out), "-q", "-O", "chunk=5"]) == 0
    assert [r["time"]["batch_size"] for r in read(out)] == [5] * 10 + [2] * 2
    assert "samples/s in chunks of 5" in capsys.readouterr().err
    model = vlmi.load("echo")  # preferred_batch_size 8 unless the model says otherwise
    assert vlmi.run(model, path, tmp_path / "a.jsonl", progress=False).batch_size == 8
    assert model.batch_sizes == [8, 4]
    given = vlmi.run(model, path, tmp_path / "b.jsonl", batch_size=3, progress=False)
    assert given.batch_size == 3 and model.batch_sizes[2:] == [3, 3, 3, 3]


def test_an_executor_that_only_describes_the_model_gets_its_preferred_chunk(tmp_path):
    from vlmi.plugin import Answer, Executor

    class Remote(Executor):
        loads_model = False
        sizes: list[int] = []

        def answer(self, job):
            assert not hasattr(job.model, "batch_sizes")  # described: setup never ran
            self.sizes.append(job.batch_size)
            yield [Answer(r.id, "x", None, r.prompt_style, {}) for r in job.records]

    remote = Remote()
    summary = vlmi.run(
        "echo",
        ["a", "b"],
        tmp_path / "o.jsonl",
        executor=remote,
        load_options={"chunk": 6},
        progress=False,
    )
    assert summary.done == 2 and remote.sizes == [6]


def test_resume_after_sigkill_has_every_id_exactly_once(tmp_path):
    total = 400
    make_picture().save(tmp_path / "a.png")
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "query": f"q {i}", "imgs": ["a.png"] * (i % 3)}) + "\n"
            for i in range(total)
        )
    )
    out = tmp_path / "out.jsonl"
    command = [
        sys.executable,
        "-m",
        "vlmi",
        "run",
        "echo",
        str(path),
        "-o",
        str(out),
        "-b",
        "10",
        "-q",
        "-O",
        "latency=0.02",
    ]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        if out.exists() and len(out.read_bytes().splitlines()) >= 60:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(read_complete(out))
    assert 60 <= written < total, written
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    ids = [r["id"] for r in read(out)]
    assert len(ids) == total
    assert sorted(ids) == sorted(f"s{i}" for i in range(total))
    assert f"skipped {written}" in finished.stderr


def read_complete(path):
    return [
        json.loads(line) for line in path.read_bytes().split(b"\n") if line.strip().endswith(b"}")
    ]


def _peak_rss_of_run(tmp_path, count):
    path = tmp_path / f"in-{count}.jsonl"
    with path.open("w") as handle:
        for i in range(count):
            handle.write(
                json.dumps({"id": i, "query": f"question number {i} " + "pad " * 20}) + "\n"
            )
    out = tmp_path / f"out-{count}.jsonl"
    code = (
        "import resource, sys, vlmi\n"
        f"s = vlmi.run('echo', {str(path)!r}, {str(out)!r}, batch_size=64, progress=False, "
        "max_new_tokens=4)\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(s.done, round(peak), round(s.samples_per_s))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    done, peak_mib, rate = map(int, result.stdout.split())
    assert done == count
    data_mib = (path.stat().st_size + out.stat().st_size) / 2**20
    print(f"{count} samples: {data_mib:.0f} MiB in+out, peak RSS {peak_mib} MiB, {rate} samples/s")
    return peak_mib, data_mib


@pytest.mark.slow
def test_100k_samples_stream_with_bounded_memory(tmp_path):
    small_peak, _ = _peak_rss_of_run(tmp_path, 10_000)
    big_peak, big_data = _peak_rss_of_run(tmp_path, 100_000)
    # ten times the samples (~50 MiB of input and output) add only the set of done ids
    assert big_peak - small_peak < 25, (small_peak, big_peak)
    assert big_data > 40


def test_output_piped_into_a_reader_that_stops_early_is_not_a_traceback():
    """`vlmi models | head -1`: the reader is gone before vlmi writes (a closed pipe)."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads: writing raises BrokenPipeError
    try:
        done = subprocess.run(
            [sys.executable, "-m", "vlmi", "models", "--json"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0
