"""vlmi.plugin.run_chunked: chunks, groups, order, retries in halves, out-of-memory shrinking, progress."""

from __future__ import annotations

import pytest

from vlmi._batching import run_chunked
from vlmi.errors import EngineOutOfMemoryError


class OutOfMemoryError(RuntimeError):
    """Named as torch's is; vlmi recognises it by name without importing torch."""


def test_results_come_back_in_input_order_with_groups_and_sorting():
    items = ["ccc", "a", "bb", "dddd", "e"]
    calls: list[list[str]] = []

    def run(chunk: list[str]) -> list[str]:
        calls.append(chunk)
        return [item.upper() for item in chunk]

    results = run_chunked(items, run, batch_size=2, group_by=lambda s: len(s) % 2, sort_by=len)
    assert results == ["CCC", "A", "BB", "DDDD", "E"]
    assert calls == [["a", "e"], ["ccc"], ["bb", "dddd"]]


def test_a_failing_call_is_split_in_halves_until_the_bad_item_is_alone():
    seen: list[list[int]] = []

    def run(chunk: list[int]) -> list[int]:
        seen.append(chunk)
        if 37 in chunk:
            raise ValueError("engine refused item 37")
        return [x * 10 for x in chunk]

    results = run_chunked(list(range(64)), run, batch_size=64)
    assert results[:37] == [x * 10 for x in range(37)]
    assert results[38:] == [x * 10 for x in range(38, 64)]
    assert isinstance(results[37], ValueError)
    # the chunk, then both halves at each of log2(64) = 6 levels: 13 calls, not 1 + 64
    assert len(seen) == 1 + 2 * 6
    assert sorted((len(c) for c in seen), reverse=True) == [
        64,
        32,
        32,
        16,
        16,
        8,
        8,
        4,
        4,
        2,
        2,
        1,
        1,
    ]
    assert [x for c in seen if len(c) == 1 for x in c] == [36, 37]


def test_halving_finds_every_bad_item_and_answers_the_rest():
    bad = {3, 50}
    seen: list[int] = []

    def run(chunk: list[int]) -> list[int]:
        seen.append(len(chunk))
        if bad & set(chunk):
            raise ValueError("engine refused a request")
        return chunk

    results = run_chunked(list(range(64)), run, batch_size=64)
    assert [r for r in results if not isinstance(r, ValueError)] == [
        x for x in range(64) if x not in bad
    ]
    assert {i for i, r in enumerate(results) if isinstance(r, ValueError)} == bad
    assert len(seen) <= 1 + 2 * 2 * 6  # about 2·log2(64) per bad item; one at a time: 65


def test_per_item_errors_from_the_engine_stay_in_their_slots():
    def run(chunk: list[int]) -> list[int | BaseException]:
        return [ValueError("odd") if x % 2 else x for x in chunk]

    results = run_chunked([0, 1, 2], run, batch_size=8)
    assert results[0] == 0 and results[2] == 2 and isinstance(results[1], ValueError)


def test_out_of_memory_halves_the_chunk_then_blames_one_item():
    seen: list[int] = []

    def run(chunk: list[int]) -> list[int]:
        seen.append(len(chunk))
        if len(chunk) > 2 or 4 in chunk:  # 4 never fits
            raise OutOfMemoryError("CUDA out of memory")
        return chunk

    results = run_chunked(list(range(6)), run, batch_size=6, oom_hint="use fewer images")
    assert results[:4] == [0, 1, 2, 3] and results[5] == 5
    assert isinstance(results[4], EngineOutOfMemoryError)
    assert "use fewer images" in str(results[4])
    assert seen[0] == 6 and max(seen[1:]) <= 3


def test_after_an_out_of_memory_error_later_chunks_are_smaller():
    seen: list[int] = []

    def run(chunk: list[int]) -> list[int]:
        seen.append(len(chunk))
        if len(chunk) > 3:
            raise OutOfMemoryError("CUDA out of memory")
        return chunk

    assert run_chunked(list(range(12)), run, batch_size=8) == list(range(12))
    # 8 fails, 4 fails, then every chunk (the rest of the first one, and the later ones) is 2
    assert seen == [8, 4, 2, 2, 2, 2, 2, 2]


