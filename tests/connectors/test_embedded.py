"""The embedded index: full-text rows follow their documents through replacements and upgrades."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from newsdex.connectors.embedded import FTS_BY_ROWID, EmbeddedIndex
from tests.races import racing_runs


def _fts_rows(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return sorted(
            conn.execute("SELECT f.id, d.id FROM docs_fts f LEFT JOIN documents d ON d.rowid = f.rowid")
        )


def test_replacing_a_document_replaces_its_full_text_row(tmp_path: Path) -> None:
    first, second = racing_runs()
    index = EmbeddedIndex(tmp_path)
    try:
        index.write(first + second)
        index.write(second)  # a rerun: same ids, replaced
        assert index.search("Ryabkov", {}, include_duplicates=True)["total"] == 3
    finally:
        index.close()
    rows = _fts_rows(tmp_path / "index.sqlite")
    assert len(rows) == 3 and all(fts_id == doc_id for fts_id, doc_id in rows)


def test_an_index_from_the_earlier_schema_is_upgraded_on_open(tmp_path: Path) -> None:
    first, second = racing_runs()
    index = EmbeddedIndex(tmp_path)
    index.write(first + second)
    index.close()
    with sqlite3.connect(tmp_path / "index.sqlite") as conn:  # as version 1 wrote it: rowids unrelated
        conn.execute("DELETE FROM docs_fts")
        conn.execute(
            "INSERT INTO docs_fts (rowid, id, title, description, body) SELECT 1000 - rowid, id, '', '', "
            "json_extract(doc, '$.body') FROM documents"
        )
        conn.execute("PRAGMA user_version = 0")
    index = EmbeddedIndex(tmp_path)
    try:
        index.write(second)
        assert index.search("Ryabkov", {}, include_duplicates=True)["total"] == 3
        assert index.conn.execute("PRAGMA user_version").fetchone()[0] == FTS_BY_ROWID
    finally:
        index.close()
    rows = _fts_rows(tmp_path / "index.sqlite")
    assert len(rows) == 3 and all(fts_id == doc_id for fts_id, doc_id in rows)
