"""The command line as a user runs it: `python -m newsdex ...` in a subprocess, in a folder of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

NODE_CLASS = "tests.esnode:JsonNode"


def newsdex(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run `python -m newsdex ARGS` in `cwd` with NEWSDEX_* variables from `env` only."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDEX_")}
    return subprocess.run(
        [sys.executable, "-m", "newsdex", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def es_env(url: str, prefix: str, real_cluster: bool = False) -> dict[str, str]:
    """Return the variables that point a subprocess at an Elasticsearch server under an index prefix."""
    env = {"NEWSDEX_ES_URL": url, "NEWSDEX_ES_INDEX": prefix}
    if not real_cluster:
        # osmem-server speaks plain JSON only: the test node class, importable from the repository.
        env |= {"NEWSDEX_ES_NODE_CLASS": NODE_CLASS, "PYTHONPATH": str(ROOT)}
    return env


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """Assert the command failed with `code` and said why in one line naming `words`; return the line."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, (result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("newsdex"), result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]
