"""Shared fixtures: paths to the bundled samples and evaluation data, a fresh data directory."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import pytest

# Prefect keeps its ephemeral server's database under PREFECT_HOME: keep test runs out of ~/.prefect.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="newsdex-prefect-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Every test has its own data directory, so its shared Prefect server is never reused by the next
# test: let it stop soon after its last command instead of idling for ten minutes.
os.environ.setdefault("NEWSDEX_PREFECT_IDLE", "5")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
EVAL = Path(os.environ.get("NEWSDEX_EVAL_DIR", ROOT.parent / "shared" / "eval"))


@pytest.fixture
def samples() -> dict[str, str]:
    """Return the five bundled sample articles by file stem prefix (000..004)."""
    return {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Return an empty data directory for one test."""
    return tmp_path / "data"


def finished_batches(data_dir: Path) -> int:
    """Return how many batches the run state marks finished (0 while it does not exist yet)."""
    try:
        with sqlite3.connect(data_dir / "state.sqlite", timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM batches").fetchone()[0]
    except sqlite3.Error:
        return 0
