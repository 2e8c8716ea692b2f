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

`newsdex run` with no API configured uses a shared local server (`shared_server`) instead of
starting one per command: the first run starts the full server under `<data dir>/prefect/`
(detached, so it outlives that run), records it in `server.json`, and later commands find it there
and pay only a health check. Each command holds a lease (`clients/<pid>`) while it runs; the server
stops itself once no live lease is left for NEWSDEX_PREFECT_IDLE seconds (600; 0 = a temporary
server per command, as before). A lock file serialises starting and stopping, so two runs at once
share one server and a stopping server is never handed out; a lease whose process died (SIGKILL)
no longer counts. A record whose process is gone, or is not our server, is stale: the next command
starts a new server. If the shared server does not come up, the run falls back to a temporary one.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
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
from typing import Any

_SERVER: TemporaryServer | None = None


class ServerError(RuntimeError):
    """The temporary Prefect server did not come up."""


class TemporaryServer:
    """A Prefect API server in a child process on a local port.

    ephemeral: what Prefect's own temporary server runs (no UI, no services, throwaway database);
    otherwise the full server (`prefect server start`): UI, scheduler and the other services, with
    its settings and database under `home` (PREFECT_HOME).
    """

    def __init__(
        self,
        ephemeral: bool = True,
        home: Path | None = None,
        port: int | None = None,
        idle: float | None = None,
    ) -> None:
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
            if not _custom_database(env):
                fresh = not (home / DATABASE).exists()
                seeded = fresh and seed_database(home)
                # A new database migrated by this server is kept as the template for the next ones.
                self._make_template = fresh and not seeded
                if blocks_registered(home):
                    # Block types are in the database (this Prefect's): skip Prefect's check at
                    # start, which imports every installed Prefect collection (prefect-dask: dask).
                    env.update(SKIP_BLOCK_REGISTRATION)
        # The server's own log is not newsdex's output: the full server's goes to a file beside its
        # database; the temporary server's (its services' retries on a busy machine, their
        # cancellation at shutdown) is shown only with --verbose.
        self.log_path = home / "server.log" if home is not None and not ephemeral else None
        quiet = os.environ.get("PREFECT_LOGGING_LEVEL") == "CRITICAL"
        log = open(self.log_path, "ab") if self.log_path else (subprocess.DEVNULL if quiet else None)  # noqa: SIM115
        command = [
            sys.executable,
            "-m",
            "newsdex.flows.prefect_server",
            # Who decides when it stops: the parent's end, or (detached) no lease for `idle` seconds.
            str(os.getpid()) if idle is None else f"idle={idle:g}",
            "--app-dir",
            str(_prefect_package().parent),
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
        ]
        self.pid = 0
        if idle is None:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                # Not in the terminal's process group: Ctrl-C is for newsdex, which stops the server
                # itself after its runs have reported to it (and the watch below stops it if newsdex is
                # killed).
                start_new_session=True,
            )
            self.pid = self.process.pid
        else:
            # Detached: started through a shell that exits at once, so the server is no child of this
            # command (it outlives it, and a signal to the command's process tree does not reach it).
            self.process = None
            launcher = subprocess.run(
                ["/bin/sh", "-c", '"$@" </dev/null >/dev/null & echo $!', "sh", *command],
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                check=True,
            )
            self.pid = int(launcher.stdout.split()[0])
        if self.log_path is not None:
            log.close()  # the child has its own descriptor
        self._ready = False
        self.shared = False
        self.lease: Path | None = None

    _make_template = False

    def exited(self) -> bool:
        """Return True when the server process is gone."""
        if self.process is not None:
            return self.process.poll() is not None
        return not process_alive(self.pid)

    def wait_ready(self, timeout: float = 120.0) -> str:
        """Return the API URL once the server answers its health check; raise ServerError if it can't."""
        deadline = time.monotonic() + timeout
        while not self._ready:
            if self.exited():
                code = self.process.returncode if self.process is not None else "?"
                raise ServerError(f"the Prefect server exited with code {code}")
            try:
                with urllib.request.urlopen(self.api_url + "/health", timeout=2) as response:
                    self._ready = response.status == 200
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerError(f"the Prefect server did not start within {timeout:g} s") from None
                time.sleep(0.1)
            if self._ready and self.home is not None and self.log_path is not None:
                # Up: its database is migrated and has this Prefect's block types.
                mark_blocks_registered(self.home)
                if self._make_template:
                    self._make_template = False
                    save_template(self.home)
        return self.api_url

    def stop(self, grace: float = 5.0) -> None:
        """Stop the server (terminate, then kill after `grace` seconds); a detached one stops itself."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


DATABASE = "prefect.db"
BLOCKS_MARK = "blocks-registered"
SKIP_BLOCK_REGISTRATION = {
    "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "false",
    "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
}
# Tables a new server's database holds data in: the migration version and the block types.
TEMPLATE_TABLES = {"alembic_version", "block_type", "block_schema", "block_schema_reference"}


def template_path() -> Path:
    """Return where the migrated empty Prefect database of this Prefect version is kept:
    NEWSDEX_CACHE_DIR, else $XDG_CACHE_HOME/newsdex, else ~/.cache/newsdex."""
    root = os.environ.get("NEWSDEX_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "newsdex"
    )
    return Path(root) / f"prefect-{prefect_version()}.db"


def seed_database(home: Path) -> bool:
    """Copy the template database into a home that has none; return whether it did.

    A new Prefect database is created by Prefect's migrations, ~10-20 s per data directory (more
    than everything else a command's start costs); the first server on a new database keeps a
    copy of it, migrated and empty but for Prefect's block types (`save_template`), and later homes
    start from that copy. The server still checks and applies migrations at start, as always."""
    template = template_path()
    if not template.exists():
        return False
    tmp = home / f"{DATABASE}.{os.getpid()}.tmp"
    try:
        import shutil

        shutil.copyfile(template, tmp)
        tmp.replace(home / DATABASE)
    except OSError:
        tmp.unlink(missing_ok=True)
        return False
    mark_blocks_registered(home)
    return True


def save_template(home: Path) -> None:
    """Keep a copy of a home's new database (just migrated, nothing recorded yet) as the template.

    Copied with SQLite's backup API (the server has it open); kept only if it holds nothing but the
    migration version and block types (no command has used the server yet), and written under a
    temporary name then renamed, so a reader never sees half a template."""
    import sqlite3

    target = template_path()
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with (
            contextlib.closing(sqlite3.connect(home / DATABASE, timeout=30)) as source,
            contextlib.closing(sqlite3.connect(tmp)) as copy,
        ):
            source.backup(copy)
            tables = [r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            used = [t for t in tables if t not in TEMPLATE_TABLES and _has_rows(copy, t)]
            versions = copy.execute("SELECT count(*) FROM alembic_version").fetchone()[0]
        if used or versions != 1:
            tmp.unlink(missing_ok=True)
            return
        tmp.replace(target)
    except (OSError, sqlite3.Error):
        tmp.unlink(missing_ok=True)


def _has_rows(db: Any, table: str) -> bool:
    return db.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is not None


def blocks_registered(home: Path) -> bool:
    """Whether a server of this Prefect version has registered its block types in home's database."""
    try:
        return (home / BLOCKS_MARK).read_text().strip() == prefect_version()
    except OSError:
        return False


