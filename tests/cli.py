"""The command line as a user runs it: `python -m newsdex ...` in a subprocess, in a folder of its own."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

NODE_CLASS = "tests.esnode:JsonNode"
# A real Elasticsearch to run the two-backend tests against instead of the osmem stand-in.
REAL_CLUSTER = os.environ.get("NEWSDEX_TEST_ES_URL")


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write the records as a JSONL input file and return its path."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def run_partitions(data: Path, corpus: Path, cwd: Path, *args: str, parts: int = 2) -> None:
    """Run `newsdex run --partition k/parts` over the corpus in `parts` processes at once (each with
    its own Prefect home) and check they all succeed."""
    cmd = [sys.executable, "-m", "newsdex", "--data-dir", str(data), "run", "--quiet", *args]
    runs = [
        subprocess.Popen(
            [*cmd, "--partition", f"{k}/{parts}", str(corpus)],
            cwd=cwd,
            env={**os.environ, "PREFECT_HOME": str(cwd / f"prefect-{k}")},
        )
        for k in range(parts)
    ]
    assert [p.wait(timeout=600) for p in runs] == [0] * parts


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


@contextlib.contextmanager
def both_backends(
    request: pytest.FixtureRequest, tmp: Path, runs: Sequence[Sequence[Path]]
) -> Iterator[dict[str, tuple[Path, list[str], dict[str, str]]]]:
    """Index the same inputs on both backends, one `newsdex run` per entry of `runs`.

    Yields per backend (cwd, data-dir args, env). Elasticsearch is a clone of the session's osmem
    server, or the cluster at NEWSDEX_TEST_ES_URL under a fresh index prefix (removed afterwards).
    """
    clone = None
    if REAL_CLUSTER:
        url = REAL_CLUSTER
    else:
        clone = request.getfixturevalue("osmem_server").clone()
        url = clone.url
    prefix = f"newsdex-t{uuid.uuid4().hex[:8]}"
    backends = {
        "embedded": (tmp, ["--data-dir", str(tmp / "embedded")], {}),
        "elasticsearch": (tmp, ["--data-dir", str(tmp / "es")], es_env(url, prefix, bool(REAL_CLUSTER))),
    }
    try:
        for cwd, args, env in backends.values():
            for inputs in runs:
                result = newsdex(*args, "run", "--quiet", *map(str, inputs), cwd=cwd, env=env)
                assert result.returncode == 0, result.stderr
        yield backends
    finally:
        if REAL_CLUSTER:
            from newsdex.connectors.elastic import client_from_env

            client = client_from_env(url)
            client.indices.delete(index=f"{prefix}-v*", ignore_unavailable=True)
            client.indices.delete_index_template(name=prefix, ignore=[404])
        if clone is not None:
            clone.close()


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """Assert the command failed with `code` and said why in one line naming `words`; return the line."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, (result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("newsdex"), result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]
