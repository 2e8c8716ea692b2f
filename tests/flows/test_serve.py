"""`newsdex serve` end to end, as a user runs it: real processes, a schedule that fires, real signals.

Two set-ups: no Prefect server configured (serve starts its own, with the scheduler service), and a
Prefect server the user runs (`prefect server start`, PREFECT_API_URL). In both, the first scheduled
run indexes the inbox, a file dropped in later is indexed by a later run while the first five come
out `already_done`, and SIGTERM stops serve within 5 s leaving no process behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsdex.flows.prefect_server import free_port
from tests.conftest import SAMPLES
from tests.procs import assert_gone, cmdline, descendants

pytestmark = pytest.mark.slow

# Generous bounds: on a loaded 2-core machine a run (a fresh process importing Prefect, two workers
# loading spaCy) takes 10-30 s; the schedule fires every INTERVAL seconds.
INTERVAL = 5
RUN_WAIT = 240
STOP_LIMIT = 5.0

TOWNS = ["Arnhem", "Ghent", "Tartu", "Split", "Lublin", "Kaunas", "Brno", "Graz", "Aarhus", "Umea"]


def article(n: int) -> str:
    """Return a distinct short news article (not one of the samples)."""
    town = TOWNS[n % len(TOWNS)]
    return (
        f"{town} council approves new tram line after {n + 3} years of debate\n\n"
        f"The city council of {town} voted {20 + n} to {n % 7} on Tuesday to build a tram line of "
        f"{n + 4} kilometres linking the railway station with the university hospital, ending a "
        f"dispute that had outlasted {n % 4 + 2} mayors.\n\n"
        f"Construction is expected to start in spring and cost about {100 + 11 * n} million euros, "
        f"mayor Anna Verhoeven-{n} told reporters, adding that regional and national funds would "
        "cover more than half of the bill.\n\n"
        f"Opponents, who collected {1000 + 37 * n} signatures against the plan, said they would "
        "consider a court challenge over the route through the old town."
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(extra)
    return env


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for sample in sorted(SAMPLES.glob("*.txt")):
        shutil.copy(sample, folder / sample.name)
    return folder


class Served:
    """A `newsdex serve` process started from outside the checkout, its output collected."""

    def __init__(self, tmp_path: Path, inbox: Path, env: dict[str, str], *extra: str) -> None:
        self.data = tmp_path / "data"
        self.log = tmp_path / f"serve-{time.monotonic_ns()}.log"
        self._out = open(self.log, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newsdex",
                "--data-dir",
                str(self.data),
                "serve",
                "--interval",
                str(INTERVAL),
                *extra,
                str(inbox),
            ],
            cwd=tmp_path,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text()

    def reports(self) -> list[dict[str, Any]]:
        folder = self.data / "reports"
        out = []
        for path in sorted(folder.glob("*.json")) if folder.exists() else []:
            try:
                out.append(json.loads(path.read_text()))
            except ValueError:  # being written
                continue
        return out

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float = RUN_WAIT) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited while waiting for {what}:\n{self.output()}"
            value = check()
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(f"within {timeout} s: {what} did not happen\nserve output:\n{self.output()}")

    def report_with(self, what: str, **outcomes: int) -> dict[str, Any]:
        def match() -> dict[str, Any] | None:
            for report in self.reports():
                if all(report["outcomes"].get(k) == v for k, v in outcomes.items()):
                    return report
            return None

        return self.wait_for(f"a scheduled run with {what} ({outcomes})", match)

    def stop(self) -> float:
        """SIGTERM serve; return seconds until it and every process it started are gone."""
        tree = descendants(self.process.pid)
        start = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        finally:
            self._out.close()
        exited = time.monotonic() - start
        gone = exited + assert_gone(tree, within=30)
        print(f"serve exited {exited:.2f} s after SIGTERM, its processes {gone:.2f} s")
        return max(exited, gone)

    def kill(self) -> None:
        for pid in [*descendants(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._out.close()


def _clean_output(text: str) -> None:
    assert "Traceback" not in text, text
    assert "Warning" not in text, text


def test_schedule_fires_without_a_prefect_server(tmp_path: Path, inbox: Path) -> None:
    served = Served(tmp_path, inbox, _env(), "--prefect-port", str(free_port()))
    try:
        ui = served.wait_for(
            "the UI address in serve's first lines", lambda: "Prefect UI at http" in served.output()
        )
        assert ui and served.output().splitlines()[1].startswith(
            "newsdex serve: Prefect UI at http://127.0.0.1:"
        )
        assert (served.data / "prefect" / "prefect.db").exists(), (
            "the local server keeps its database in the data dir"
        )
        served.report_with("the five articles indexed", indexed_new=5, rejected=0)
        warm = _warm_workers(served.process.pid)
        assert len(warm) >= 1, "serve keeps its own worker processes"
        (inbox / "later.txt").write_text(article(0))
        second = served.report_with(
            "the new article indexed, the others skipped", indexed_new=1, already_done=5
        )
        assert second["status"] == "completed" and second["reconciles"]
        assert second["worker_cpu_seconds_by_stage"].get("clean_normalise", 0) > 0
        # The runs used serve's warm workers (spaCy loaded once): the same processes as before.
        assert _warm_workers(served.process.pid) == warm

        # A run in progress when SIGTERM comes: enough new articles that the run is still going.
        since = datetime.now(UTC).isoformat()
        for n in range(1, 80):
            (inbox / f"batch-{n:03}.txt").write_text(article(n))
        api = _api_url(served.output())
        served.wait_for("a run working on the new articles", lambda: _running_since(api, since))
        seconds = served.stop()
        assert seconds <= STOP_LIMIT, f"serve took {seconds:.1f} s to stop after SIGTERM"
        _clean_output(served.output())
        assert "stopped (SIGTERM)" in served.output()
    finally:
        if served.process.poll() is None:
            served.kill()

    # Nothing was lost: the next serve finishes what the interrupted run left.
    again = Served(tmp_path, inbox, _env(), "--prefect-port", str(free_port()))
    try:
        again.wait_for("every article indexed after the restart", lambda: _documents(again.data) == 85)
        assert again.stop() <= STOP_LIMIT
    finally:
        if again.process.poll() is None:
            again.kill()


def _warm_workers(pid: int) -> list[int]:
    """Return serve's own worker processes (its direct children started by multiprocessing)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sorted(int(c) for c in children if "spawn_main" in cmdline(int(c)))


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[str]:
    """A Prefect server as a user starts it (`prefect server start`); yield its API URL."""
    port = free_port()
    log = open(tmp_path / "prefect-server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false"),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "prefect-server.log").read_text()
            try:
                with urllib.request.urlopen(url + "/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "prefect server start did not come up in 120 s"
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def test_schedule_fires_on_a_running_prefect_server(tmp_path: Path, inbox: Path, prefect_server: str) -> None:
    served = Served(tmp_path, inbox, _env(PREFECT_API_URL=prefect_server))
    try:
        served.report_with("the five articles indexed", indexed_new=5, rejected=0)
        assert f"using the Prefect server at {prefect_server}" in served.output()
        assert not (served.data / "prefect").exists(), "no local server when one is configured"
        (inbox / "later.txt").write_text(article(0))
        served.report_with("the new article indexed, the others skipped", indexed_new=1, already_done=5)
        # The runs show on the user's server (a run's report is written just before Prefect records
        # its final state).
        served.wait_for(
            "two completed flow runs on the user's Prefect server",
            lambda: sum(r["state_type"] == "COMPLETED" for r in _flow_runs(prefect_server)) >= 2,
        )
        assert all(r["deployment_id"] for r in _flow_runs(prefect_server))
        seconds = served.stop()
        assert seconds <= STOP_LIMIT, f"serve took {seconds:.1f} s to stop after SIGTERM"
        _clean_output(served.output())
    finally:
        if served.process.poll() is None:
            served.kill()


def _flow_runs(api_url: str) -> list[dict[str, Any]]:
    """Return the server's flow runs ([] while it is too busy to answer: the callers poll)."""
    request = urllib.request.Request(
        api_url + "/flow_runs/filter",
        data=json.dumps({"limit": 200}).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except OSError:
        return []


def _running_since(api_url: str, since: str) -> bool:
    """True once a flow run that started after `since` (ISO time) is running."""
    return any(r["state_type"] == "RUNNING" and (r["start_time"] or "") > since for r in _flow_runs(api_url))


def _api_url(output: str) -> str:
    return output.split("(API ", 1)[1].split(")", 1)[0]


def _documents(data: Path) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "newsdex", "--data-dir", str(data), "stats", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(out.stdout)["documents"] if out.returncode == 0 else 0