def mark_blocks_registered(home: Path) -> None:
    """Record that home's database has this Prefect version's block types."""
    with contextlib.suppress(OSError):
        if not blocks_registered(home):
            (home / BLOCKS_MARK).write_text(prefect_version() + "\n")


def _custom_database(env: dict[str, str]) -> bool:
    # A database URL of the user's own: not the home's prefect.db, nothing to seed.
    return any(
        env.get(k) for k in ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL")
    )


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
    register(server)
    return server


def start_if_needed(home: Path | None = None) -> TemporaryServer | None:
    """Return the Prefect server this process's flow runs use, unless a Prefect API is configured
    (then None): the shared server under `home` (started if none is running), or a temporary server
    of this process when there is no `home` or NEWSDEX_PREFECT_IDLE is 0.

    Prefect's settings say whether an API is configured, but importing them takes ~0.7 s and the
    server's own start ~3 s. When no settings source Prefect reads can name an API URL
    (`may_name_api`, which reads them without Prefect), the server is started first, so that its
    start and this process's import of Prefect overlap; Prefect's answer still decides."""
    early = None if may_name_api() else _server_for(home)
    from prefect.settings import get_current_settings

    if get_current_settings().api.url is not None:
        if early is not None:  # a source may_name_api does not know: use the configured API
            _give_back(early)
        return None
    return early or _server_for(home)


