"""The shared local Prefect server `newsdex run` uses with no API configured, end to end: real
`newsdex run` processes, a real server, real signals.

One server per data directory, reused by the next command and by two runs at once; it is no child
of the command (a signal to the run's process tree does not reach it), it stops by itself once no
command has used it for NEWSDEX_PREFECT_IDLE seconds (also after a run was SIGKILLed), and a stale
record (a dead process, a port someone else holds) gives way to a new server.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SAMPLES
from tests.procs import alive, assert_gone, descendants

pytestmark = pytest.mark.slow


def _env(idle: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["NEWSDEX_PREFECT_IDLE"] = str(idle)
    return env


def _run(data: Path, *args: str, idle: float = 60, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsdex", "--data-dir", str(data), "run", "--quiet", *args],
        cwd=ROOT,
        env=_env(idle),
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )


def _record(data: Path) -> dict[str, Any]:
    return json.loads((data / "prefect" / "server.json").read_text())


def _servers(data: Path) -> list[int]:
    """Return the pids of Prefect servers whose home is this data directory."""
    home = str(data / "prefect").encode()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            env = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if b"newsdex.flows.prefect_server" in cmd and b"PREFECT_HOME=" + home + b"\0" in env:
            out.append(int(entry))
    return out


def _flow_runs(data: Path) -> list[dict[str, Any]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{_record(data)['port']}/api/flow_runs/filter",
        data=b"{}",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _stop(data: Path) -> None:
    for pid in _servers(data):
        os.kill(pid, signal.SIGTERM)
    assert_gone(_servers(data), within=30)


def test_one_server_serves_the_next_commands_and_keeps_their_flow_runs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    try:
        first = _run(data, str(SAMPLES))
        assert first.returncode == 0, first.stderr
        server = _record(data)["pid"]
        assert alive(server), "the server outlives the run that started it"
        again = _run(data, "--force", str(SAMPLES))
        assert again.returncode == 0, again.stderr
        assert _record(data)["pid"] == server and _servers(data) == [server], "the same server, no second one"
        runs = _flow_runs(data)
        assert [r["state_type"] for r in runs] == ["COMPLETED", "COMPLETED"], runs
        assert {r["name"] for r in runs} and all(r["flow_id"] == runs[0]["flow_id"] for r in runs)
        # The parameters each run was called with are recorded (serialised as JSON, see pipeline.py).
        assert sorted(r["parameters"]["force"] for r in runs) == [False, True]
        assert all(r["parameters"]["inputs"] == [str(SAMPLES)] for r in runs)
    finally:
        _stop(data)


def test_two_runs_at_once_share_one_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    procs = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "newsdex", "--data-dir", str(data), "run", "--quiet"),
                *("--partition", part, "--report", str(tmp_path / f"report-{n}.json"), str(SAMPLES)),
            ],
            cwd=ROOT,
            env=_env(60),
            stderr=subprocess.PIPE,
            text=True,
        )
        for n, part in enumerate(["0/2", "1/2"])
    ]
    try:
        for proc in procs:
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
        reports = [json.loads((tmp_path / f"report-{n}.json").read_text()) for n in range(2)]
        assert sum(r["outcomes"]["indexed_new"] for r in reports) == 5
        assert len(_servers(data)) == 1, "both runs used one server"
        assert sorted(r["state_type"] for r in _flow_runs(data)) == ["COMPLETED", "COMPLETED"]
    finally:
        for proc in procs:
            proc.kill()
        _stop(data)


def test_server_stops_when_idle_even_after_a_killed_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(100):  # enough work that the run is still going when it is killed
        for sample in sorted(SAMPLES.glob("*.txt")):
            (inbox / f"{n:02}-{sample.name}").write_text(sample.read_text() + f"\n\nEdition {n}.")
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsdex", "--data-dir", str(data), "run", "--quiet", str(inbox)],
        cwd=ROOT,
        env=_env(3),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.monotonic()
    try:
        deadline = started + 300
        while not (data / "state.sqlite").exists() or not (data / "prefect" / "server.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the run did not start"
            time.sleep(0.2)
        server = _record(data)["pid"]
        assert server not in descendants(proc.pid), "the server is no child of the run"
        # Past the idle time (3 s) since the run and its server started: the live run's lease keeps it up.
        time.sleep(max(0.0, started + 5 - time.monotonic()))
        assert proc.poll() is None, "the run ended before it could be killed: give it more work"
        assert alive(server)
        tree = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_gone(tree, within=30)  # the workers follow their killed run
        # The dead run's lease no longer counts: the server stops after the idle time and unlists itself.
        assert_gone([server], within=60)
        assert not (data / "prefect" / "server.json").exists()
    finally:
        proc.kill()
        _stop(data)

    # The next run starts a new server and finishes what the killed one left.
    try:
        done = _run(data, str(inbox), idle=60)
        assert done.returncode == 0, done.stderr
        assert _record(data)["pid"] != server
    finally:
        _stop(data)


def test_a_stale_record_gives_way_to_a_new_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    home = data / "prefect"
    home.mkdir(parents=True)
    with socket.socket() as taken:  # the recorded port answers nothing useful
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # A record naming a live process that is not our server (this test), on a port someone holds.
        record = {"pid": os.getpid(), "port": port, "started": 0, "home": str(home.resolve())}
        (home / "server.json").write_text(json.dumps(record))
        try:
            result = _run(data, str(SAMPLES), idle=60)
            assert result.returncode == 0, result.stderr
            record = _record(data)
            assert record["pid"] != os.getpid() and record["port"] != port
            # A server that crashed (SIGKILL: no clean-up, its record stays) is stale too.
            os.kill(record["pid"], signal.SIGKILL)
            assert_gone([record["pid"]], within=30)
            result = _run(data, "--force", str(SAMPLES), idle=60)
            assert result.returncode == 0, result.stderr
            assert _record(data)["pid"] != record["pid"]
        finally:
            _stop(data)


def test_a_copied_data_directory_gets_its_own_server(tmp_path: Path) -> None:
    # The copy's server.json names the original's server, which is alive but serves the other
    # database and stops once the original's commands are done (its leases are there): a run on the
    # copy must not lean on it (it did, and lost its API half-way: "Connection refused").
    original, copy = tmp_path / "original", tmp_path / "copy"
    result = _run(original, str(SAMPLES), idle=60)
    assert result.returncode == 0, result.stderr
    first = _record(original)
    try:
        shutil.copytree(original, copy)
        assert _record(copy)["pid"] == first["pid"] and alive(first["pid"])
        result = _run(copy, "--force", str(SAMPLES), idle=60)
        assert result.returncode == 0, result.stderr
        second = _record(copy)
        assert second["pid"] != first["pid"] and second["home"] == str((copy / "prefect").resolve())
        assert _servers(copy) == [second["pid"]]
        assert _record(original)["pid"] == first["pid"]
    finally:
        _stop(original)
        _stop(copy)


def test_no_sharing_with_idle_zero(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = _run(data, str(SAMPLES), idle=0)
    assert result.returncode == 0, result.stderr
    assert not (data / "prefect").exists() and not _servers(data)


def _db(path: Path, sql: str) -> Any:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchone()[0]


def _set(path: Path, sql: str) -> None:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(sql)
        db.commit()


def test_a_new_data_directory_starts_from_the_migrated_template(tmp_path: Path, monkeypatch: Any) -> None:
    """The first server on a new database keeps it (migrated, nothing recorded) as the template of
    this Prefect version; the next data directory's database is a copy, and its runs are recorded."""
    from newsdex.flows import prefect_server

    monkeypatch.setenv("NEWSDEX_CACHE_DIR", str(tmp_path / "cache"))
    first, second = tmp_path / "first", tmp_path / "second"
    template = prefect_server.template_path()
    try:
        result = _run(first, str(SAMPLES))
        assert result.returncode == 0, result.stderr
        assert template.exists(), "made from the first new database"
        assert _db(template, "SELECT count(*) FROM flow_run") == 0
        assert _db(template, "SELECT count(*) FROM block_type") > 10  # Prefect's block types are in it
        assert _db(first / "prefect" / "prefect.db", "SELECT count(*) FROM flow_run") == 1
        _set(template, "PRAGMA user_version = 4242")  # a mark the copy carries (Prefect does not use it)

        result = _run(second, str(SAMPLES))
        assert result.returncode == 0, result.stderr
        database = second / "prefect" / "prefect.db"
        assert _db(database, "PRAGMA user_version") == 4242, "a copy of the template"
        assert _db(database, "SELECT count(*) FROM flow_run") == 1 and _flow_runs(second)
        [pid] = _servers(second)
        # Its block types came with the copy: the server skips Prefect's registration check.
        assert b"PREFECT_SERVER_REGISTER_BLOCKS_ON_START=false" in Path(f"/proc/{pid}/environ").read_bytes()
    finally:
        _stop(first)
        _stop(second)


def test_a_database_already_used_is_no_template(tmp_path: Path, monkeypatch: Any) -> None:
    import sqlite3

    from newsdex.flows import prefect_server

    monkeypatch.setenv("NEWSDEX_CACHE_DIR", str(tmp_path / "cache"))
    home = tmp_path / "home"
    home.mkdir()
    with contextlib.closing(sqlite3.connect(home / "prefect.db")) as db:
        db.executescript(
            "CREATE TABLE alembic_version (version_num TEXT); INSERT INTO alembic_version VALUES ('x');"
            "CREATE TABLE flow_run (id TEXT); INSERT INTO flow_run VALUES ('a run');"
        )
        db.commit()
        prefect_server.save_template(home)
        assert not prefect_server.template_path().exists()
        db.execute("DELETE FROM flow_run")
        db.commit()
        prefect_server.save_template(home)
        assert prefect_server.template_path().exists()
    assert prefect_server.seed_database(tmp_path) and (tmp_path / "prefect.db").exists()
    assert prefect_server.blocks_registered(tmp_path)
