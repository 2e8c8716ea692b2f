"""Prefect's temporary API server for `newsdex run`, started at the very beginning of the command.

With no Prefect API configured, Prefect starts a temporary server when the flow is called: after
newsdex has imported everything, so a run waits for the imports and then for the server (about
12 s here). newsdex starts the same server (Prefect's API app under uvicorn, as Prefect's own
temporary server does) as its first step instead, so the server comes up while newsdex imports
its libraries and its workers load spaCy, and the flow talks to it through PREFECT_API_URL.
One server serves every run of the process and stops at exit; it also stops if newsdex is killed.
A configured API (PREFECT_API_URL, a Prefect profile) is used as it is.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

_SERVER: TemporaryServer | None = None


class ServerError(RuntimeError):
    """The temporary Prefect server did not come up."""


class TemporaryServer:
    """A Prefect API server in a child process on a free local port."""

    def __init__(self) -> None:
        import prefect

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        env = {
            **os.environ,
            "PREFECT_UI_ENABLED": "0",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            # The settings Prefect gives its own temporary server (prefect.server.api.server).
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "newsdex.flows.prefect_server",
                str(os.getpid()),
                "--app-dir",
                str(Path(prefect.__file__).parent.parent),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        self._ready = False

    def wait_ready(self, timeout: float = 120.0) -> str:
        """Return the API URL once the server answers its health check; raise ServerError if it can't."""
        deadline = time.monotonic() + timeout
        while not self._ready:
            if self.process.poll() is not None:
                raise ServerError(f"Prefect's temporary server exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.api_url + "/health", timeout=2) as response:
                    self._ready = response.status == 200
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"Prefect's temporary server did not start within {timeout:g} s"
                    ) from None
                time.sleep(0.1)
        return self.api_url

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 5 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_if_needed() -> TemporaryServer | None:
    """Start the process's temporary server unless a Prefect API is configured; return it or None."""
    global _SERVER
    from prefect.settings import get_current_settings

    if get_current_settings().api.url is not None:
        return None
    if _SERVER is None or _SERVER.process.poll() is not None:
        _SERVER = TemporaryServer()
        atexit.register(_SERVER.stop)
    return _SERVER


@contextlib.contextmanager
def using(server: TemporaryServer | None) -> Iterator[None]:
    """Point Prefect at the temporary server (when there is one) for the duration of the block."""
    if server is None:
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: server.wait_ready()}):
        yield


def _serve(parent: int, uvicorn_args: list[str]) -> None:
    """Run uvicorn with Prefect's app, stopping when the parent process is gone (even if killed)."""
    import uvicorn.main

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    uvicorn.main.main(args=uvicorn_args)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), sys.argv[2:])