def _give_back(server: TemporaryServer) -> None:
    """Let go of a server this command will not use: its lease (a shared server stops when idle)."""
    if server.lease is not None:
        _drop_lease(server.lease)
        server.lease = None
    if not server.shared:
        server.stop()


def _server_for(home: Path | None) -> TemporaryServer:
    global _SERVER
    idle = idle_seconds()
    if home is not None and idle > 0:
        # Asked for every command (a lock, a record, a lease): commands called one after another in
        # one process (from Python) may name other data directories.
        try:
            return shared_server(home, idle)
        except (OSError, subprocess.SubprocessError, ServerError):
            pass  # an unusable data directory or launcher: this command's own server instead
    if _SERVER is None or _SERVER.exited():
        _SERVER = TemporaryServer()
        atexit.register(_SERVER.stop)
    return _SERVER


def may_name_api(cwd: Path | None = None) -> bool:
    """Whether a Prefect settings source may name an API URL (PREFECT_API_URL), read without
    importing Prefect; False only when none can.

    Prefect 3 reads, highest first: the environment, `.env`, `prefect.toml` and `pyproject.toml`
    ([tool.prefect]) in the working directory, and the active profile of its profiles file. Any
    `PREFECT_API...` variable, a `prefect.toml`, a `.env` that mentions Prefect, a [tool.prefect]
    table, an active profile with a `PREFECT_API...` key, or a file that cannot be read counts as
    "may" (Prefect then decides, as it always did)."""
    import tomllib

    if any(key.upper().startswith("PREFECT_API") for key in os.environ):
        return True
    here = cwd or Path.cwd()
    try:
        if (here / "prefect.toml").exists():
            return True
        dotenv = here / ".env"
        if dotenv.exists() and "PREFECT" in dotenv.read_text(errors="replace").upper():
            return True
        pyproject = here / "pyproject.toml"
        if pyproject.exists() and "prefect" in tomllib.loads(pyproject.read_text()).get("tool", {}):
            return True
        profiles = _profiles_path()
        if profiles is None:
            return False  # Prefect's own default profiles: the active one names no API
        data = tomllib.loads(profiles.read_text())
        active = os.environ.get("PREFECT_PROFILE") or data.get("active") or ""
        profile = data.get("profiles", {}).get(active, {})
        return not isinstance(profile, dict) or any(key.upper().startswith("PREFECT_API") for key in profile)
    except (OSError, ValueError, AttributeError):  # unreadable or not TOML: Prefect decides
        return True


def _profiles_path() -> Path | None:
    """The profiles file Prefect reads (None: its bundled default), as prefect.settings.sources
    finds it once the working directory's files are ruled out."""
    if os.environ.get("PREFECT_TESTING_UNIT_TEST_MODE") or os.environ.get("PREFECT_TESTING_TEST_MODE"):
        return None
    if os.environ.get("PREFECT_PROFILES_PATH"):
        return Path(os.environ["PREFECT_PROFILES_PATH"])
    home = Path(os.environ["PREFECT_HOME"]) if os.environ.get("PREFECT_HOME") else Path.home() / ".prefect"
    path = home / "profiles.toml"
    return path if path.exists() else None  # a missing file: Prefect uses its default profile


