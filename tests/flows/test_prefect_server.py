"""The temporary Prefect server `newsdex run` starts: used only when no API is configured, never orphaned."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.settings.models.root import Settings

from newsdex.flows import prefect_server
from tests.conftest import ROOT, SAMPLES
from tests.procs import assert_gone

CHILD = """
import sys
from newsdex.flows import prefect_server
server = prefect_server.start_if_needed()
server.wait_ready()
print(server.process.pid, server.api_url, flush=True)
sys.stdin.read()
"""


API = "http://prefect.example:4200/api"
BUNDLED_LIKE = f"""active = "ephemeral"
[profiles.ephemeral]
PREFECT_SERVER_EPHEMERAL_ENABLED = "true"
[profiles.local]
PREFECT_API_URL = "{API}"
"""
# (files in the working directory or Prefect's home, environment, whether Prefect then has an API)
SOURCES: dict[str, tuple[dict[str, str], dict[str, str], bool]] = {
    "nothing": ({}, {}, False),
    "environment": ({}, {"PREFECT_API_URL": API}, True),
    "lower-case environment": ({}, {"prefect_api_url": API}, True),
    "active profile names it": (
        {"home/profiles.toml": f'active = "work"\n[profiles.work]\nPREFECT_API_URL = "{API}"\n'},
        {},
        True,
    ),
    "only an inactive profile names it": ({"home/profiles.toml": BUNDLED_LIKE}, {}, False),
    "PREFECT_PROFILE picks that profile": (
        {"home/profiles.toml": BUNDLED_LIKE},
        {"PREFECT_PROFILE": "local"},
        True,
    ),
    "PREFECT_PROFILES_PATH": (
        {"elsewhere.toml": f'active = "w"\n[profiles.w]\nPREFECT_API_URL = "{API}"\n'},
        {"PREFECT_PROFILES_PATH": "{cwd}/elsewhere.toml"},
        True,
    ),
    ".env names it": ({".env": f"PREFECT_API_URL={API}\n"}, {}, True),
    ".env of something else": ({".env": "DATABASE=postgres://x\n"}, {}, False),
    "prefect.toml": ({"prefect.toml": f'[api]\nurl = "{API}"\n'}, {}, True),
    "pyproject [tool.prefect]": ({"pyproject.toml": f'[tool.prefect.api]\nurl = "{API}"\n'}, {}, True),
    "pyproject of a project": (
        {"pyproject.toml": '[project]\nname = "x"\n[tool.ruff]\nline-length = 99\n'},
        {},
        False,
    ),
}


@pytest.mark.parametrize("case", list(SOURCES))
def test_the_quick_check_for_a_configured_api_never_misses_one_prefect_finds(
    case: str, tmp_path: Path, monkeypatch: Any
) -> None:
    """`run` starts the server before importing Prefect only when `may_name_api` says no settings
    source names an API; Prefect's own settings, read from the same sources, must then have none."""
    files, env, configured = SOURCES[case]
    for key in [k for k in os.environ if k.upper().startswith("PREFECT_") and k != "PREFECT_LOGGING_LEVEL"]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(cwd=tmp_path))
    monkeypatch.chdir(tmp_path)
    prefect_url = Settings().api.url
    assert (prefect_url == API) is configured  # the case sets up what it says
    assert prefect_server.may_name_api() is configured


def test_an_unreadable_profiles_file_leaves_the_decision_to_prefect(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    (tmp_path / "profiles.toml").write_text("active = [[[ not toml")
    monkeypatch.chdir(tmp_path)
    assert prefect_server.may_name_api() is True


EARLY_CHILD = """
import json, sys
from newsdex.flows import cli, prefect_server

seen = []
real = prefect_server.TemporaryServer.__init__

def init(self, *args, **kwargs):
    real(self, *args, **kwargs)
    seen.append(sorted(m for m in sys.modules if m.split(".")[0] == "prefect"))

prefect_server.TemporaryServer.__init__ = init
code = cli.main(sys.argv[1:])
print(json.dumps({"code": code, "prefect_modules_at_spawn": seen}))
"""


def test_run_on_a_new_data_directory_starts_the_server_before_importing_prefect(tmp_path: Path) -> None:
    """The server's ~3 s start overlaps the command's ~0.7 s import of Prefect (issue 17's fixed
    cost; `benchmarks.startup` measures it): the real `run` command, as a user's shell starts it."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            EARLY_CHILD,
            "--data-dir",
            str(tmp_path / "data"),
            "run",
            "--quiet",
            str(SAMPLES),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        out = json.loads(done.stdout.strip().splitlines()[-1])
        assert out["code"] == 0, done.stderr
        assert out["prefect_modules_at_spawn"] == [[]]  # one server, started with no Prefect module loaded
        assert (tmp_path / "data" / "prefect" / "prefect.db").exists()
    finally:
        record = tmp_path / "data" / "prefect" / "server.json"
        if record.exists():
            pid = json.loads(record.read_text())["pid"]
            os.kill(pid, signal.SIGTERM)
            assert_gone([pid], within=60)


def test_a_configured_api_is_used_as_it_is() -> None:
    # Set in Prefect's context, where may_name_api cannot see it: the server started early is
    # stopped again and the configured API used.
    with temporary_settings(updates={PREFECT_API_URL: "http://prefect.example:4200/api"}):
        assert prefect_server.start_if_needed() is None
    started = prefect_server._SERVER
    assert started is None or started.exited()


def test_a_shared_server_started_before_prefect_said_api_is_let_go(tmp_path: Path) -> None:
    home = tmp_path / "prefect"
    with temporary_settings(updates={PREFECT_API_URL: "http://prefect.example:4200/api"}):
        assert prefect_server.start_if_needed(home) is None
    try:
        assert prefect_server.live_leases(home) == 0  # it stops once idle (NEWSDEX_PREFECT_IDLE)
    finally:
        if (home / "server.json").exists():
            pid = json.loads((home / "server.json").read_text())["pid"]
            os.kill(pid, signal.SIGTERM)
            assert_gone([pid], within=60)


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
