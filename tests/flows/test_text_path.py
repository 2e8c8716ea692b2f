"""The text path end to end through the `newsdex` command (issue 14): ids of URL-less records come
from their raw content, dropped lines are counted by reason, and a feed declared clean keeps every line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli import newsdex

pytestmark = pytest.mark.slow

TABLE = (
    "SOCCER - ITALIAN LEAGUE STANDINGS\n"
    "ROME 1996-12-08\n"
    "Standings after Sunday's games:\n"
    "Lazio 12 7 3 2 20 9 24\n"
    "Roma 12 6 4 2 18 11 22\n"
    "Parma 12 5 4 3 15 12 19"
)
OTHER_TABLE = TABLE.replace("1996-12-08", "1996-12-15").replace(
    "Lazio 12 7 3 2 20 9 24", "Lazio 13 8 3 2 22 9 27"
)


def _run(tmp: Path, name: str, *args: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    report, out = tmp / f"{name}.report.json", tmp / f"{name}.jsonl"
    result = newsdex(
        "--data-dir", str(tmp / "data"), "run", "--quiet", "--report", str(report), "--output-jsonl", str(out),
        *args, cwd=tmp,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return json.loads(report.read_text()), docs


def _jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_records_that_clean_alike_keep_their_own_ids(tmp_path: Path) -> None:
    feed = _jsonl(
        tmp_path / "feed.jsonl",
        [
            {"text": TABLE + "\n- Advertisement -"},
            {"text": TABLE + "\nSubscribe to our newsletter"},  # a different input, the same cleaned text
            {"text": OTHER_TABLE},
            {"text": TABLE},  # the same cleaned text again, no furniture at all
        ],
    )
    report, docs = _run(tmp_path, "first", str(feed))
    assert report["outcomes"]["indexed_new"] == 4 and report["reconciles"]
    ids = [d["id"] for d in sorted(docs, key=lambda d: d["input"]["line"])]
    assert len(set(ids)) == 4
    # The copies are marked, not merged into one id; the other table is a document of its own.
    by_line = {d["input"]["line"]: d for d in docs}
    assert by_line[3]["duplicate_of"] is None
    assert "Lazio 13 8 3 2 22 9 27" in by_line[3]["body"]
    assert sum(1 for d in docs if d["duplicate_of"]) == 2
    assert report["dropped_lines_by_reason"] == {"marker": 1, "consent_or_signup": 1} or report[
        "dropped_lines_by_reason"
    ] == {"marker": 2}
    # Stable across re-runs: the same records get the same ids.
    again, _ = _run(tmp_path, "again", str(feed), "--force")
    assert again["outcomes"]["indexed_replaced"] == 4
    assert sorted(ids) == sorted(d["id"] for d in _run(tmp_path, "third", str(feed), "--force")[1])


def test_a_feed_declared_clean_keeps_every_line(tmp_path: Path) -> None:
    text = TABLE + "\nSubscribe to our newsletter\nRead more: Roma sack their coach"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "story.txt").write_text(text, encoding="utf-8")
    _jsonl(tmp_path / "in" / "feed.jsonl", [{"text": text + "\nVerona 2 Bologna 0", "clean": True}])

    cleaned, docs = _run(tmp_path, "cleaned", str(tmp_path / "in" / "story.txt"))
    assert "Subscribe" not in docs[0]["body"] and "Lazio 12 7 3 2 20 9 24" in docs[0]["body"]
    assert sum(cleaned["dropped_lines_by_reason"].values()) == 2
    assert cleaned["documents_kept_whole"] == 0

    kept, docs = _run(tmp_path, "kept", str(tmp_path / "in"), "--keep-all-text", "--force")
    assert kept["documents_kept_whole"] == 2 and kept["dropped_lines_by_reason"] == {}
    for doc in docs:
        assert doc["title"] == "SOCCER - ITALIAN LEAGUE STANDINGS"
        lines = doc["body"].split("\n\n")
        assert lines[:2] == ["ROME 1996-12-08", "Standings after Sunday's games:"]
        assert "Subscribe to our newsletter" in lines and "Read more: Roma sack their coach" in lines

    # The JSONL field alone declares that record clean; the .txt next to it is cleaned as usual.
    (tmp_path / "data2").mkdir()
    result = newsdex(
        "--data-dir", str(tmp_path / "data2"), "run", "--quiet", "--output-jsonl", str(tmp_path / "mixed.jsonl"),
        "--report", str(tmp_path / "mixed.json"), str(tmp_path / "in"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    mixed = {Path(d["input"]["path"]).suffix: d for d in map(json.loads, (tmp_path / "mixed.jsonl").open())}
    assert "Verona 2 Bologna 0" in mixed[".jsonl"]["body"] and "Subscribe" in mixed[".jsonl"]["body"]
    assert "Subscribe" not in mixed[".txt"]["body"]
    assert json.loads((tmp_path / "mixed.json").read_text())["documents_kept_whole"] == 1