def test_a_wrong_result_count_fails_the_call_and_is_retried_in_halves():
    def run(chunk: list[int]) -> list[int]:
        return chunk[:1]

    assert run_chunked([1, 2, 3], run, batch_size=3) == [1, 2, 3]


def test_several_chunks_show_one_progress_display(capsys: pytest.CaptureFixture[str]):
    run_chunked(list(range(5)), lambda chunk: chunk, batch_size=2, label="tiny-model")
    shown = capsys.readouterr().err
    assert shown.count("tiny-model:") == 1 and "5/5" in shown and "0 failed" in shown
    run_chunked(list(range(2)), lambda chunk: chunk, batch_size=2, label="tiny-model")
    assert capsys.readouterr().err == ""  # one chunk: no display


def test_inside_another_display_chunks_count_silently(capsys: pytest.CaptureFixture[str]):
    from vlmi._progress import Progress, progress_shown

    with Progress(10, label="vlmi run"):
        assert progress_shown()
        run_chunked(list(range(5)), lambda chunk: chunk, batch_size=2, label="tiny-model")
    assert not progress_shown()
    shown = capsys.readouterr().err
    assert "tiny-model" not in shown and "vlmi run:" in shown


def test_run_built_keeps_a_failed_build_in_its_slot_and_chunks_the_rest():
    from vlmi._batching import run_built

    calls: list[list[str]] = []

    def build(item: int) -> str:
        if item == 2:
            raise ValueError("the engine refuses this prompt")
        return f"p{item}"

    def run_chunk(chunk: list[str]) -> list[str]:
        calls.append(chunk)
        return [prompt.upper() for prompt in chunk]

    results = run_built([0, 1, 2, 3, 4], build, run_chunk, batch_size=2)
    assert results[:2] == ["P0", "P1"] and results[3:] == ["P3", "P4"]
    assert isinstance(results[2], ValueError)
    assert calls == [["p0", "p1"], ["p3", "p4"]]  # the failed one never reaches the engine


class EngineDead(RuntimeError):
    """An engine's own "the engine process died" exception."""


def _map_engine_errors(exc: BaseException):
    from vlmi.errors import EngineGoneError, EngineTimeoutError

    if isinstance(exc, EngineDead):
        return EngineGoneError(f"the engine is gone: {exc}")
    if isinstance(exc, TimeoutError):
        return EngineTimeoutError(f"no answer in time: {exc}")
    return None


def test_a_chunk_failing_for_the_moment_is_not_retried_item_by_item():
    from vlmi.errors import EngineTimeoutError

    seen: list[list[int]] = []

    def run(chunk: list[int]) -> list[int]:
        seen.append(chunk)
        if 2 in chunk:
            raise TimeoutError("read timed out")
        return [x * 10 for x in chunk]

    results = run_chunked(list(range(6)), run, batch_size=3, map_error=_map_engine_errors)
    assert results[3:] == [30, 40, 50]
    assert all(isinstance(r, EngineTimeoutError) for r in results[:3])
    assert isinstance(results[0].__cause__, TimeoutError)
    assert seen == [[0, 1, 2], [3, 4, 5]]  # no request-by-request retry of the first chunk


def test_once_the_engine_is_gone_no_later_chunk_calls_it():
    from vlmi.errors import EngineGoneError

    calls: list[list[int]] = []

    def run(chunk: list[int]) -> list[int]:
        calls.append(chunk)
        if len(calls) > 1:
            raise EngineDead("EngineCore died")
        return list(chunk)

    results = run_chunked(list(range(8)), run, batch_size=2, map_error=_map_engine_errors)
    assert results[:2] == [0, 1]
    assert all(isinstance(r, EngineGoneError) and r.retryable for r in results[2:])
    assert calls == [[0, 1], [2, 3]]
