"""Prefect API servers that newsdex starts itself: a temporary one for `newsdex run`, and a local one
with its services for `newsdex serve`.

With no Prefect API configured, Prefect starts a temporary server when the flow is called: after
newsdex has imported everything, so a run waits for the imports and then for the server (about
12 s here). newsdex starts the same server (Prefect's API app under uvicorn, as Prefect's own
temporary server does) as its first step instead, so the server comes up while newsdex imports
its libraries and its workers load spaCy, and the flow talks to it through PREFECT_API_URL.
One server serves every run of the process and stops at exit; it also stops if newsdex is killed.
A configured API (PREFECT_API_URL, a Prefect profile) is used as it is.

`newsdex serve` needs more: the temporary server runs no scheduler service, so a schedule never
creates a run. With no API configured, serve starts a local server (`local_server`): the same app
with its services (scheduler, late runs, ...) and the UI, its database kept under the data
directory so deployments and run history survive restarts.
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
    """A Prefect API server in a child process on a local port.

    ephemeral: what Prefect's own temporary server runs (no UI, no services, throwaway database);
    otherwise the full server (`prefect server start`): UI, scheduler and the other services, with
    its settings and database under `home` (PREFECT_HOME).
    """

    def __init__(self, ephemeral: bool = True, home: Path | None = None, port: int | None = None) -> None:
        import prefect

        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api_url = self.base_url + "/api"
        self.home = home
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT__SERVER_FINAL": "1"}
        env.pop("PREFECT_API_URL", None)
        # SQLite serves the API and the services at once; on a busy machine statements wait for the
        # write lock longer than Prefect's default 10 s.
        env["PREFECT_SERVER_DATABASE_TIMEOUT"] = "60"
        if ephemeral:
            # The settings Prefect gives its own temporary server (prefect.server.api.server).
            env.update({"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1"})
        else:
            assert home is not None
            home.mkdir(parents=True, exist_ok=True)
            env.update(
                {
                    "PREFECT_HOME": str(home),
                    "PREFECT_UI_ENABLED": "1",
                    # The UI asks this URL for the API.
                    "PREFECT_UI_API_URL": self.api_url,
                    "PREFECT_SERVER_API_HOST": "127.0.0.1",
                    "PREFECT_SERVER_API_PORT": str(self.port),
                }
            )
            for key in [k for k in env if k.startswith("PREFECT__SERVER_EPHEMERAL")]:
                env.pop(key)
        # The server's own log is not newsdex's output: the full server's goes to a file beside its
        # database; the temporary server's (its services' retries on a busy machine, their
        # cancellation at shutdown) is shown only with --verbose.
        self.log_path = home / "server.log" if home is not None and not ephemeral else None
        quiet = os.environ.get("PREFECT_LOGGING_LEVEL") == "CRITICAL"
        log = open(self.log_path, "ab") if self.log_path else (subprocess.DEVNULL if quiet else None)  # noqa: SIM115
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
            stderr=log,
            # Not in the terminal's process group: Ctrl-C is for newsdex, which stops the server itself
            # after its runs have reported to it (and the watch below stops it if newsdex is killed).
            start_new_session=True,
        )
        if self.log_path is not None:
            log.close()  # the child has its own descriptor
        self._ready = False

    def wait_ready(self, timeout: float = 120.0) -> str:
        """Return the API URL once the server answers its health check; raise ServerError if it can't."""
        deadline = time.monotonic() + timeout
        while not self._ready:
            if self.process.poll() is not None:
                raise ServerError(f"the Prefect server exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.api_url + "/health", timeout=2) as response:
                    self._ready = response.status == 200
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerError(f"the Prefect server did not start within {timeout:g} s") from None
                time.sleep(0.1)
        return self.api_url

    def stop(self, grace: float = 5.0) -> None:
        """Stop the server (terminate, then kill after `grace` seconds)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port(preferred: int = 0) -> int:
    """Return `preferred` if it is free on loopback, else a free port the system picks."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise ServerError("no free local port")


def local_server(home: Path, port: int = 4200) -> TemporaryServer:
    """Start the full local Prefect server for `newsdex serve` (port `port`, or a free one if taken)."""
    server = TemporaryServer(ephemeral=False, home=home, port=free_port(port))
    atexit.register(server.stop)
    return server


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
