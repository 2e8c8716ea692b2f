"""The temporary Prefect server `newsdex run` starts: used only when no API is configured, never orphaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

from prefect.settings import PREFECT_API_URL, temporary_settings

from newsdex.flows import prefect_server
from tests.conftest import ROOT
from tests.procs import assert_gone

CHILD = """
import sys
from newsdex.flows import prefect_server
server = prefect_server.start_if_needed()
server.wait_ready()
print(server.process.pid, server.api_url, flush=True)
sys.stdin.read()
"""


def test_a_configured_api_is_used_as_it_is() -> None:
    with temporary_settings(updates={PREFECT_API_URL: "http://prefect.example:4200/api"}):
        assert prefect_server.start_if_needed() is None


def test_server_answers_and_dies_with_a_killed_parent() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        pid, url = parent.stdout.readline().split()
        with urllib.request.urlopen(url + "/health", timeout=10) as response:
            assert response.status == 200
        parent.send_signal(signal.SIGKILL)  # no atexit, no finally: only the watch in the server remains
        parent.wait()
        assert_gone([int(pid)], within=60)  # the temporary server does not outlive the killed run
    finally:
        parent.kill()
