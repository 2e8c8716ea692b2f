"""Entity facets end to end: `newsdex run` on JSONL news records in a subprocess, as a user runs it.

The records are made up for this test (wire-report style); none comes from an evaluation set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

RECORDS = [
    {
        "id": "match",
        "text": "Midfielder Paolo Rossetti scored twice as Verona beat Genoa 2-0 on Sunday.\n\n"
        "Serb Goran Petrovic and Dane Niels Holm also played for Verona, whose coach Marco Bellini "
        "said the win was deserved in front of a crowd of 30,000 in the northern Italian city.",
    },
    {
        "id": "mining",
        "text": "Harlow Resources Ltd said on Monday it had lost 12 million Canadian dollars in the fourth "
        "quarter as the price of copper fell.\n\nChief executive Anna Kowalczyk said Harlow would sell "
        "its stake in a Chilean mine to pay down debt before the end of the year.",
    },
    # Too short for langdetect on its own: the batch's language decides which model runs.
    {"id": "brief", "text": "Oscar Luigi Scalfaro met Boris Yeltsin in Moscow."},
]


def test_run_indexes_clean_names_and_analyses_short_articles(tmp_path: Path) -> None:
    inbox = tmp_path / "news.jsonl"
    inbox.write_text("".join(json.dumps({**r, "clean": True}) + "\n" for r in RECORDS), encoding="utf-8")
    out, report = tmp_path / "docs.jsonl", tmp_path / "report.json"
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "CRITICAL"}
    cmd = [sys.executable, "-m", "newsdex", "--data-dir", str(tmp_path / "data"), "run", str(inbox)]
    cmd += ["--output-jsonl", str(out), "--report", str(report), "--quiet"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    docs = {d["input"]["record_id"]: d for d in map(json.loads, out.read_text().splitlines())}
    match, mining, brief = docs["match"]["entities"], docs["mining"]["entities"], docs["brief"]["entities"]
    assert {"Paolo Rossetti", "Goran Petrovic", "Niels Holm", "Marco Bellini"} <= set(match["person"])
    assert not any(name.split()[0] in ("Midfielder", "Serb", "Dane") for name in match["person"])
    assert "Verona" not in match["person"] and "Genoa" not in match["person"]
    assert {"Harlow Resources Ltd", "Harlow"} <= set(mining["org"]) and "Anna Kowalczyk" in mining["person"]
    assert docs["brief"]["language"] is None
    assert {"Oscar Luigi Scalfaro", "Boris Yeltsin"} <= set(brief["person"]) and "Moscow" in brief["location"]
    notes = json.loads(report.read_text())["notes"]
    assert notes.get("ner_language_from_batch:en") == 1 and not any(
        k.startswith("no_ner_model") for k in notes
    )
