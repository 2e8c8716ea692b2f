"""The embedded index: full-text rows follow their documents through replacements and upgrades."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from newsdex.connectors.embedded import FTS_BY_ROWID, SCHEMA_VERSION, SORT_DATE, EmbeddedIndex
from newsdex.connectors.state import StateError
from newsdex.transforms.passages import passage_keys, split_passages
from newsdex.transforms.record import CONTRACT_FIELDS
from tests.cli import newsdex, one_line_error
from tests.conftest import SAMPLES
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
        for index_name in ("documents_facets", "entities_facets"):  # schema 5's
            conn.execute(f"DROP INDEX {index_name}")
        conn.execute("DROP TABLE mentions")
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


def test_documents_from_before_sort_date_get_one_on_open(tmp_path: Path) -> None:
    first, second = racing_runs()
    for doc in first + second:
        doc.ingested_at = "2024-03-01T10:00:00Z"
    second[0].published_at = None  # an article the pipeline could not date
    index = EmbeddedIndex(tmp_path)
    index.write(first + second)
    index.close()
    with sqlite3.connect(tmp_path / "index.sqlite") as conn:  # as version 2 wrote it: no sort_date
        conn.execute("UPDATE documents SET doc = json_remove(doc, '$.sort_date')")
        conn.execute("PRAGMA user_version = 2")
    index = EmbeddedIndex(tmp_path)
    try:
        docs = {d["id"]: d for d in index.export()}
        assert index.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        index.close()
    for doc in docs.values():
        assert tuple(doc) == CONTRACT_FIELDS
        assert doc["sort_date"] == (doc["published_at"] or "2024-03-01T10:00:00Z")
    assert docs[second[0].id]["sort_date"] == "2024-03-01T10:00:00Z"


def test_an_undated_document_keeps_the_first_time_it_was_seen(tmp_path: Path) -> None:
    first, _ = racing_runs()
    doc = first[0]
    doc.published_at, doc.sort_date = None, "2023-05-01T08:00:00Z"
    index = EmbeddedIndex(tmp_path)
    try:
        index.write([doc])
        doc.sort_date = "2025-01-01T00:00:00Z"  # seen again later (a re-run, a new crawl)
        index.write([doc])
        assert json.loads(index.conn.execute("SELECT doc FROM documents").fetchone()[0])["sort_date"] == (
            "2023-05-01T08:00:00Z"
        )
        doc.published_at = doc.sort_date = "2022-01-13T18:00:00Z"  # now dated: the date wins
        index.write([doc])
        assert next(index.export())["sort_date"] == "2022-01-13T18:00:00Z"
    finally:
        index.close()


def test_mentioned_dates_filter_and_facet_also_on_an_index_from_before_them(tmp_path: Path) -> None:
    first, second = racing_runs()
    docs = first + second
    docs[0].mentioned_dates = ["1962-10-16", "1962-10-28", "2022-01-10"]
    docs[1].mentioned_dates = ["1962-09-02"]
    index = EmbeddedIndex(tmp_path)
    index.write(docs)
    index.close()
    with sqlite3.connect(tmp_path / "index.sqlite") as conn:  # as version 4 wrote it: no mentions table
        conn.execute("DROP TABLE mentions")
        conn.execute(f"PRAGMA user_version = {SORT_DATE}")
    index = EmbeddedIndex(tmp_path)
    try:
        every = index.search("", {}, include_duplicates=True)
        assert every["facets"]["mentioned"] == [["2022-01", 1], ["1962-10", 1], ["1962-09", 1]]
        october = index.search(
            "", {"mentioned_from": "1962-10", "mentioned_to": "1962-10"}, include_duplicates=True
        )
        assert [h["id"] for h in october["hits"]] == [docs[0].id]
        sixties = index.search(
            "", {"mentioned_from": "1962", "mentioned_to": "1969"}, include_duplicates=True
        )
        assert sorted(h["id"] for h in sixties["hits"]) == sorted([docs[0].id, docs[1].id])
        assert index.search("", {"mentioned_from": "1963"}, include_duplicates=True)["total"] == 1
    finally:
        index.close()


def test_pages_of_hits_rank_on_from_the_offset_with_scores_relative_to_the_best_hit(tmp_path: Path) -> None:
    first, second = racing_runs()
    index = EmbeddedIndex(tmp_path)
    index.write(first + second)
    try:
        whole = index.search("negotiations", {}, limit=10, include_duplicates=True)
        assert whole["total"] >= 3
        page = index.search("negotiations", {}, limit=1, offset=1, include_duplicates=True)
        assert page["hits"] == whole["hits"][1:2]
        assert page["total"] == whole["total"]
    finally:
        index.close()


COASTAL_ROAD = (
    "The county said the old coastal road would stay closed for repairs until the end of the "
    "year, after the storm washed part of it away."
)


def _as_written_by(data_dir: Path, version: int, *statements: str) -> None:
    """Make the index file look as an earlier schema `version` wrote it (the statements undo what came later)."""
    conn = sqlite3.connect(data_dir / "index.sqlite")
    for sql in statements:
        conn.execute(sql)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def test_an_index_from_before_shared_passages_gets_passage_keys_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdex.connectors import embedded
    from newsdex.connectors.embedded import PASSAGES
    from newsdex.flows.stages import passages_batch
    from newsdex.transforms.record import Document

    monkeypatch.setattr(embedded, "MIGRATION_CHUNK", 1)  # postings written in more than one chunk
    quote = COASTAL_ROAD
    old = Document(input={"path": "x"}, id="old", source_domain="one.example", body=f"Intro.\n\n{quote}")
    other = Document(
        input={"path": "z"},
        id="other",
        source_domain="three.example",
        body="Residents of the valley have waited for a crossing since the old ferry stopped running in 1998.",
    )
    index = EmbeddedIndex(tmp_path)
    index.write([old, other])
    index.close()
    # As schema 6 left it: no passage keys in the documents, empty passage tables.
    _as_written_by(
        tmp_path,
        PASSAGES - 1,
        "UPDATE documents SET doc = json_remove(doc, '$.passage_keys')",
        "DELETE FROM passage_keys",
        "DELETE FROM passage_df",
    )
    index = EmbeddedIndex(tmp_path)
    try:
        for doc_id in ("old", "other"):
            keys = index.get([doc_id])[doc_id]["passage_keys"]
            assert keys and index.passage_df(keys) == dict.fromkeys(keys, 1)
            rows = index.conn.execute("SELECT DISTINCT key FROM passage_keys WHERE id = ?", (doc_id,))
            assert sorted(k for (k,) in rows) == sorted(keys)
        new = Document(input={"path": "y"}, id="new", source_domain="two.example", body=quote.upper())
        docs, links, _ = passages_batch([new], index.passage_df, index.passage_candidates)
        index.write(docs)
        index.add_passage_links(links)
        got = index.get(["old", "new"])
        assert got["old"]["shared_passages"] == [{"text": quote, "documents": ["new"]}]
        assert got["new"]["passage_links"] == 1
    finally:
        index.close()


def test_an_index_with_shared_passages_in_the_documents_json_moves_them_to_their_table_on_open(
    tmp_path: Path,
) -> None:
    from newsdex.connectors.embedded import PASSAGE_LINES
    from newsdex.flows.stages import passages_batch
    from newsdex.transforms.record import Document

    quote = COASTAL_ROAD
    old = Document(input={"path": "x"}, id="old", source_domain="one.example", body=f"Intro.\n\n{quote}")
    new = Document(input={"path": "y"}, id="new", source_domain="two.example", body=quote.upper())
    index = EmbeddedIndex(tmp_path)
    for doc in (old, new):
        docs, links, _ = passages_batch([doc], index.passage_df, index.passage_candidates)
        index.write(docs)
        index.add_passage_links(links)
    linked = index.get(["old", "new"])
    index.close()
    # As schema 8 left it: the links in each document's JSON; postings in a table of rows, with an index
    # on the key and one on the id.
    _as_written_by(
        tmp_path,
        PASSAGE_LINES,
        *(
            f"UPDATE documents SET doc = json_set(doc, '$.shared_passages', json('{json.dumps(d['shared_passages'])}'), "
            f"'$.passage_links', {d['passage_links']}) WHERE id = '{i}'"
            for i, d in linked.items()
        ),
        "DELETE FROM passage_texts",
        "CREATE TABLE old_keys (key TEXT NOT NULL, id TEXT NOT NULL, line INTEGER)",
        "INSERT INTO old_keys SELECT * FROM passage_keys",
        "DROP TABLE passage_keys",
        "ALTER TABLE old_keys RENAME TO passage_keys",
        "CREATE INDEX passage_keys_key ON passage_keys(key)",
        "CREATE INDEX passage_keys_id ON passage_keys(id)",
    )
    index = EmbeddedIndex(tmp_path)
    try:
        assert index.get(["old", "new"]) == linked
        assert linked["old"]["shared_passages"] == [{"text": quote, "documents": ["new"]}]
        # Out of the JSON: a link added later rewrites the links' row only, and readers see it.
        assert (
            index.conn.execute(
                "SELECT COUNT(*) FROM documents WHERE json_array_length(doc, '$.shared_passages') > 0"
            ).fetchone()[0]
            == 0
        )
        third = Document(input={"path": "z"}, id="third", source_domain="three.example", body=quote.lower())
        docs, links, _ = passages_batch([third], index.passage_df, index.passage_candidates)
        index.write(docs)
        assert index.add_passage_links(links) == 2
        assert index.get(["old"])["old"]["shared_passages"] == [
            {"text": quote, "documents": ["new", "third"]}
        ]
        assert index.get(["old"])["old"]["passage_links"] == 2
        assert index.search("", {})["facets"]["shared_passages"] == [["2", 3]]
        tables = dict(
            index.conn.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index')")
        )
        assert "WITHOUT ROWID" in tables["passage_keys"] and "passage_keys_key" not in tables
        assert "passage_keys_id" not in tables  # postings are taken out by the keys the JSON lists
    finally:
        index.close()


def test_passage_candidates_come_with_the_lines_their_keys_stand_on_and_older_rows_read_whole(
    tmp_path: Path,
) -> None:
    from newsdex.connectors.embedded import PASSAGES
    from newsdex.flows.stages import passages_batch
    from newsdex.transforms.record import Document

    quote = COASTAL_ROAD
    other = "Residents of the valley have waited for a crossing since the old ferry stopped running in 1998."
    body = f"Intro.\n\n{other}\n\n{quote}"
    old = Document(input={"path": "x"}, id="old", source_domain="one.example", body=body)
    index = EmbeddedIndex(tmp_path)
    docs, _, _ = passages_batch([old], index.passage_df, index.passage_candidates)
    index.write(docs)

    def link(index: EmbeddedIndex, new_id: str) -> tuple[list[int] | None, dict]:
        new = Document(input={"path": new_id}, id=new_id, source_domain="two.example", body=quote.upper())
        found = index.passage_candidates([(new_id, passage_keys(split_passages(new.body)))])[new_id]
        batch, links, _ = passages_batch([new], index.passage_df, index.passage_candidates)
        return found[0]["lines"], {"new": batch[0].shared_passages, "old": links}

    try:
        # The quote is line 4 of the body: the candidate is read there only, and links as before.
        lines, got = link(index, "new")
        assert lines == [4]
        assert got == {
            "new": [{"text": quote.upper(), "documents": ["old"]}],
            "old": {"old": [(quote, "new")]},
        }
    finally:
        index.close()
    # As schema 7 left it: postings without lines. The upgrade adds the column; those rows read whole.
    _as_written_by(
        tmp_path,
        PASSAGES,
        "CREATE TABLE old_keys AS SELECT key, id FROM passage_keys",
        "DROP TABLE passage_keys",
        "ALTER TABLE old_keys RENAME TO passage_keys",
    )
    index = EmbeddedIndex(tmp_path)
    try:
        assert index.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        lines, got_after = link(index, "newer")
        assert lines is None
        assert got_after["new"] == [{"text": quote.upper(), "documents": ["old"]}]
        assert got_after["old"] == {"old": [(quote, "newer")]}
    finally:
        index.close()


def test_story_merges_move_every_member_along_a_chain_through_indexes(tmp_path: Path) -> None:
    from newsdex.transforms.record import Document

    docs = [
        Document(
            input={"path": "x"}, id=f"d{i}", title=f"Flood {i}", body=f"River flood in town {i}.", url=f"u{i}"
        )
        for i in range(4)
    ]
    for doc, story in zip(docs, ["s-a", "s-b", "s-c", "s-c"], strict=True):
        doc.story_id, doc.story_terms = story, ["flood", f"town{doc.id}"]
    index = EmbeddedIndex(tmp_path)
    try:
        index.write(docs)
        index.merge_stories({"s-c": "s-b"}, "2024-05-07T00:00:00Z")
        index.merge_stories({"s-b": "s-a"}, "2024-05-08T00:00:00Z")
        # Every member, and the earlier merge's record, now point at the story that was kept.
        assert {d["story_id"] for d in index.get([d.id for d in docs]).values()} == {"s-a"}
        assert index.story_merges(["s-b", "s-c"]) == {"s-b": "s-a", "s-c": "s-a"}
        assert [d["id"] for d in index.story_documents("s-a")] == ["d0", "d1", "d2", "d3"]
        rows = dict(index.conn.execute("SELECT id, story_id FROM story_docs"))
        assert rows == {f"d{i}": "s-a" for i in range(4)}
        # The rows a merge moves are found through an index, not a scan of every canonical's row
        # (a cost that grew with the index; the throughput benchmark's scale curve).
        for sql in (
            "UPDATE story_docs SET story_id = 'x' WHERE story_id = 'y'",
            "UPDATE story_merges SET merged_into = 'x' WHERE merged_into = 'y'",
        ):
            plan = " ".join(str(row[-1]) for row in index.conn.execute("EXPLAIN QUERY PLAN " + sql))
            assert "USING INDEX" in plan and "SCAN" not in plan, plan
    finally:
        index.close()


def test_a_canonicals_copies_are_counted_whether_its_copy_comes_before_it_in_a_batch_or_in_a_later_one(
    tmp_path: Path,
) -> None:
    from newsdex.transforms.record import Document

    def doc(doc_id: str, source: str, of: str | None = None) -> Document:
        return Document(
            input={"path": doc_id}, id=doc_id, source_domain=source, body=COASTAL_ROAD, duplicate_of=of
        )

    index = EmbeddedIndex(tmp_path)
    try:
        index.write(
            [doc("copy1", "b.example", of="orig"), doc("orig", "a.example"), doc("alone", "c.example")]
        )
        got = index.get(["orig", "alone"])
        assert got["orig"]["copies"] == {"count": 1, "sources": ["b.example"], "ids": ["copy1"]}
        assert got["alone"]["copies"] == {"count": 0, "sources": [], "ids": []}
        index.write([doc("copy2", "d.example", of="orig")])
        assert index.get(["orig"])["orig"]["copies"]["ids"] == ["copy1", "copy2"]
        # Written again (a re-run): the copies learned before are kept.
        index.write([doc("orig", "a.example")])
        assert index.get(["orig"])["orig"]["copies"]["count"] == 2
    finally:
        index.close()


def test_passage_postings_and_counts_follow_a_document_replaced_made_a_copy_and_replaced_again(
    tmp_path: Path,
) -> None:
    from newsdex.flows.stages import passages_batch
    from newsdex.transforms.record import Document

    other = "Residents of the valley have waited for a crossing since the old ferry stopped running in 1998."
    index = EmbeddedIndex(tmp_path)

    def write(doc_id: str, body: str) -> list[str]:
        doc = Document(input={"path": doc_id}, id=doc_id, source_domain=f"{doc_id}.example", body=body)
        docs, _, _ = passages_batch([doc], index.passage_df, index.passage_candidates)
        index.write(docs)
        return docs[0].passage_keys

    def postings() -> dict[str, list[str]]:
        rows = index.conn.execute("SELECT id, key FROM passage_keys ORDER BY id, key").fetchall()
        return {i: [k for j, k in rows if j == i] for i in dict.fromkeys(i for i, _ in rows)}

    try:
        first = write("a", COASTAL_ROAD)
        write("b", COASTAL_ROAD)
        assert index.passage_df(first) == dict.fromkeys(first, 2)
        # Replaced with another body: its old keys are taken out, its new ones counted.
        second = write("a", other)
        assert not set(first) & set(second)
        assert postings() == {"a": sorted(set(second)), "b": sorted(set(first))}
        assert index.passage_df(first) == dict.fromkeys(first, 1)
        assert index.passage_df(second) == dict.fromkeys(second, 1)
        # Made a copy: out of the passage index, counted out once, even when written again after.
        index.merge_canonicals({"a": ("b", "near")})
        assert index.get(["a"])["a"]["passage_keys"] == []
        assert postings() == {"b": sorted(set(first))} and index.passage_df(second) == {}
        write("a", other)
        assert index.passage_df(second) == dict.fromkeys(second, 1)
        assert index.passage_df(first) == dict.fromkeys(first, 1)
    finally:
        index.close()


def test_a_batch_that_names_one_document_twice_keeps_only_the_last_ones_passage_postings(
    tmp_path: Path,
) -> None:
    from newsdex.flows.stages import passages_batch
    from newsdex.transforms.record import Document

    other = "Residents of the valley have waited for a crossing since the old ferry stopped running in 1998."

    def doc(doc_id: str, body: str) -> Document:
        return Document(input={"path": doc_id}, id=doc_id, source_domain=f"{doc_id}.example", body=body)

    index = EmbeddedIndex(tmp_path)
    try:
        # A batch's postings are written together after its documents: an earlier instance of an id
        # is not in the table yet when a later one replaces it, and must not be written after it.
        made = [("a", COASTAL_ROAD), ("b", COASTAL_ROAD), ("a", other), ("c", other), ("c", other)]
        docs = [passages_batch([doc(*m)], index.passage_df, index.passage_candidates)[0][0] for m in made]
        copy = doc("b", COASTAL_ROAD)  # "b" again, now a copy of "a": no postings of its own
        copy.duplicate_of = "a"
        index.write([*docs, copy])
        first, second = docs[0].passage_keys, docs[2].passage_keys
        assert first and second and not set(first) & set(second)
        rows = index.conn.execute("SELECT id, key FROM passage_keys ORDER BY id, key").fetchall()
        assert rows == sorted((i, k) for i in "ac" for k in set(second))
        assert index.passage_df(first) == {}
        assert index.passage_df(second) == dict.fromkeys(second, 2)
    finally:
        index.close()


def _contents(path: Path) -> tuple[int, list[str]]:
    """The database's schema version and every statement that would rebuild it."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0], list(conn.iterdump())
    finally:
        conn.close()


def test_an_index_from_a_newer_newsdex_is_refused_by_every_command_and_left_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first, second = racing_runs()
    index = EmbeddedIndex(data)
    index.write(first + second)
    index.close()
    path = data / "index.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = _contents(path)
    with pytest.raises(StateError, match="newer newsdex"):
        EmbeddedIndex(data)
    env = {"NEWSDEX_DATA_DIR": str(data)}
    for args in (
        ["search", "Ryabkov"],
        ["stats"],
        ["stories"],
        ["related", first[0].id],
        ["run", str(SAMPLES)],
    ):
        line = one_line_error(
            newsdex(*args, cwd=tmp_path, env=env), 1, "newer newsdex", str(SCHEMA_VERSION + 1)
        )
        assert str(path) in line, line
    assert _contents(path) == before, "the newer index is not touched"
    assert not (data / "prefect").exists(), "the run stops before Prefect starts"
