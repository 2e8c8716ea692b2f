"""`newsdex serve`: the run flow as a scheduled Prefect deployment, served by this process.

A schedule needs two things: a Prefect server whose scheduler service creates the flow runs, and a
runner that picks them up and executes them. The runner is Prefect's own (`prefect.runner.Runner`,
what `flow.serve` uses), in this process; each run executes in a child process, as Prefect runs
served flows. The server is the one PREFECT_API_URL names (its UI shows the runs), or, with none
configured, a local Prefect server with its services and UI that serve starts under the data
directory and stops at exit (Prefect's temporary server runs no scheduler, so with it nothing would
ever run).

Shutdown (SIGTERM from systemd or `docker stop`, Ctrl-C) takes at most a few seconds: no new run
starts, a run in progress is told to stop (SIGTERM: it stops between documents, writes its report
as `interrupted` and stops its workers; the unfinished batch is not marked done, so the next run
redoes it) and killed if it has not exited by the deadline, then the local server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import signal
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from newsdex.errors import UsageError
from newsdex.flows.prefect_server import process_alive

# Seconds after SIGTERM: the run in progress gets RUN_GRACE to stop by itself before it is killed,
# Prefect's runner up to RUNNER_GRACE to pause the schedule, the local server the rest of
# STOP_DEADLINE (then it is killed: SQLite keeps its database consistent).
STOP_DEADLINE = 4.0
RUN_GRACE = 2.5
RUNNER_GRACE = 0.5
DEPLOYMENT_NAME = "newsdex-scheduled"


class ServeError(UsageError):
    """serve cannot start (bad schedule, unreachable Prefect server); the message says what to fix."""


class ServeFailed(RuntimeError):
    """Serving stopped on an error (Prefect's runner died)."""


def make_deployment(
    inputs: list[str],
    *,
    cron: str | None = None,
    interval: float | None = None,
    name: str = DEPLOYMENT_NAME,
    data_dir: str | Path,
    es_url: str | None = None,
) -> Any:
    """Return the Prefect deployment of the run flow over the watched inputs on a cron or interval
    schedule. Each run writes its report to `<data dir>/reports/<run id>.json`."""
    from newsdex.flows.pipeline import run_pipeline

    check_schedule(cron, interval)
    data = Path(data_dir).resolve()
    parameters: dict[str, Any] = {
        "inputs": [str(Path(p).resolve()) for p in inputs],
        "data_dir": str(data),
        "quiet": True,
        "report_path": str(data / "reports" / "{run_id}.json"),
    }
    if es_url:
        parameters["es_url"] = es_url
    schedule: dict[str, Any] = {"cron": cron} if cron else {"interval": timedelta(seconds=interval or 0)}
    return run_pipeline.to_deployment(
        name=name,
        parameters=parameters,
        paused=False,  # a restarted serve resumes the schedule its last shutdown paused
        **schedule,
    )


def check_schedule(cron: str | None, interval: float | None) -> None:
    """Raise ServeError unless exactly one valid schedule is given."""
    if (cron is None) == (interval is None):
        raise ServeError("give exactly one of --cron and --interval")
    if interval is not None and not interval > 0:
        raise ServeError(f"--interval takes a positive number of seconds, got {interval:g}")
    if cron is not None:
        from prefect.client.schemas.schedules import CronSchedule

        try:
            CronSchedule(cron=cron)
        except ValueError as err:
            raise ServeError(f"--cron {cron!r} is not a valid cron expression") from err


def serve(
    inputs: list[str],
    *,
    cron: str | None,
    interval: float | None,
    name: str,
    data_dir: Path,
    es_url: str | None,
    port: int,
    out: Any = sys.stdout,
) -> int:
    """Serve the scheduled deployment until SIGTERM/SIGINT; return the exit code (0 after a clean stop)."""
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    from newsdex.flows import prefect_server, warm_pool
    from newsdex.flows.settings import Settings

    check_schedule(cron, interval)
    pool: warm_pool.PoolService | None = None
    stop = _StopSignal()  # from here on SIGTERM/SIGINT end serve cleanly, even during start-up
    server = None
    api_url = get_current_settings().api.url
    if api_url is None:
        home = data_dir.resolve() / "prefect"
        # A shared server `newsdex run` left running on this data directory serves the schedule too
        # (one server per database); else serve starts its own and records it for commands run meanwhile.
        server = prefect_server.running_shared(home)
        if server is None:
            server = prefect_server.local_server(home, port)
            print(f"newsdex serve: starting a local Prefect server (database in {server.home})", file=out)
        else:
            print(f"newsdex serve: using the local Prefect server already running on {home}", file=out)
    try:
        if server is not None:
            api_url = _wait(server, stop)
            if api_url is None:
                return _stopped(stop, out)
            # The runs execute in child processes: they inherit this.
            os.environ["PREFECT_API_URL"] = api_url
            print(f"newsdex serve: Prefect UI at {server.base_url}  (API {api_url})", file=out)
        else:
            _check_reachable(api_url)
            print(f"newsdex serve: using the Prefect server at {api_url}; runs show in its UI", file=out)
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            deployment = make_deployment(
                inputs, cron=cron, interval=interval, name=name, data_dir=data_dir, es_url=es_url
            )
            when = f"cron {cron!r}" if cron else f"every {interval:g} s"
            print(
                f"newsdex serve: deployment 'newsdex-run/{name}' runs {when} over "
                + ", ".join(deployment.parameters["inputs"])
                + f"; reports in {Path(deployment.parameters['data_dir']) / 'reports'}",
                file=out,
                flush=True,
            )
            if not stop.is_set():
                # The runs borrow this process's warm workers instead of loading spaCy every time.
                pool = warm_pool.start_service(0, Settings.from_env(data_dir=data_dir).spacy_models.values())
                keep = {server.pid} if server is not None else set()
                _serve(deployment, stop, _poll_seconds(interval), keep)
    finally:
        stop.restore()
        if pool is not None:
            pool.close()
            pool.pool.terminate()
        if server is not None:
            server.stop(grace=max(0.2, min(1.0, STOP_DEADLINE - stop.elapsed())) if stop.is_set() else 5.0)
    return _stopped(stop, out)


def _stopped(stop: _StopSignal, out: Any) -> int:
    print(f"newsdex serve: stopped ({stop.name or 'exit'})", file=out, flush=True)
    return 0


def _poll_seconds(interval: float | None) -> float:
    # Prefect's runner polls every 10 s; a shorter schedule is polled at half its interval.
    return 10.0 if interval is None else min(10.0, max(1.0, interval / 2))


def _serve(deployment: Any, stop: _StopSignal, poll: float, keep: set[int]) -> None:
    """Run Prefect's runner until the stop signal, then stop the run in progress within the deadline
    (`keep`: child processes that are not runs, i.e. the local Prefect server)."""
    runner = _RunnerThread(deployment, poll)
    runner.start()
    while not stop.wait(0.5):
        if not runner.is_alive():
            raise ServeFailed(f"Prefect's runner stopped: {runner.error!r}")
    _stop_runs(stop.at + RUN_GRACE, keep)
    runner.stop(timeout=max(0.1, min(RUNNER_GRACE, STOP_DEADLINE - 0.5 - stop.elapsed())))


class _RunnerThread(threading.Thread):
    """Prefect's runner (what `flow.serve` runs) on its own event loop in a daemon thread.

    The main thread keeps the signals: Runner.start installs a SIGTERM handler of its own when it
    runs in the main thread, which leaves a coroutine un-awaited and gives a run 30 s to die.
    """

    def __init__(self, deployment: Any, poll: float) -> None:
        super().__init__(name="prefect-runner", daemon=True)
        self.deployment = deployment
        self.poll = poll
        self.runner: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None
        # Prefect's settings (the API URL) live in context variables: the thread takes this one's.
        self.context = contextvars.copy_context()

    def run(self) -> None:
        try:
            self.context.run(asyncio.run, self._main())
        except BaseException as err:  # handed to the main thread
            self.error = err

    async def _main(self) -> None:
        from prefect.runner import Runner

        self.loop = asyncio.get_running_loop()
        # limit=1: one run at a time over one folder; a run that comes due while another goes waits.
        self.runner = Runner(name=self.deployment.name, query_seconds=self.poll, limit=1)
        await self.runner.aadd_deployment(self.deployment)
        await self.runner.start()

    def stop(self, timeout: float) -> None:
        """Ask the runner to stop (its runs are gone by now) and wait up to `timeout` seconds."""
        if self.loop is not None and self.runner is not None and self.runner.started:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                asyncio.run_coroutine_threadsafe(self.runner.astop(), self.loop)
        self.join(timeout)


def _stop_runs(deadline: float, keep: set[int]) -> None:
    """SIGTERM the flow-run processes (our children but `keep`), SIGKILL what is left of them and of
    their own children at the deadline."""
    runs = [pid for pid in _children(os.getpid()) if pid not in keep and not _is_tracker(pid)]
    for pid in runs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    while time.monotonic() < deadline and any(process_alive(pid) for pid in runs):
        time.sleep(0.05)
    for pid in runs:
        for victim in [*_descendants(pid), pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)


class _StopSignal:
    """SIGTERM/SIGINT as an event: set once, remembered with the time it came."""

    def __init__(self) -> None:
        self.name = ""
        self.at = 0.0
        self._event = threading.Event()
        self._previous = {s: signal.signal(s, self._handle) for s in (signal.SIGTERM, signal.SIGINT)}

    def _handle(self, signum: int, frame: object) -> None:
        if not self.name:
            self.name = signal.Signals(signum).name
            self.at = time.monotonic()
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)

    def elapsed(self) -> float:
        return time.monotonic() - self.at if self.name else 0.0

    def restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


def _wait(server: Any, stop: _StopSignal) -> str | None:
    """Return the local server's API URL once it answers, or None if serve is stopped first."""
    from newsdex.flows.prefect_server import ServerError

    deadline = time.monotonic() + 120
    while not stop.is_set():
        try:
            return server.wait_ready(timeout=0.5)
        except ServerError:
            if server.exited() or time.monotonic() > deadline:
                raise
    return None


def _check_reachable(api_url: str) -> None:
    import urllib.request

    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=10) as response:
            if response.status == 200:
                return
    except OSError as err:
        raise ServeError(f"the Prefect server at {api_url} (PREFECT_API_URL) does not answer: {err}") from err
    raise ServeError(f"the Prefect server at {api_url} (PREFECT_API_URL) is not healthy")


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def _descendants(pid: int) -> list[int]:
    out = []
    for child in _children(pid):
        out.extend(_descendants(child))
        out.append(child)
    return out


def _is_tracker(pid: int) -> bool:
    # multiprocessing's resource tracker: it exits by itself when its users are gone.
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"resource_tracker" in handle.read()
    except OSError:
        return False
