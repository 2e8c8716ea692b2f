"""The same flow with its per-document work on a local distributed Dask cluster (two workers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsdex.flows.cli import EXIT_OK, main
from tests.conftest import SAMPLES

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow


def test_samples_on_a_two_worker_dask_cluster_match_the_local_run(tmp_path: Path) -> None:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        code = main(
            [
                "--data-dir",
                str(tmp_path / "dask"),
                "run",
                "--quiet",
                str(SAMPLES),
                "--dask-address",
                cluster.scheduler_address,
                "--output-jsonl",
                str(tmp_path / "dask.jsonl"),
            ]
        )
    assert code == EXIT_OK
    assert (
        main(
            [
                "--data-dir",
                str(tmp_path / "local"),
                "run",
                "--quiet",
                str(SAMPLES),
                "--output-jsonl",
                str(tmp_path / "local.jsonl"),
            ]
        )
        == EXIT_OK
    )

    def load(name: str) -> dict[str, dict]:
        return {d["id"]: d for d in map(json.loads, (tmp_path / name).read_text().splitlines())}

    on_dask, local = load("dask.jsonl"), load("local.jsonl")
    assert set(on_dask) == set(local) and len(local) == 5
    for doc_id, doc in local.items():
        assert on_dask[doc_id]["body"] == doc["body"]
        assert on_dask[doc_id]["entities"] == doc["entities"]
