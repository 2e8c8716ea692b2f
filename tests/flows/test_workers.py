from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsdex.flows import workers
from newsdex.flows.workers import DocumentTimeout, WorkerPool, _with_time_limit, prepare_record
from newsdex.transforms.record import Document, RawRecord, Rejection

PAGE = (
    "<html><body><article>"
    + "".join(
        f"<p>Paragraph {i} of the report says the council met on day {i} and agreed on budget item {i * 7}.</p>"
        for i in range(400)
    )
    + "</article></body></html>"
)


def _square_or_die(n: int) -> int:
    if n == 3:
        os._exit(1)  # a worker killed mid-document (segfault, OOM killer)
    return n * n


def test_time_limit_interrupts() -> None:
    with pytest.raises(DocumentTimeout):
        _with_time_limit(0.05, lambda: time.sleep(2))
    assert _with_time_limit(1.0, lambda: 42) == 42


def test_slow_document_is_rejected_with_timeout() -> None:
    result = prepare_record(
        (RawRecord(path="slow.html", html=PAGE * 5), 10_000_000, 0.001, datetime.now(UTC))
    )
    assert isinstance(result, Rejection) and result.reason == "timeout"


def test_prepare_record_cleans_and_normalises() -> None:
    result = prepare_record(
        (
            RawRecord(path="a.html", url="https://www.example.com/news/a?utm_source=x", html=PAGE),
            10_000_000,
            30.0,
            datetime.now(UTC),
        )
    )
    assert isinstance(result, Document)
    assert result.url == "https://www.example.com/news/a" and result.source_domain == "example.com"
    assert result.id.startswith("u") and result.language == "en"


def test_pool_survives_a_worker_crash_and_names_the_culprit() -> None:
    pool = WorkerPool(2)
    try:
        assert pool.map(_square_or_die, [1, 2, 3, 4], on_crash=lambda n: -n) == [1, 4, -3, 16]
        assert pool.map(_square_or_die, [5], on_crash=lambda n: -n) == [25]  # the pool works again
    finally:
        pool.close()


def test_single_worker_runs_in_process() -> None:
    assert WorkerPool(1).map(_square_or_die, [2], on_crash=lambda n: -n) == [4]


def _log_then_wait(args: tuple[str, str]) -> str:
    """Log the tag when a worker picks the item up, then wait for the release file and work 10 ms."""
    folder, tag = args
    with open(os.path.join(folder, "log"), "a") as handle:
        handle.write(f"{tag}\n")
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(folder, "release")) and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.01)
    return tag


def _both_workers_up(folder: str) -> int:
    """Wait until two different worker processes have reached this function (both spawned and warm)."""
    Path(folder, str(os.getpid())).touch()
    deadline = time.monotonic() + 60
    while len(os.listdir(folder)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid()


def test_urgent_work_overtakes_work_queued_ahead(tmp_path: Path) -> None:
    pool = WorkerPool(2)
    (tmp_path / "up").mkdir()
    try:
        assert len(set(pool.map(_both_workers_up, [str(tmp_path / "up")] * 2, on_crash=lambda f: 0))) == 2
        ahead = pool.submit(_log_then_wait, [(str(tmp_path), "a")] * 32, pool.AHEAD)
        urgent = pool.submit(_log_then_wait, [(str(tmp_path), "u")] * 4, pool.URGENT)
        (tmp_path / "release").touch()
        assert urgent.result(on_crash=lambda item: "crash") == ["u"] * 4
        assert ahead.result(on_crash=lambda item: "crash") == ["a"] * 32
    finally:
        pool.close()
    log = (tmp_path / "log").read_text().split()
    # Only size + 1 chunks (4 items each here) are handed to the processes at a time: at most
    # 12 queued-ahead items are picked up before the urgent ones, at least 20 after them.
    last_urgent = max(i for i, tag in enumerate(log) if tag == "u")
    assert log[last_urgent + 1 :].count("a") >= 20, log
    assert pool.cpu_seconds["_log_then_wait"] > 0


def test_a_crash_among_queued_work_is_isolated_to_its_item() -> None:
    pool = WorkerPool(2)
    try:
        ahead = pool.submit(_square_or_die, [3, 5, 6, 7, 8, 9], pool.AHEAD)
        assert pool.map(_square_or_die, [2, 4], on_crash=lambda n: -n) == [4, 16]
        assert ahead.result(on_crash=lambda n: -n) == [-3, 25, 36, 49, 64, 81]
    finally:
        pool.close()


def test_prestarted_pool_is_taken_by_the_run_of_the_same_size() -> None:
    workers.prestart(2, [])
    pool = workers.worker_pool(2, [])
    try:
        assert pool.map(_square_or_die, [6], on_crash=lambda n: -n) == [36]
        other = workers.worker_pool(2, [])
        assert other is not pool  # a prestarted pool is taken once
        other.close()
    finally:
        pool.close()
        workers.discard_prestarted()


def _fail_on_two(n: int) -> int:
    if n == 2:
        raise ValueError("a bug, not a crash")
    return n


def test_an_exception_in_a_worker_stops_the_run_instead_of_passing_as_a_crash() -> None:
    pool = WorkerPool(2)
    try:
        with pytest.raises(ValueError, match="a bug"):
            pool.map(_fail_on_two, [1, 2, 3], on_crash=lambda n: -n)
    finally:
        pool.close()
