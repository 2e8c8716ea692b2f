"""Concurrent writers (partitions, overlapping schedules) converge on one canonical per story."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from newsdex.connectors.embedded import EmbeddedIndex
from tests.conftest import ROOT, SAMPLES
from tests.races import check_one_canonical, racing_runs, reconcile


def test_end_of_run_check_merges_rival_canonicals(tmp_path: Path) -> None:
    first, second = racing_runs()
    index = EmbeddedIndex(tmp_path / "data")
    try:
        index.write(first)
        index.write(second)
        assert reconcile(index, second) == 1
        check_one_canonical(index, first, second)
        assert reconcile(index, first) == 0  # the other run's check finds nothing left to do
        hits = index.search("Ryabkov", {})
        assert hits["total"] == 1 and hits["hits"][0]["id"] == first[0].id
    finally:
        index.close()


def test_two_partitions_running_at_once_leave_one_canonical_per_story(tmp_path: Path) -> None:
    # Every sample three times under different URLs: copies of each story land in both partitions.
    rows = [
        {"url": f"https://site{k}.example/{p.stem}", "text": p.read_text(encoding="utf-8")}
        for p in sorted(SAMPLES.glob("*.txt"))
        for k in range(3)
    ]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data_dir = tmp_path / "data"
    cmd = [sys.executable, "-m", "newsdex.flows.cli", "--data-dir", str(data_dir), "run", "--quiet"]
    # Each run its own Prefect home, as two Prefect workers on two machines would have.
    runs = [
        subprocess.Popen(
            [*cmd, "--workers", "1", "--partition", f"{k}/2", str(corpus)],
            cwd=ROOT,
            env={**os.environ, "PREFECT_HOME": str(tmp_path / f"prefect-{k}")},
        )
        for k in (0, 1)
    ]
    assert [p.wait(timeout=600) for p in runs] == [0, 0]
    out = tmp_path / "export.jsonl"
    export = [sys.executable, "-m", "newsdex.flows.cli", "--data-dir", str(data_dir), "export"]
    subprocess.run([*export, "--output-jsonl", str(out)], cwd=ROOT, check=True)
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(docs) == len(rows)  # nothing lost, nothing twice
    canonicals = [d for d in docs if not d["duplicate_of"]]
    ids = {d["id"] for d in docs}
    assert all(d["duplicate_of"] in ids for d in docs if d["duplicate_of"])
    # The five samples are five sites' versions of one story; however the two runs interleaved,
    # the index ends with the canonicals a single run would have produced.
    single = tmp_path / "single"
    subprocess.run([*cmd[:3], "--data-dir", str(single), "run", "--quiet", str(corpus)], cwd=ROOT, check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "newsdex.flows.cli",
            "--data-dir",
            str(single),
            "export",
            "--output-jsonl",
            str(out),
        ],
        cwd=ROOT,
        check=True,
    )
    expected = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(canonicals) == sum(1 for d in expected if not d["duplicate_of"])
