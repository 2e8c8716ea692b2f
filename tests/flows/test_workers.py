from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest

from flows.workers import DocumentTimeout, WorkerPool, _with_time_limit, prepare_record
from transforms.record import Document, RawRecord, Rejection

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
