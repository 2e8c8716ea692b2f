"""Per-document work spread over worker processes: cleaning + normalising, and NER.

Batch-level decisions that need shared state (source templates, dedup, alias canonicalisation,
indexing) stay in the flow's process; the per-document CPU work (trafilatura, langdetect, spaCy)
runs here on every core. Each document gets a time limit, and a document that kills its worker
is found and rejected instead of taking the run down.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from types import FrameType
from typing import Any, TypeVar

from newsdex.flows import stages, timeline
from newsdex.transforms.entities import DocEntities
from newsdex.transforms.record import Document, RawRecord, Rejection

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


class Pending:
    """Work handed to a pool and not yet collected: `result()` waits and returns it in item order."""

    def __init__(
        self,
        pool: WorkerPool | PrefectTaskPool,
        fn: Callable[[T], R],
        chunks: list[list[T]],
        futures: list[Future[tuple[list[R], float]]] | None,
    ) -> None:
        self.pool, self.fn, self.chunks, self.futures = pool, fn, chunks, futures

    def result(self, on_crash: Callable[[T], R]) -> list[R]:
        """Return fn over every item in order; an item whose processing killed a worker gets on_crash(item)."""
        out: list[R] = []
        if self.futures is None:  # in-process: the work runs now, in this process
            for chunk in self.chunks:
                results, cpu = _apply_chunk(self.fn, chunk)
                self.pool.cpu_seconds[self.fn.__name__] += cpu
                out.extend(results)
            return out
        for chunk, future in zip(self.chunks, self.futures, strict=True):
            try:
                results, cpu = future.result()
                self.pool.cpu_seconds[self.fn.__name__] += cpu
                out.extend(results)
            except BrokenProcessPool:
                assert not isinstance(self.pool, PrefectTaskPool)
                out.extend(self.pool.isolate(self.fn, chunk, on_crash))
            except Exception:
                # A chunk task that failed on the cluster (worker lost, task crashed) is the Dask
                # path's crash; in a local process pool an exception is a bug and stops the run.
                if not isinstance(self.pool, PrefectTaskPool):
                    raise
                out.extend(on_crash(item) for item in chunk)
        return out


def _apply_chunk(fn: Callable[[T], R], items: list[T]) -> tuple[list[R], float]:
    """Return fn over the items and the CPU seconds this process spent on them."""
    start = time.thread_time()
    results = [fn(item) for item in items]
    return results, time.thread_time() - start


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    fn: Callable[..., object] = field(compare=False)
    items: list[object] = field(compare=False)
    future: Future[tuple[list[object], float]] = field(compare=False)


class WorkerPool:
    """Worker processes fed by priority (or in-process work when workers=1).

    Work is submitted in chunks with a priority: the stage the flow is waiting on (NER, priority 0)
    goes first, and the cleaning of the batches ahead (priority 1) fills every gap, so the workers
    never sit idle while the flow's process runs its own stages (templates, dedup, index). Only
    `size + 1` chunks are handed to the processes at a time; the rest wait here, in priority order.
    """

    URGENT, AHEAD = 0, 1

    def __init__(self, workers: int = 0, warm_models: Iterable[str] = ()) -> None:
        self.size = workers or os.cpu_count() or 1
        self.warm_models = tuple(warm_models)
        self.cpu_seconds: Counter[str] = Counter()
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.RLock()
        self._room = threading.Condition(self._lock)
        self._queue: list[_Job] = []
        self._seq = 0
        self._in_flight = 0
        self._paused = False
        self._closed = False
        self._dispatcher: threading.Thread | None = None

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn, not fork: the flow's process runs Prefect's threads, which fork would copy mid-state.
                self._executor = ProcessPoolExecutor(
                    self.size,
                    mp_context=get_context("spawn"),
                    initializer=_warm_worker,
                    initargs=(self.warm_models, os.getpid()),
                )
            return self._executor

    def start(self) -> WorkerPool:
        """Start the worker processes now (they import the libraries and load the models while the
        caller does something else, e.g. while Prefect starts its server)."""
        if self.size > 1:
            pool = self._pool()
            for _ in range(self.size):
                pool.submit(_ready)
        return self

    def submit(self, fn: Callable[[T], R], items: Iterable[T], priority: int = URGENT) -> Pending:
        """Queue fn over the items (in chunks) and return the pending result; in-process work is
        done at `result()` time instead."""
        items = list(items)
        chunk = max(1, len(items) // (self.size * 4))
        chunks = _chunks(items, chunk)
        if self.size <= 1:
            return Pending(self, fn, chunks, None)
        return Pending(self, fn, chunks, self.submit_chunks(fn, chunks, priority))

    def submit_chunks(
        self, fn: Callable[[T], R], chunks: list[list[T]], priority: int = URGENT
    ) -> list[Future[tuple[list[R], float]]]:
        """Queue fn over each chunk as one job; return a future of (results, CPU seconds) per chunk."""
        futures: list[Future[tuple[list[R], float]]] = []
        with self._lock:
            if self._dispatcher is None:
                self._dispatcher = threading.Thread(target=self._dispatch, name="newsdex-pool", daemon=True)
                self._dispatcher.start()
            for part in chunks:
                future: Future[tuple[list[R], float]] = Future()
                self._seq += 1
                heapq.heappush(self._queue, _Job(priority, self._seq, fn, part, future))  # type: ignore[arg-type]
                futures.append(future)
            self._room.notify_all()
        return futures

    def map(self, fn: Callable[[T], R], items: Iterable[T], on_crash: Callable[[T], R]) -> list[R]:
        """Return fn over the items in order, ahead of any queued work; a crash gets on_crash(item)."""
        return self.submit(fn, items, self.URGENT).result(on_crash)

    def _dispatch(self) -> None:
        while True:
            with self._room:
                self._room.wait_for(
                    lambda: (
                        self._closed or (not self._paused and self._queue and self._in_flight <= self.size)
                    )
                )
                if self._closed:
                    return
                job = heapq.heappop(self._queue)
                if not job.future.set_running_or_notify_cancel():
                    continue  # its client went away (a warm pool's run that ended)
                self._in_flight += 1
            executor = self._pool()
            try:
                done = executor.submit(_apply_chunk, job.fn, job.items)
            except (BrokenProcessPool, RuntimeError) as err:  # broken or shut down: the owner recovers
                self._forget(executor)
                self._settle()
                job.future.set_exception(BrokenProcessPool(str(err)))
                continue
            done.add_done_callback(lambda d, job=job, executor=executor: self._finished(job, executor, d))

    def _finished(self, job: _Job, executor: ProcessPoolExecutor, done: Future[Any]) -> None:
        self._settle()
        if done.cancelled():  # the pool was shut down (an interrupted run): nobody waits for it
            job.future.set_exception(CancelledError())
            return
        err = done.exception()
        if err is None:
            job.future.set_result(done.result())
        else:
            if isinstance(err, BrokenProcessPool):
                self._forget(executor)
            job.future.set_exception(err)

    def _settle(self) -> None:
        with self._room:
            self._in_flight -= 1
            self._room.notify_all()

    def _forget(self, executor: ProcessPoolExecutor) -> None:
        # Only drop the reference: a broken executor's own manager thread reaps its processes, and
        # shutting it down from inside its callbacks could deadlock.
        with self._lock:
            if self._executor is executor:
                self._executor = None

    def isolate(self, fn: Callable[[T], R], items: list[T], on_crash: Callable[[T], R]) -> list[R]:
        """Run items one at a time, alone on the workers, to find the one that kills its worker."""
        with self._room:
            self._paused = True
            self._room.wait_for(lambda: self._in_flight == 0)
        out: list[R] = []
        try:
            for item in items:
                executor = self._pool()
                try:
                    results, cpu = executor.submit(_apply_chunk, fn, [item]).result()
                    self.cpu_seconds[fn.__name__] += cpu
                    out.extend(results)
                except BrokenProcessPool:
                    self._forget(executor)
                    executor.shutdown(wait=False, cancel_futures=True)
                    out.append(on_crash(item))
        finally:
            with self._room:
                self._paused = False
                self._room.notify_all()
        return out

    def close(self) -> None:
        """Shut the workers down; queued work is dropped, and a worker still loading its models is
        stopped (the interpreter's exit would otherwise wait for it: seconds when a run had nothing
        to do)."""
        with self._room:
            self._closed = True
            self._room.notify_all()
            executor, self._executor = self._executor, None
        if executor is not None:
            processes = list((getattr(executor, "_processes", None) or {}).values())
            executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                with contextlib.suppress(Exception):
                    process.terminate()

    def terminate(self) -> None:
        """Stop the workers now, work in progress included (an interrupted run)."""
        with self._lock:
            executor = self._executor
        # ProcessPoolExecutor has no public "stop now": shutdown() lets running chunks finish.
        processes = list((getattr(executor, "_processes", None) or {}).values())
        self.close()
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=1)


_STARTED: list[WorkerPool] = []


def prestart(workers: int, models: Iterable[str]) -> None:
    """Start the worker pool of the coming run now, so its processes load while Prefect starts."""
    _STARTED.append(WorkerPool(workers, models).start())


def worker_pool(workers: int, models: Iterable[str]) -> WorkerPool | Any:
    """Return the warm pool of `newsdex serve` when this run is one of its scheduled runs (and it
    answers), else the pool started by `prestart` for this size, or a newly started one."""
    from newsdex.flows import warm_pool

    remote = warm_pool.connect()
    if remote is not None:
        return remote
    size = workers or os.cpu_count() or 1
    while _STARTED:
        pool = _STARTED.pop()
        if pool.size == size:
            return pool
        pool.close()
    return WorkerPool(workers, models).start()


def discard_prestarted() -> None:
    """Close a pool `prestart` started that no run took (the run failed before it began)."""
    while _STARTED:
        _STARTED.pop().close()


def _warm_worker(models: tuple[str, ...], parent: int) -> None:
    """Load what every document needs once per worker process: the extraction stack and the models;
    and exit when the run's process is gone (killed with SIGKILL, it cannot stop its workers)."""
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()
    # Ctrl-C reaches the whole terminal process group; the run's process decides what to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import newsdex.transforms.html  # noqa: F401 - trafilatura, htmldate, lxml
    from newsdex.transforms.language import detect_language

    detect_language("warm up the language profiles with a sentence long enough to be judged at all")
    timeline.mark("worker_cleaning_ready")
    for model in models:
        # A missing model is reported by the flow, naming the setting; warming just skips it.
        with contextlib.suppress(Exception):
            stages.load_model(model)
    timeline.mark("worker_models_ready")


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _ready() -> bool:
    return True


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

    URGENT, AHEAD = 0, 1
    size = 0

    def __init__(self) -> None:
        self.cpu_seconds: Counter[str] = Counter()

    def submit(self, fn: Callable[[T], R], items: Iterable[T], priority: int = URGENT) -> Pending:
        """Start fn over the items as Prefect task runs (the cluster schedules them) and return the pending result."""
        from prefect import task
        from prefect.cache_policies import NO_CACHE

        items = list(items)
        chunks = _chunks(items, max(1, len(items) // 8))
        if not chunks:
            return Pending(self, fn, [], [])
        runner = task(name=f"{fn.__name__}-chunk", cache_policy=NO_CACHE)(_apply_chunk)
        futures = runner.map([fn] * len(chunks), chunks)
        return Pending(self, fn, chunks, list(futures))  # type: ignore[arg-type]

    def map(self, fn: Callable[[T], R], items: Iterable[T], on_crash: Callable[[T], R]) -> list[R]:
        """Return fn over the items in order, chunks run as Prefect tasks on the flow's task runner."""
        return self.submit(fn, items).result(on_crash)

    def start(self) -> PrefectTaskPool:
        """Nothing to start: the cluster belongs to the task runner."""
        return self

    def close(self) -> None:
        """Nothing to close: the cluster belongs to the task runner."""

    def terminate(self) -> None:
        """Nothing to stop here: the cluster's tasks belong to the task runner."""
