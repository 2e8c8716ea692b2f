"""Stopping `newsdex run` with a real signal, as Ctrl-C, systemd, docker stop or kill -9 do.

SIGINT/SIGTERM: one line says so, exit 130/143, the report is written with status `interrupted`
and still reconciles, the worker processes are stopped; the next run finishes the job with nothing
lost and nothing twice. SIGKILL of the main process alone: its workers and Prefect's temporary
server notice and exit within seconds (no orphans).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import finished_batches
from tests.procs import assert_gone, descendants

pytestmark = pytest.mark.slow

ARTICLES = 120


def _corpus(tmp_path: Path) -> Path:
    rows = []
    for i in range(ARTICLES):
        text = (
            f"Regional grid operator reports outage number {i}\n\n"
            f"Power was cut to {1000 + 17 * i} homes in district {i} on Sunday after a transformer "
            f"failed during maintenance work, the operator said, adding that crews restored supply "
            f"within {i % 9 + 1} hours.\n\nAn investigation into the cause of failure {i} has begun; "
            f"the operator expects a first report in {i % 5 + 2} weeks, a spokeswoman said."
        )
        rows.append(json.dumps({"url": f"https://grid.example/outage-{i}", "text": text}))
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


def _start(tmp_path: Path, corpus: Path, report: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsdex",
            "--data-dir",
            str(tmp_path / "data"),
            "run",
            "--batch-size",
            "5",
            "--report",
            str(report),
            str(corpus),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_mid_run(proc: subprocess.Popen[str], data_dir: Path) -> list[int]:
    """Wait until the run has finished some batches (so it is mid-run); return its process tree."""
    deadline = time.monotonic() + 300
    while finished_batches(data_dir) < 2:
        assert proc.poll() is None, f"the run ended before it could be interrupted: {proc.communicate()}"
        assert time.monotonic() < deadline, "the run did not finish two batches in 300 s"
        time.sleep(0.05)
    return descendants(proc.pid)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_the_run_cleanly_and_the_rerun_finishes_it(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    corpus = _corpus(tmp_path)
    report_path = tmp_path / "report.json"
    proc = _start(tmp_path, corpus, report_path)
    tree = _wait_mid_run(proc, tmp_path / "data")
    assert tree, "the run has worker processes"
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err, err
    name = signal.Signals(signum).name
    assert f"newsdex: run interrupted by {name}" in err and len(err.strip().splitlines()) == 1, err
    report = json.loads(report_path.read_text())
    assert report["status"] == "interrupted" and report["error"] == f"interrupted by {name}"
    assert report["reconciles"], report
    assert_gone(tree, within=10)

    # Nothing lost, nothing twice: the rerun skips what was finished and does the rest.
    rerun = _start(tmp_path, corpus, tmp_path / "rerun.json")
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    second = json.loads((tmp_path / "rerun.json").read_text())
    assert second["outcomes"]["already_done"] >= 10 and second["reconciles"]
    export = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsdex",
            "--data-dir",
            str(tmp_path / "data"),
            "export",
            "--output-jsonl",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    urls = sorted(json.loads(line)["url"] for line in export.stdout.splitlines())
    assert urls == sorted(f"https://grid.example/outage-{i}" for i in range(ARTICLES))


def test_sigkill_of_the_run_leaves_no_process_behind(tmp_path: Path) -> None:
    proc = _start(tmp_path, _corpus(tmp_path), tmp_path / "report.json")
    tree = _wait_mid_run(proc, tmp_path / "data")
    os.kill(proc.pid, signal.SIGKILL)  # the main process only: no finally, no atexit
    proc.communicate()
    assert_gone(tree, within=10)
