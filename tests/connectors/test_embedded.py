"""The embedded index: full-text rows follow their documents through replacements and upgrades."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from newsdex.connectors.embedded import FTS_BY_ROWID, SCHEMA_VERSION, EmbeddedIndex
from tests.races import racing_runs


def _check_fts_rows(path: Path) -> None:
    """Assert each of the three documents has one full-text row, under its own rowid."""
    with sqlite3.connect(path) as conn:
        rows = list(
            conn.execute("SELECT f.id, d.id FROM docs_fts f LEFT JOIN documents d ON d.rowid = f.rowid")
        )
    assert len(rows) == 3 and all(fts_id == doc_id for fts_id, doc_id in rows)


def test_replacing_a_document_replaces_its_full_text_row(tmp_path: Path) -> None:
    first, second = racing_runs()
    index = EmbeddedIndex(tmp_path)
    try:
        index.write(first + second)
        index.write(second)  # a rerun: same ids, replaced
        assert index.search("Ryabkov", {}, include_duplicates=True)["total"] == 3
    finally:
        index.close()
    _check_fts_rows(tmp_path / "index.sqlite")


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
        assert index.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        index.close()
    _check_fts_rows(tmp_path / "index.sqlite")


def test_an_index_of_schema_2_gets_stemmed_words_and_case_insensitive_facet_filters(tmp_path: Path) -> None:
    first, second = racing_runs()
    first[0].entities["person"] = ["Sergei Ryabkov", "Дмитрий Песков"]
    first[0].source_domain = "First.Example"
    index = EmbeddedIndex(tmp_path)
    index.write(first + second)
    index.close()
    with sqlite3.connect(tmp_path / "index.sqlite") as conn:  # as schema 2 wrote it
        conn.execute("DROP INDEX entities_key")
        conn.execute("ALTER TABLE entities DROP COLUMN key")
        conn.execute("ALTER TABLE documents DROP COLUMN source_key")
        conn.execute("DROP TABLE docs_fts")
        conn.execute(
            "CREATE VIRTUAL TABLE docs_fts USING fts5(id UNINDEXED, title, description, body, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
        conn.execute(
            "INSERT INTO docs_fts (rowid, id, title, description, body) SELECT rowid, id, '', '', "
            "json_extract(doc, '$.body') FROM documents"
        )
        conn.execute(f"PRAGMA user_version = {FTS_BY_ROWID}")
        assert (
            conn.execute("SELECT COUNT(*) FROM docs_fts WHERE docs_fts MATCH 'negotiation'").fetchone()[0]
            == 0
        )
    index = EmbeddedIndex(tmp_path)
    try:
        assert index.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        # "negotiations" in the text, "negotiation" asked: the Porter stem matches.
        assert index.search("negotiation", {}, include_duplicates=True)["total"] == 3
        assert index.search("", {"person": "дмитрий песков"})["total"] == 1
        assert index.search("", {"person": "SERGEI RYABKOV", "source": "first.example"})["total"] == 1
        assert index.search("", {"source": "FIRST.EXAMPLE"})["facets"]["source"] == [["First.Example", 1]]
    finally:
        index.close()
    _check_fts_rows(tmp_path / "index.sqlite")
