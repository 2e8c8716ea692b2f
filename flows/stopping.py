"""Stopping a run on SIGINT/SIGTERM at the next stage boundary, not wherever the signal lands.

An exception raised by a signal handler lands at an arbitrary bytecode: inside Prefect's task
engine it can leave a task run half set up ("Task run is not set") and turn a clean stop into a
failure. So during a run the signals only record the request, and the flow checks it between stages
(a few seconds at most) and stops there with Prefect's own exceptions: KeyboardInterrupt for SIGINT,
TerminationSignal for SIGTERM. A second Ctrl-C stops at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class StopRequest:
    """The signal that asked the current run to stop, if any."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def _handle(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and self.signum is not None:
            raise KeyboardInterrupt  # the second Ctrl-C: now
        self.signum = signum

    def check(self) -> None:
        """Raise the stop (KeyboardInterrupt or Prefect's TerminationSignal) if one was asked for."""
        if self.signum == signal.SIGINT:
            raise KeyboardInterrupt
        if self.signum is not None:
            from prefect.exceptions import TerminationSignal

            raise TerminationSignal(self.signum)

    @contextmanager
    def installed(self) -> Iterator[StopRequest]:
        """Take SIGINT and SIGTERM for the block (main thread only; elsewhere the caller's own apply)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