def prefect_version() -> str:
    """The installed Prefect's version, without importing it."""
    from importlib.metadata import version

    return version("prefect")


def _prefect_package() -> Path:
    """The installed Prefect package's folder, without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("Prefect is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def idle_seconds() -> float:
    """Return NEWSDEX_PREFECT_IDLE: how long the shared server outlives its last command (0: no sharing)."""
    value = os.environ.get(IDLE_VARIABLE, "").strip()
    try:
        seconds = float(value) if value else DEFAULT_IDLE
    except ValueError:
        raise ServerError(f"{IDLE_VARIABLE} takes a number of seconds, got {value!r}") from None
    return max(0.0, seconds)


IDLE_VARIABLE = "NEWSDEX_PREFECT_IDLE"
DEFAULT_IDLE = 600.0
RECORD = "server.json"
# A command waits this long for a shared server to answer before using a temporary one of its own.
SHARED_READY_TIMEOUT = 90.0


def shared_server(home: Path, idle: float = DEFAULT_IDLE, port: int = 0) -> TemporaryServer:
    """Return the shared local server under `home`, started (detached) if none is running, with a
    lease for this process that ends at its exit (or its death: leases of dead processes don't count)."""
    home.mkdir(parents=True, exist_ok=True)
    with _locked(home):
        server = _recorded_server(home)
        if server is None:
            server = TemporaryServer(ephemeral=False, home=home, port=free_port(port), idle=idle)
            _write_record(home, _record_of(server, home))
        server.lease = _take_lease(home)
    server.shared = True
    return server


def running_shared(home: Path) -> TemporaryServer | None:
    """Return the shared server under `home` if one is running (with a lease for this process)."""
    if not (home / RECORD).exists():
        return None
    with _locked(home):
        server = _recorded_server(home)
        if server is not None:
            server.lease = _take_lease(home)
    return server


def register(server: TemporaryServer) -> None:
    """Record a server this process owns (serve's) as the shared one under its home, so commands run
    meanwhile use it instead of a second server on the same database."""
    assert server.home is not None
    with _locked(server.home):
        _write_record(server.home, _record_of(server, server.home))


def _record_of(server: TemporaryServer, home: Path) -> dict[str, object]:
    """Return what server.json says of a server: its process, port, and the home it serves."""
    return {
        "pid": server.pid,
        "port": server.port,
        "started": _start_time(server.pid),
        "home": str(home.resolve()),
    }


def _recorded_server(home: Path) -> TemporaryServer | None:
    """Return the server server.json names when that process is still our server, else None (stale).

    A record copied with its data directory (a backup restored, a directory copied to try something)
    names the original's server: that server serves the other database and stops when the other
    directory's commands are done, so it is not this home's server."""
    try:
        record = json.loads((home / RECORD).read_text())
        pid, port = int(record["pid"]), int(record["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.get("home") != str(home.resolve()):
        return None
    if not process_alive(pid) or _start_time(pid) != record.get("started") or not _is_server(pid):
        return None
    server = TemporaryServer.__new__(TemporaryServer)
    server.port, server.pid, server.process, server.home = port, pid, None, home
    server.base_url = f"http://127.0.0.1:{port}"
    server.api_url = server.base_url + "/api"
    server.log_path = home / "server.log"
    server._ready = False
    server.shared = True
    server.lease = None
    return server


def _write_record(home: Path, record: dict[str, object]) -> None:
    tmp = home / (RECORD + ".tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(home / RECORD)


def _take_lease(home: Path) -> Path:
    leases = home / "clients"
    leases.mkdir(exist_ok=True)
    lease = leases / str(os.getpid())
    lease.write_text(str(_start_time(os.getpid())))
    atexit.register(_drop_lease, lease)
    return lease


def _drop_lease(lease: Path) -> None:
    with contextlib.suppress(OSError):
        lease.unlink()


def live_leases(home: Path) -> int:
    """Return how many commands hold a lease on the shared server; drop leases of dead processes."""
    count = 0
    for lease in (home / "clients").glob("*"):
        try:
            pid, started = int(lease.name), lease.read_text().strip()
        except (OSError, ValueError):
            continue
        if process_alive(pid) and str(_start_time(pid)) == started:
            count += 1
        else:
            _drop_lease(lease)
    return count


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """Hold the home's lock file (starting, handing out and stopping the shared server)."""
    with open(home / "server.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _start_time(pid: int) -> int | None:
    """Return the process's start time (clock ticks after boot): with the pid, it names one process."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def process_alive(pid: int) -> bool:
    """Whether `pid` is a running (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _is_server(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"newsdex.flows.prefect_server" in handle.read()
    except OSError:
        return False


@contextlib.contextmanager
def using(server: TemporaryServer | None) -> Iterator[None]:
    """Point Prefect at the server (when there is one) for the duration of the block; a shared server
    that does not come up is replaced by a temporary one of this process."""
    global _SERVER
    if server is None:
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    lease = server.lease
    try:
        url = server.wait_ready(SHARED_READY_TIMEOUT if server.shared else 120.0)
    except ServerError:
        if not server.shared:
            raise
        _SERVER = server = TemporaryServer()
        atexit.register(server.stop)
        url = server.wait_ready()
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield
    finally:
        # The command is done with the shared server (a process that runs several commands, e.g.
        # tests calling the CLI from Python, must not keep every data directory's server up).
        # A drain that did not finish (a loaded machine) keeps the lease until the process exits:
        # dropped now, the idle server could stop under the events still being sent.
        if lease is not None and _drain_prefect_clients():
            _drop_lease(lease)


def _drain_prefect_clients(timeout: float = 30.0) -> bool:
    """Send the logs and events Prefect still holds for the server while it is up; return whether
    all were sent within `timeout` seconds.

    Prefect sends them at interpreter exit otherwise; a process that goes on after the command
    (tests calling the CLI from Python) would then find an idle shared server gone and wait on it
    (Prefect's own test harness drains the same way before it stops its server)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    finished = True
    for service in (APILogWorker, EventsWorker):
        try:
            _, pending = service.drain_all(timeout=timeout, at_exit=False)
        except Exception:
            finished = False
            continue
        finished = finished and not pending
    return finished


def _serve(owner: str, uvicorn_args: list[str]) -> None:
    """Run uvicorn with Prefect's app. `owner` is the parent's pid (stop when it is gone, even if it
    was killed) or `idle=SECONDS` (a shared server: stop when no command has held a lease that long)."""
    import uvicorn.main

    if owner.startswith("idle="):
        home = Path(os.environ["PREFECT_HOME"])
        target: Any = _watch_idle
        args: tuple[Any, ...] = (home, float(owner.split("=", 1)[1]))
    else:
        target, args = _watch_parent, (int(owner),)
    threading.Thread(target=target, args=args, name="owner-watch", daemon=True).start()
    uvicorn.main.main(args=uvicorn_args)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def _watch_idle(home: Path, idle: float) -> None:
    try:
        _wait_idle(home, idle)
    finally:  # idle, or its data directory was deleted under it: stop either way
        os.kill(os.getpid(), signal.SIGTERM)


def _wait_idle(home: Path, idle: float) -> None:
    last_busy = time.monotonic()
    while True:
        time.sleep(min(2.0, max(0.2, idle / 4)))
        if live_leases(home):
            last_busy = time.monotonic()
            continue
        if time.monotonic() - last_busy < idle:
            continue
        with _locked(home):
            if live_leases(home):  # a command took a lease meanwhile
                last_busy = time.monotonic()
                continue
            # Unlisted under the lock: no command is handed this server from now on.
            with contextlib.suppress(OSError, ValueError):
                if json.loads((home / RECORD).read_text()).get("pid") == os.getpid():
                    (home / RECORD).unlink()
        return


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2:])
