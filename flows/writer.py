"""The index write of each batch, off the flow's path when the sink is a remote server.

With Elasticsearch the flow would otherwise wait for every bulk response while the workers run out
of work. A `SinkWriter` queues batch k's write and starts it once batch k+1 has been deduplicated
(the lookups against the server are done), so the bulk request runs while the flow waits for
batch k+1's NER on the workers; at most one write is queued or in flight. The queued batch's dedup
keys are visible to the next batch at once (`index.remember`), and its bookkeeping — counts,
rejections, marking the batch done — runs in the flow's thread when the write is joined, so a
batch is only ever marked done after the sink acknowledged it. The embedded index writes in the
flow's thread, as before: its write is local CPU work a thread would not take off the flow's core.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass
from typing import Any

from newsdex.transforms.record import Document

Done = Callable[[dict[str, Any], set[str]], None]


@dataclass(slots=True)
class _Write:
    docs: list[Document]
    ids: set[str]
    done: Done
    future: Future[dict[str, Any]] | None = None


class SinkWriter:
    """Queue each batch's write (`submit`), start it (`start`), finish it (`join`).

    `write(docs)` is the write itself (the retried Prefect task); `done(counts, refused ids)` is
    called in the flow's thread with its result. `waited` is the time the flow spent blocked on
    the sink, `background` the time writes ran while the flow did something else.
    """

    def __init__(self, index: Any, write: Callable[[list[Document]], dict[str, Any]]) -> None:
        self.index = index
        self._write = write
        self._executor = (
            ThreadPoolExecutor(1, thread_name_prefix="newsdex-sink") if index.background_writes else None
        )
        self._pending: _Write | None = None
        self.waited = 0.0
        self.background = 0.0

    def submit(self, docs: list[Document], done: Done) -> None:
        """Write the batch now (in this thread), or queue it for the background after the previous one."""
        if not docs:
            done({"indexed": 0, "replaced": 0, "rejected": []}, set())
            return
        self.join()
        if self._executor is None:
            counts = self._write(docs)
            done(counts, _refused(docs, counts))
            return
        self.index.remember(docs)  # the next batch's dedup sees this one before the server does
        self._pending = _Write(docs, {d.id for d in docs}, done)

    def start(self) -> None:
        """Start the queued write in the background (call it when the flow is done with the server)."""
        write = self._pending
        if write is None or write.future is not None or self._executor is None:
            return
        # The task runs in the flow run's context, as under Prefect's own thread task runner.
        write.future = self._executor.submit(copy_context().run, self._timed_write, write.docs)

    def holds(self, ids: Iterable[str | None]) -> bool:
        """Return True when any of these ids is in the write queued or in flight."""
        return self._pending is not None and not self._pending.ids.isdisjoint(ids)

    def join(self) -> set[str]:
        """Finish the queued write (starting it if needed), do its bookkeeping; return refused ids."""
        self.start()
        write, self._pending = self._pending, None
        if write is None or write.future is None:
            return set()
        started = time.perf_counter()
        try:
            counts = write.future.result()
        finally:
            self.waited += time.perf_counter() - started
        refused = _refused(write.docs, counts)
        if refused:
            self.index.forget(refused)
        write.done(counts, refused)
        return refused

    def close(self) -> None:
        """Wait for a write still running (without its bookkeeping: the run failed) and stop the thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self._pending = None

    def _timed_write(self, docs: list[Document]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return self._write(docs)
        finally:
            self.background += time.perf_counter() - started


def _refused(docs: list[Document], counts: dict[str, Any]) -> set[str]:
    inputs = [r.input for r in counts["rejected"]]
    return {d.id for d in docs if d.input in inputs}
