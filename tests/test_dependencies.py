"""The installed dependencies are the tested set, and the set works where it broke before.

A fresh install once resolved SQLAlchemy 2.1, with which Prefect 3.8.8's scheduler service fails on
every loop: deployments were registered and no scheduled run was ever created. constraints.txt now
pins every dependency; these tests fail with a clear message when the environment drifts from it,
and run the scheduler's own code (create a deployment with a schedule, schedule its runs) so that a
dependency that breaks it is caught even inside the pinned range.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from tests.conftest import ROOT

# Build tooling: the venv's own copies may differ from the pins pip's isolated builds use.
NOT_RUNTIME = {"pip", "setuptools", "wheel"}
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)")


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        match = PIN.match(line.strip())
        if match and match.group(1).lower() not in NOT_RUNTIME:
            pins[match.group(1)] = match.group(2)
    return pins


def test_constraints_pin_what_prefect_needs() -> None:
    pins = {k.lower(): v for k, v in _pins().items()}
    assert pins["prefect"] == "3.8.8"
    assert pins["sqlalchemy"].startswith("2.0."), "Prefect 3.8.8's scheduler breaks on SQLAlchemy 2.1"
    assert pins["fastapi"] == "0.145.0", "newer fastapi breaks Prefect 3.8.8's server at import"


def test_installed_versions_are_the_tested_set() -> None:
    drift = []
    for name, pinned in _pins().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            continue  # an extra this environment does not install
        if installed != pinned:
            drift.append(f"{name} {installed} (tested: {pinned})")
    assert not drift, (
        "installed dependencies differ from constraints.txt, the set the tests passed with: "
        + ", ".join(drift)
        + ". Reinstall with `make install` (it installs through PIP_CONSTRAINT=constraints.txt), "
        "or re-resolve with `make lock` and run the tests before committing the new constraints."
    )


SCHEDULE_RUNS = """
import asyncio, datetime
from prefect.server import models, schemas
from prefect.server.database import provide_database_interface

async def main():
    db = provide_database_interface()
    await db.create_db()
    async with db.session_context(begin_transaction=True) as session:
        flow = await models.flows.create_flow(session=session, flow=schemas.core.Flow(name="f"))
        schedule = schemas.schedules.IntervalSchedule(interval=datetime.timedelta(seconds=60))
        deployment = await models.deployments.create_deployment(
            session=session,
            deployment=schemas.core.Deployment(
                name="d", flow_id=flow.id,
                schedules=[schemas.core.DeploymentSchedule(schedule=schedule, active=True)],
            ),
        )
        # What the scheduler service calls on every loop.
        ids = await models.deployments.schedule_runs(session=session, deployment_id=deployment.id)
    print(len(ids))

asyncio.run(main())
"""


def test_prefects_scheduler_creates_runs_with_the_installed_stack(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}",
    }
    env.pop("PREFECT_API_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", SCHEDULE_RUNS], capture_output=True, text=True, env=env, timeout=300
    )
    versions = ", ".join(f"{n} {version(n)}" for n in ("prefect", "sqlalchemy", "aiosqlite"))
    assert out.returncode == 0, (
        f"Prefect's scheduler cannot create flow runs with the installed stack ({versions}); "
        f"scheduled runs would never fire:\n{out.stderr[-2000:]}"
    )
    assert int(out.stdout.split()[-1]) > 0, f"the scheduler created no runs ({versions})"
