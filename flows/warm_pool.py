"""`newsdex serve`'s warm worker pool, lent to its scheduled runs.

Prefect's runner executes every scheduled run in a fresh process, which would start its own worker
processes and load the libraries and spaCy's models again every few minutes. serve instead keeps
one worker pool (processes with the extraction stack and the models loaded) for as long as it runs
and offers it on a local socket (Linux abstract namespace, authenticated with a random key); a run
that finds NEWSDEX_WARM_POOL in its environment (serve's runs inherit it) sends its chunks there
instead of starting workers. Priorities work as in the run's own pool (NER of the batch the flow is
on before the cleaning queued ahead). Chunks a run queued and that have not started are dropped
when the run ends or dies; a chunk whose document kills a worker comes back as "broken", and the
run finds the culprit one document at a time, as with its own pool. A run that cannot reach the
pool starts its own workers.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Client, Connection, Listener
from typing import Any, TypeVar

from newsdex.flows.workers import Pending, WorkerPool, _chunks

T = TypeVar("T")
R = TypeVar("R")

ADDRESS_VARIABLE = "NEWSDEX_WARM_POOL"


class PoolService:
    """Serve a WorkerPool's workers to other processes (one thread per connected run)."""

    def __init__(self, pool: WorkerPool) -> None:
        self.pool = pool
        self.name = f"newsdex-pool-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.authkey = os.urandom(16)
        self._listener = Listener("\0" + self.name, family="AF_UNIX", authkey=self.authkey)
        self._closed = False
        threading.Thread(target=self._accept, name="warm-pool", daemon=True).start()

    @property
    def address(self) -> str:
        """Return what a run needs to connect: the socket's name and the key (NEWSDEX_WARM_POOL)."""
        return f"{self.name}|{self.authkey.hex()}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except Exception:  # closed, or a client that failed authentication
                continue
            threading.Thread(target=self._serve, args=(conn,), name="warm-pool-run", daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        send = threading.Lock()
        futures: dict[int, Future[Any]] = {}

        def reply(job: int, future: Future[Any]) -> None:
            futures.pop(job, None)
            if future.cancelled():
                return
            err = future.exception()
            if err is None:
                message: tuple[str, int, Any] = ("ok", job, future.result())
            elif isinstance(err, BrokenProcessPool):
                message = ("broken", job, None)
            else:
                message = ("error", job, err)
            with send, contextlib.suppress(Exception):
                try:
                    conn.send(message)
                except Exception:  # an exception that does not pickle: its text instead
                    conn.send(("error", job, RuntimeError(repr(err))))

        try:
            with send:
                conn.send(("hello", self.pool.size))
            while True:
                _, job, fn, chunk, priority = conn.recv()
                (future,) = self.pool.submit_chunks(fn, [chunk], priority)
                futures[job] = future
                future.add_done_callback(lambda f, job=job: reply(job, f))
        except (EOFError, OSError):
            pass  # the run ended (or died)
        finally:
            for future in list(futures.values()):
                future.cancel()  # queued work of a run that is gone; running chunks just finish
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        """Stop accepting runs."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()


def start_service(workers: int, models: Iterable[str]) -> PoolService:
    """Start a warm pool and its service; set NEWSDEX_WARM_POOL for the child processes (the runs)."""
    service = PoolService(WorkerPool(workers, models).start())
    os.environ[ADDRESS_VARIABLE] = service.address
    return service


def connect() -> RemotePool | None:
    """Return the warm pool named by NEWSDEX_WARM_POOL, or None (not set, or it does not answer)."""
    value = os.environ.get(ADDRESS_VARIABLE, "")
    name, _, key = value.partition("|")
    if not name or not key:
        return None
    try:
        conn = Client("\0" + name, family="AF_UNIX", authkey=bytes.fromhex(key))
        if not conn.poll(10):
            conn.close()
            return None
        kind, size = conn.recv()
    except (OSError, EOFError, ValueError):
        return None
    return RemotePool(conn, size) if kind == "hello" else None


class RemotePool:
    """The run's side of the warm pool: the WorkerPool interface the pipeline uses, over a connection."""

    URGENT, AHEAD = WorkerPool.URGENT, WorkerPool.AHEAD

    def __init__(self, conn: Connection, size: int) -> None:
        self.size = size
        self.cpu_seconds: Counter[str] = Counter()
        self._conn = conn
        self._send_lock = threading.Lock()
        self._futures: dict[int, Future[Any]] = {}
        self._ids = itertools.count()
        self._gone = False
        threading.Thread(target=self._read, name="warm-pool-client", daemon=True).start()

    def submit(self, fn: Callable[[T], R], items: Iterable[T], priority: int = URGENT) -> Pending:
        """Queue fn over the items (in chunks, as the local pool does) and return the pending result."""
        items = list(items)
        chunks = _chunks(items, max(1, len(items) // (self.size * 4)))
        return Pending(self, fn, chunks, [self._send(fn, chunk, priority) for chunk in chunks])  # type: ignore[arg-type]

    def map(self, fn: Callable[[T], R], items: Iterable[T], on_crash: Callable[[T], R]) -> list[R]:
        """Return fn over the items in order, ahead of queued work; a crash gets on_crash(item)."""
        return self.submit(fn, items, self.URGENT).result(on_crash)

    def isolate(self, fn: Callable[[T], R], items: list[T], on_crash: Callable[[T], R]) -> list[R]:
        """Run the items one by one to find the one that kills its worker."""
        out: list[R] = []
        for item in items:
            try:
                results, cpu = self._send(fn, [item], self.URGENT).result()
                self.cpu_seconds[fn.__name__] += cpu
                out.extend(results)
            except BrokenProcessPool:
                out.append(on_crash(item))
        return out

    def _send(self, fn: Callable[..., Any], chunk: list[Any], priority: int) -> Future[Any]:
        future: Future[Any] = Future()
        job = next(self._ids)
        self._futures[job] = future
        try:
            with self._send_lock:
                if self._gone:
                    raise OSError("serve's warm pool is gone")
                self._conn.send(("job", job, fn, chunk, priority))
        except OSError as err:
            self._futures.pop(job, None)
            future.set_exception(BrokenProcessPool(str(err)))
        return future

    def _read(self) -> None:
        try:
            while True:
                kind, job, payload = self._conn.recv()
                future = self._futures.pop(job, None)
                if future is None:
                    continue
                if kind == "ok":
                    future.set_result(payload)
                elif kind == "broken":
                    future.set_exception(BrokenProcessPool("a document killed its worker"))
                else:
                    future.set_exception(payload)
        except (EOFError, OSError):
            self._gone = True
            for future in list(self._futures.values()):
                future.set_exception(BrokenProcessPool("serve's warm pool is gone"))
            self._futures.clear()

    def start(self) -> RemotePool:
        """Nothing to start: the workers are serve's and already warm."""
        return self

    def close(self) -> None:
        """Leave the pool: what this run queued and has not started is dropped; the workers stay."""
        with self._send_lock:
            self._gone = True
        with contextlib.suppress(OSError):
            self._conn.close()

    def terminate(self) -> None:
        """An interrupted run leaves the pool at once (its running chunks finish on serve's workers)."""
        self.close()
