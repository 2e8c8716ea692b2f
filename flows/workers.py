"""Per-document work spread over worker processes: cleaning + normalising, and NER.

Batch-level decisions that need shared state (source templates, dedup, alias canonicalisation,
indexing) stay in the flow's process; the per-document CPU work (trafilatura, langdetect, spaCy)
runs here on every core. Each document gets a time limit, and a document that kills its worker
is found and rejected instead of taking the run down.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from multiprocessing import get_context
from types import FrameType
from typing import TypeVar

from flows import stages
from transforms.entities import DocEntities
from transforms.record import Document, RawRecord, Rejection

T = TypeVar("T")
R = TypeVar("R")


class DocumentTimeout(Exception):
    """A document took longer than its time limit."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise DocumentTimeout


def _with_time_limit(seconds: float, fn: Callable[[], R]) -> R:
    # SIGALRM interrupts Python code (trafilatura, regexes, lxml callbacks) in this worker's main thread.
    # Only a main thread can take SIGALRM: on a Dask worker (tasks in threads) there is no per-document
    # limit here, and the cluster's own timeouts apply.
    if (
        seconds <= 0
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        return fn()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def prepare_record(args: tuple[RawRecord, int, float, datetime]) -> Document | Rejection:
    """Return the cleaned, normalised document of one record, or its rejection (timeout included)."""
    record, max_chars, timeout, run_started = args

    def work() -> Document | Rejection:
        result = stages.clean_record(record, max_chars)
        if isinstance(result, Rejection):
            return result
        return stages.normalise(result, run_started)

    try:
        return _with_time_limit(timeout, work)
    except DocumentTimeout:
        return Rejection(
            "clean",
            "timeout",
            f"processing took longer than {timeout:g} s (--doc-timeout)",
            record.origin(),
            record.url,
        )
    except RecursionError:
        return Rejection(
            "clean", "too_deep", "document nesting too deep to process", record.origin(), record.url
        )
    except MemoryError:
        return Rejection(
            "clean", "too_large", "ran out of memory processing the document", record.origin(), record.url
        )


def entities_of(args: tuple[str, list[tuple[str, str]]]) -> list[DocEntities]:
    """Return the resolved entities of a chunk of (title, body) pairs with the named spaCy model."""
    model, pairs = args
    return stages.ner_in_process(model, pairs)


NER_CHUNK = 8


def run_ner(
    pool: WorkerPool | PrefectTaskPool, model: str, pairs: list[tuple[str, str]]
) -> list[DocEntities]:
    """Return entities for every (title, body) pair, NER spread over the pool in chunks."""
    chunks = [(model, pairs[i : i + NER_CHUNK]) for i in range(0, len(pairs), NER_CHUNK)]
    results = pool.map(entities_of, chunks, on_crash=lambda chunk: [DocEntities() for _ in chunk[1]])
    return [entities for chunk in results for entities in chunk]


class WorkerPool:
    """A process pool (or in-process work when there is one core or workers=1)."""

    def __init__(self, workers: int = 0) -> None:
        self.size = workers or os.cpu_count() or 1
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor | None:
        if self.size <= 1:
            return None
        if self._executor is None:
            # spawn, not fork: the flow's process runs Prefect's threads, which fork would copy mid-state.
            self._executor = ProcessPoolExecutor(self.size, mp_context=get_context("spawn"))
        return self._executor

    def map(self, fn: Callable[[T], R], items: Iterable[T], on_crash: Callable[[T], R]) -> list[R]:
        """Return fn over the items in order; an item whose worker dies gets on_crash(item)."""
        items = list(items)
        pool = self._pool()
        if pool is None:
            return [fn(item) for item in items]
        chunk = max(1, len(items) // (self.size * 4))
        try:
            return list(pool.map(fn, items, chunksize=chunk))
        except BrokenProcessPool:
            self.close()
        # Find the culprit: one item at a time, each in a fresh pool after a crash.
        out: list[R] = []
        for item in items:
            pool = self._pool()
            assert pool is not None
            try:
                out.append(pool.submit(fn, item).result())
            except BrokenProcessPool:
                self.close()
                out.append(on_crash(item))
        return out

    def close(self) -> None:
        """Shut the workers down."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def crashed_record(args: tuple[RawRecord, int, float, datetime]) -> Rejection:
    """Return the rejection for a record whose processing killed its worker process."""
    record = args[0]
    return Rejection(
        "clean",
        "worker_crashed",
        "processing this document killed its worker process",
        record.origin(),
        record.url,
    )


class PrefectTaskPool:
    """Per-document work as Prefect tasks mapped over chunks, for a flow run with a Dask task runner.

    With `--dask-address` the flow runs under prefect-dask's DaskTaskRunner, and the same chunks the
    process pool would take become Prefect task runs on the Dask cluster's workers.
    """

    size = 0

    def map(self, fn: Callable[[T], R], items: Iterable[T], on_crash: Callable[[T], R]) -> list[R]:
        """Return fn over the items in order, chunks run as Prefect tasks on the flow's task runner."""
        from prefect import task
        from prefect.cache_policies import NO_CACHE

        items = list(items)
        if not items:
            return []
        chunk = max(1, len(items) // 8)
        chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
        runner = task(name=f"{fn.__name__}-chunk", cache_policy=NO_CACHE)(_apply_chunk)
        futures = runner.map([fn] * len(chunks), chunks)
        out: list[R] = []
        for part, future in zip(chunks, futures, strict=True):
            try:
                out.extend(future.result())
            except Exception:
                out.extend(on_crash(item) for item in part)
        return out

    def close(self) -> None:
        """Nothing to close: the cluster belongs to the task runner."""


def _apply_chunk(fn: Callable[[T], R], items: list[T]) -> list[R]:
    return [fn(item) for item in items]
