"""The embedded on-disk index: SQLite with FTS5 (BM25 ranking, snippets, phrase queries) and facets.

One file, `<data dir>/index.sqlite`. Every batch is written in one transaction, so a crash leaves
either the whole batch or none of it.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Container, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from newsdex.connectors.hits import (
    DATE_FACET_SIZE,
    DATE_FACETS,
    ENTITY_KINDS,
    FACETS,
    Query,
    SearchRequest,
    facet_key,
    search_hit,
    search_request,
    search_result,
)
from newsdex.connectors.state import StateError, connect, transaction
from newsdex.transforms.dates import keep_first_seen, pick_sort_date
from newsdex.transforms.passages import MAX_CANDIDATES as PASSAGE_CANDIDATES
from newsdex.transforms.passages import add_links, key_lines, linked_documents, split_passages
from newsdex.transforms.record import Document
from newsdex.transforms.stories import MAX_CANDIDATES, STORY_DAYS, new_story_id, story_terms

# Words match as written or by their Porter stem, case and accents aside: the matching of the
# Elasticsearch template's text fields (newsdex_standard and their `.en` sub-fields, newsdex_english).
TOKENIZER = "porter unicode61 remove_diacritics 2"
FTS_TABLE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5("
    f"id UNINDEXED, title, description, body, tokenize = '{TOKENIZER}')"
)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    duplicate_of TEXT,
    published_at TEXT,
    source_domain TEXT,
    language TEXT,
    exact_key TEXT,
    source_key TEXT,
    story_id TEXT
);
CREATE INDEX IF NOT EXISTS documents_dup ON documents(duplicate_of);
CREATE INDEX IF NOT EXISTS documents_exact ON documents(exact_key);
{FTS_TABLE};
CREATE TABLE IF NOT EXISTS entities (id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, key TEXT);
CREATE INDEX IF NOT EXISTS entities_id ON entities(id);
CREATE INDEX IF NOT EXISTS entities_name ON entities(kind, name);
CREATE TABLE IF NOT EXISTS bands (band TEXT NOT NULL, id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bands_band ON bands(band);
CREATE INDEX IF NOT EXISTS bands_id ON bands(id);
CREATE TABLE IF NOT EXISTS mentions (id TEXT NOT NULL, day TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS mentions_id ON mentions(id, day);
CREATE INDEX IF NOT EXISTS mentions_day ON mentions(day, id);
CREATE TABLE IF NOT EXISTS story_terms (term TEXT NOT NULL, id TEXT NOT NULL, sort_date TEXT);
CREATE INDEX IF NOT EXISTS story_terms_term ON story_terms(term, sort_date);
CREATE INDEX IF NOT EXISTS story_terms_id ON story_terms(id);
CREATE TABLE IF NOT EXISTS story_merges (story_id TEXT PRIMARY KEY, merged_into TEXT NOT NULL, merged_at TEXT);
CREATE TABLE IF NOT EXISTS story_docs (id TEXT PRIMARY KEY, story_id TEXT, sort_date TEXT, terms TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS story_df (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS passage_keys (
    key TEXT NOT NULL, id TEXT NOT NULL, line INTEGER NOT NULL, PRIMARY KEY (key, id, line)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS passage_df (key TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS passage_links (id TEXT PRIMARY KEY, links INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS passage_texts (id TEXT PRIMARY KEY, shared TEXT NOT NULL, links INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS batch_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, looked INTEGER NOT NULL, ids TEXT NOT NULL
);
"""


def fts_phrase(text: str) -> str:
    """Return the FTS5 string matching the text as a phrase (FTS5 splits it with the table's tokenizer).

    Every word and phrase of a query goes to FTS5 quoted, so user input is never read as FTS5 syntax
    (a hyphen, a colon, a bracket, NEAR); the operators are hits.parse_query's, the same on both backends.
    """
    return '"' + text.replace('"', '""') + '"'


def fts_query(query: Query) -> str:
    """Return the FTS5 expression of the query's groups (all must match; a group's alternatives OR-ed)."""
    return " AND ".join("(" + " OR ".join(fts_phrase(t) for t in group) + ")" for group in query.groups)


# Covering indexes the facets and filters read (schema 5), made once the columns exist.
FACET_INDEXES = (
    "CREATE INDEX IF NOT EXISTS documents_facets ON documents"
    "(id, source_domain, language, published_at, duplicate_of, source_key)",
    "CREATE INDEX IF NOT EXISTS entities_facets ON entities(id, kind, name)",
)
NO_COPIES: dict[str, Any] = {"count": 0, "sources": [], "ids": []}
# Schema versions (PRAGMA user_version): 1 = full-text rows keyed by id only; 2 = by document rowid;
# 3 = words stemmed (TOKENIZER), facet keys for case-insensitive filters (entities.key, source_key);
# 4 = every document has `sort_date`; 5 = mentioned dates in a table (`mentions`), covering indexes
# for the facets; 6 = stories (`documents.story_id`, story terms, merges); 7 = shared passages (passage
# keys and their document counts, linked-document counts for the facet); 8 = the body line of each
# passage key (`passage_keys.line`: a candidate is parsed on those lines; NULL, written before, = whole);
# 9 = a document's `shared_passages` and `passage_links` in their own table (`passage_texts`), not in its
# JSON (which keeps [] and 0 in their place), and the passage postings a table keyed by (key, id, line)
# (`line` UNKNOWN_LINE where NULL before), read in key order without a second index or a row lookup.
FTS_BY_ROWID = 2
FOLDED_FACETS = 3
SORT_DATE = 4
MENTIONS = 5
STORIES = 6
PASSAGES = 7
PASSAGE_LINES = 8
PASSAGE_TEXTS = 9
SCHEMA_VERSION = PASSAGE_TEXTS
# Documents whose passage postings a migration holds in memory before writing them.
MIGRATION_CHUNK = 1000
# The line of a posting written before lines were kept: its document is read whole.
UNKNOWN_LINE = -1
# A document's JSON as the readers get it: its shared passages and their count joined from their table.
DOC_COLUMNS = "d.doc, t.shared, t.links"
DOC_JOIN = "LEFT JOIN passage_texts t ON t.id = d.id"
# A candidate's body from its full-text row (the same text), not parsed out of its JSON.
BODY_JOIN = "JOIN docs_fts f ON f.rowid = d.rowid"


def check_schema(data_dir: Path) -> None:
    """Raise StateError if the data directory's index was written by a newer newsdex: this one would
    read it wrongly (a later schema may keep fields elsewhere, as schema 9 moved shared passages out of
    the JSON) and write it in its own layout. Read-only, so nothing in the file is touched; a missing
    index is fine (opening it for the run says what else is wrong)."""
    path = data_dir / "index.sqlite"
    if not path.is_file():
        return
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return
    if version > SCHEMA_VERSION:
        raise StateError(
            f"{path} was written by a newer newsdex (index schema {version}, this version reads up to "
            f"{SCHEMA_VERSION}); upgrade newsdex, or point --data-dir / NEWSDEX_DATA_DIR elsewhere"
        )


class EmbeddedIndex:
    """Documents, full-text index, entity facets and dedup band keys in one SQLite file."""

    name = "embedded"
    # A write is local CPU work on the flow's own connection: it runs in the flow's thread, and is
    # visible to the next batch's dedup as soon as it returns (flows/writer.py).
    background_writes = False

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "index.sqlite"
        check_schema(data_dir)  # before `connect`, which would set its journal mode
        self.conn = connect(self.path)
        self.conn.executescript(SCHEMA)
        self._migrate()
        self.conn.execute("CREATE INDEX IF NOT EXISTS documents_story ON documents(story_id)")
        # A story merge moves the absorbed story's rows (merge_stories): without these indexes each
        # merge scanned every canonical's story row, a cost that grew with the index.
        self.conn.execute("CREATE INDEX IF NOT EXISTS story_docs_story ON story_docs(story_id)")
        self.conn.execute("CREATE INDEX IF NOT EXISTS story_merges_into ON story_merges(merged_into)")
        # Searches name these indexes; an index file whose version number says it has them but was
        # written without them (another branch's schema 5) gets them here instead of failing.
        if (
            self.conn.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('documents_facets', 'entities_facets')"
            ).fetchone()[0]
            < 2
        ):
            with transaction(self.conn) as conn:
                for sql in FACET_INDEXES:
                    conn.execute(sql)

    def _migrate(self) -> None:
        """Bring an index written by an earlier version up to this schema (`PRAGMA user_version`)."""
        if self.conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        with transaction(self.conn) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                return  # another process upgraded it while this one waited for the lock
            if version < FOLDED_FACETS:
                # Facet keys: filters match facet values case-insensitively (as the Elasticsearch
                # template's lowercase normalizer does), through an index instead of a scan.
                for table, column in (("documents", "source_key"), ("entities", "key")):
                    if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
                conn.create_function("newsdex_facet_key", 1, _facet_key_or_none, deterministic=True)
                conn.execute("UPDATE documents SET source_key = newsdex_facet_key(source_domain)")
                conn.execute("UPDATE entities SET key = newsdex_facet_key(name)")
                conn.execute("CREATE INDEX IF NOT EXISTS entities_key ON entities(kind, key)")
                # Full-text rows are rebuilt with the stemming tokenizer, each with its document's
                # rowid (so replacing a document deletes its row by rowid, not by a scan for its id).
                conn.execute("DROP TABLE docs_fts")
                conn.execute(FTS_TABLE)
                conn.execute(
                    "INSERT INTO docs_fts (rowid, id, title, description, body) SELECT rowid, id, "
                    "coalesce(json_extract(doc, '$.title'), ''), "
                    "coalesce(json_extract(doc, '$.description'), ''), json_extract(doc, '$.body') "
                    "FROM documents"
                )
            if version < SORT_DATE:
                # Documents indexed before the contract had `sort_date` get one: the publication date,
                # else the earliest time known that they were seen (their last indexing time).
                rows = conn.execute(
                    "SELECT rowid, doc FROM documents WHERE json_extract(doc, '$.sort_date') IS NULL"
                ).fetchall()
                for rowid, raw in rows:
                    doc = Document.from_dict(json.loads(raw))
                    doc.sort_date = pick_sort_date(doc.published_at, None, doc.ingested_at or "") or None
                    row = json.dumps(doc.to_dict(), ensure_ascii=False)
                    conn.execute("UPDATE documents SET doc=? WHERE rowid=?", (row, rowid))
            if version < MENTIONS:
                # Facets and filters read these columns from covering indexes: in the table they sit
                # past each document's JSON, which SQLite would walk through to reach them.
                for sql in FACET_INDEXES:
                    conn.execute(sql)
                # A document names an entity once (facets count rows).
                conn.execute(
                    "DELETE FROM entities WHERE rowid NOT IN (SELECT min(rowid) FROM entities GROUP BY id, kind, name)"
                )
                conn.execute("DELETE FROM mentions")
                conn.execute(
                    "INSERT INTO mentions SELECT d.id, substr(j.value, 1, 10) FROM documents d, "
                    "json_each(d.doc, '$.mentioned_dates') j WHERE j.value IS NOT NULL"
                )
            if version < STORIES:
                _add_stories(conn)
            if "line" not in {row[1] for row in conn.execute("PRAGMA table_info(passage_keys)")}:
                conn.execute("ALTER TABLE passage_keys ADD COLUMN line INTEGER")
            if version < PASSAGES:
                _add_passages(conn)
            if version < PASSAGE_TEXTS:
                _move_passage_texts(conn)
                _key_passage_postings(conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the database."""
        self.conn.close()

    # --- dedup state -------------------------------------------------------------------------
    def existing_exact(self, keys: Iterable[str]) -> dict[str, str]:
        """Return {exact key: id of the indexed canonical document with that normalised body}."""
        out: dict[str, str] = {}
        sql = "SELECT exact_key, id FROM documents WHERE duplicate_of IS NULL AND exact_key IN ({})"
        for key, doc_id in _rows_in(self.conn, sql, keys):
            out.setdefault(key, doc_id)
        return out

    def band_candidates(self, queries: list[tuple[str, list[str]]]) -> dict[str, list[tuple[str, str]]]:
        """Return {own id: [(id, body)]}: for each document (own id, band keys) the indexed canonicals
        sharing a band key with it, most shared first."""
        out: dict[str, list[tuple[str, str]]] = {}
        for own_id, keys in queries:
            if not keys:
                out[own_id] = []
                continue
            sql = (
                "SELECT c.id, f.body FROM ("
                "SELECT b.id AS id, COUNT(*) AS shared FROM bands b "
                f"WHERE b.band IN ({','.join('?' * len(keys))}) "
                "AND b.id != ? GROUP BY b.id ORDER BY shared DESC LIMIT 20"
                f") c JOIN documents d ON d.id = c.id {BODY_JOIN} "
                "WHERE d.duplicate_of IS NULL ORDER BY c.shared DESC"
            )
            out[own_id] = [(doc_id, body) for doc_id, body in self.conn.execute(sql, [*keys, own_id])]
        return out

    def get(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return the contract documents with these ids."""
        sql = f"SELECT d.id, {DOC_COLUMNS} FROM documents d {DOC_JOIN} WHERE d.id IN ({{}})"
        return {doc_id: _document(*row) for doc_id, *row in _rows_in(self.conn, sql, ids)}

    # --- concurrent runs ---------------------------------------------------------------------
    def lookup_mark(self) -> int:
        """Return the mark a batch takes before its lookups: the last logged write's number."""
        return self.conn.execute("SELECT coalesce(max(seq), 0) FROM batch_log").fetchone()[0]

    def log_batch(self, run_id: str, looked: int, ids: list[str]) -> None:
        """Log a batch written (after its documents): its run, its lookup mark, its ids. The log's
        number orders it among every run's writes (SQLite serialises them)."""
        with transaction(self.conn) as conn:
            conn.execute(
                "INSERT INTO batch_log (run_id, looked, ids) VALUES (?,?,?)",
                (run_id, looked, json.dumps(ids)),
            )

    def concurrent_ids(self, run_id: str) -> list[str]:
        """Return the ids of this run's batches that may have missed another run's batch (see
        `overlapping`)."""
        own = self.conn.execute(
            "SELECT seq, looked, ids FROM batch_log WHERE run_id = ?", (run_id,)
        ).fetchall()
        if not own:
            return []
        others = self.conn.execute(
            "SELECT seq, looked FROM batch_log WHERE run_id != ? AND seq > ?",
            (run_id, min(r[1] for r in own)),
        ).fetchall()
        return [i for seq, looked, ids in own if overlapping((looked, seq), others) for i in json.loads(ids)]

    # --- shared passages ---------------------------------------------------------------------
    def passage_df(self, keys: Iterable[str]) -> dict[str, int]:
        """Return {passage key: how many canonical documents carry it} (kept counts)."""
        sql = "SELECT key, df FROM passage_df WHERE key IN ({}) AND df > 0"
        return dict(_rows_in(self.conn, sql, keys))

    def passage_candidates(
        self, queries: list[tuple[str, list[str]]], limit: int = PASSAGE_CANDIDATES
    ) -> dict[str, list[dict[str, Any]]]:
        """Return {own id: [{id, source_domain, body, lines}]}: for each (own id, passage keys) the
        canonical documents sharing most of the keys, with the body lines those keys stand on (None:
        indexed before lines were kept)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for own_id, keys in queries:
            if not keys:
                out[own_id] = []
                continue
            sql = (
                "SELECT d.id, d.source_domain, f.body, c.lines FROM (SELECT p.id AS id, "
                "COUNT(DISTINCT p.key) AS shared, group_concat(p.line) AS lines "
                f"FROM passage_keys p WHERE p.key IN ({','.join('?' * len(keys))}) "
                "AND p.id != ? GROUP BY p.id ORDER BY shared DESC, p.id LIMIT ?) c "
                f"JOIN documents d ON d.id = c.id {BODY_JOIN} "
                "WHERE d.duplicate_of IS NULL ORDER BY c.shared DESC, d.id"
            )
            rows = self.conn.execute(sql, [*keys, own_id, limit])
            out[own_id] = [
                {"id": i, "source_domain": src, "body": body, "lines": _lines(lines)}
                for i, src, body, lines in rows
            ]
        return out

    def add_passage_links(self, links: dict[str, list[tuple[str, str]]]) -> int:
        """Add (passage text, other document id) links to indexed canonicals' `shared_passages`, read
        and written in one transaction (concurrent runs add, never overwrite); return how many
        documents changed. Only the links' own row is rewritten, never the document's JSON."""
        changed = 0
        sql = (
            f"SELECT d.id, f.body, t.shared FROM documents d {BODY_JOIN} {DOC_JOIN} "
            "WHERE d.id IN ({}) AND d.duplicate_of IS NULL"
        )
        with transaction(self.conn) as conn:
            for doc_id, body, current in sorted(_rows_in(conn, sql, links)):
                before = json.loads(current) if current else []
                shared = add_links({"body": body, "shared_passages": before}, links[doc_id])
                if shared != before:
                    _set_passage_texts(conn, doc_id, shared)
                    changed += 1
        return changed

    # --- stories -----------------------------------------------------------------------------
    def story_df(self, terms: Iterable[str]) -> tuple[int, dict[str, int]]:
        """Return (number of canonical documents, {term: how many of them have it}): kept counts, so
        the cost does not grow with the index."""
        df: dict[str, int] = dict(
            _rows_in(self.conn, "SELECT term, df FROM story_df WHERE term IN ({})", terms)
        )
        row = self.conn.execute("SELECT df FROM story_df WHERE term = ?", (DOCS_KEY,)).fetchone()
        return (row[0] if row else 0), {t: n for t, n in df.items() if n > 0}

    def story_candidates(
        self,
        queries: list[tuple[str, list[str], str | None, str | None]],
        days: float | None = STORY_DAYS,
        limit: int = MAX_CANDIDATES,
    ) -> dict[str, list[dict[str, Any]]]:
        """Return {own id: [{id, story_id, story_terms, sort_date, published_at}]}: for each (own id,
        rare terms, sort date, publication date) the canonicals sharing most of the terms that can
        have been published within `days` of it (transforms/stories.py `time_gap`; any when None)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for own_id, terms, when, published in queries:
            if not terms:
                out[own_id] = []
                continue
            # Postings are read by (term, date): for a dated document only the documents since a
            # week before it are touched (an undated one was seen then or later), so the cost
            # follows how many documents a fortnight brings, not the size of the index. An undated
            # document can have been published any time before it was seen: its rare terms'
            # postings are read whole (rare terms: short lists).
            since, until, params = "", "", list(terms)
            earliest = date_window(published, days) if days is not None else None
            if earliest:
                since = "AND s.sort_date >= ? "
                params.append(earliest[0])
            latest = date_window(published or when, days) if days is not None else None
            if latest:
                until = "WHERE (p.published_at IS NULL OR p.published_at <= ?) "
            sql = (
                "SELECT d.id, d.story_id, d.sort_date, d.terms, p.published_at FROM (SELECT s.id AS id, "
                f"COUNT(*) AS shared FROM story_terms s WHERE s.term IN ({','.join('?' * len(terms))}) "
                f"{since}AND s.id != ? GROUP BY s.id) c JOIN story_docs d ON d.id = c.id "
                f"JOIN documents p ON p.id = c.id {until}ORDER BY c.shared DESC, d.id LIMIT ?"
            )
            params.append(own_id)
            if latest:
                params.append(latest[1])
            rows = self.conn.execute(sql, [*params, limit])
            out[own_id] = [
                {"id": i, "story_id": sid, "sort_date": sd, "story_terms": json.loads(t), "published_at": pa}
                for i, sid, sd, t, pa in rows
            ]
        return out

    def merge_stories(self, merges: dict[str, str], when: str) -> int:
        """Move every member of each absorbed story to the kept one and record the merge; return how many."""
        with transaction(self.conn) as conn:
            for old, new in merges.items():
                conn.execute(
                    "UPDATE documents SET story_id = ?, doc = json_set(doc, '$.story_id', ?) WHERE story_id = ?",
                    (new, new, old),
                )
                conn.execute("UPDATE story_merges SET merged_into = ? WHERE merged_into = ?", (new, old))
                conn.execute("INSERT OR REPLACE INTO story_merges VALUES (?,?,?)", (old, new, when))
                conn.execute("UPDATE story_docs SET story_id = ? WHERE story_id = ?", (new, old))
        return len(merges)

    def story_merges(self, story_ids: Iterable[str]) -> dict[str, str]:
        """Return {story id: the story it was merged into} for those of these ids that were merged."""
        sql = "SELECT story_id, merged_into FROM story_merges WHERE story_id IN ({})"
        return dict(_rows_in(self.conn, sql, story_ids))

    def story_spans(self, story_ids: Iterable[str]) -> dict[str, tuple[str | None, str | None, str | None]]:
        """Return {story id: (first publication date, last, earliest time an undated member was seen)}
        over the canonical members of those of these stories that have any (transforms/stories.py `Span`)."""
        sql = (
            "SELECT s.story_id, MIN(d.published_at), MAX(d.published_at), "
            "MIN(CASE WHEN d.published_at IS NULL THEN s.sort_date END) FROM story_docs s "
            "JOIN documents d ON d.id = s.id WHERE s.story_id IN ({}) GROUP BY s.story_id"
        )
        return {sid: (first, last, seen) for sid, first, last, seen in _rows_in(self.conn, sql, story_ids)}

    def story_documents(self, story_id: str) -> list[dict[str, Any]]:
        """Return every document of the story (copies included), oldest first."""
        rows = self.conn.execute(
            f"SELECT {DOC_COLUMNS} FROM documents d {DOC_JOIN} WHERE d.story_id = ? "
            "ORDER BY json_extract(d.doc, '$.sort_date'), d.id",
            (story_id,),
        )
        return [_document(*row) for row in rows]

    def story_sizes(self, date_from: str | None, date_to: str | None, limit: int) -> list[tuple[str, int]]:
        """Return [(story id, documents)] of the largest stories with a document dated in the period."""
        where, params = ["story_id IS NOT NULL"], []
        if date_from:
            where.append("substr(json_extract(doc, '$.sort_date'), 1, 10) >= ?")
            params.append(date_from)
        if date_to:
            where.append("substr(json_extract(doc, '$.sort_date'), 1, 10) <= ?")
            params.append(date_to)
        sql = (
            f"SELECT story_id, COUNT(*) FROM documents WHERE {' AND '.join(where)} "
            "GROUP BY story_id ORDER BY 2 DESC, MIN(json_extract(doc, '$.sort_date')) DESC, 1 LIMIT ?"
        )
        return [(sid, n) for sid, n in self.conn.execute(sql, [*params, limit])]

    # --- writing -----------------------------------------------------------------------------
    def write(self, docs: list[Document]) -> dict[str, Any]:
        """Upsert the documents in one transaction; refresh `copies` of the canonicals they touch.

        Returns counts: indexed (new ids), replaced (ids already present: a re-run), and rejected
        (always empty here: SQLite takes every contract document).
        """
        counts: dict[str, Any] = {"indexed": 0, "replaced": 0, "rejected": []}
        touched: set[str] = set()
        # Canonicals new to the index, written with no copies: refreshed only if a copy points to them.
        fresh: set[str] = set()
        # Canonicals' passage keys, written after the loop in key order (`_add_passage_keys`).
        postings: dict[str, tuple[list[str], dict[str, list[int]] | None]] = {}
        with transaction(self.conn) as conn:
            for doc in docs:
                existed = conn.execute(
                    "SELECT duplicate_of, json_extract(doc, '$.sort_date') FROM documents WHERE id=?",
                    (doc.id,),
                ).fetchone()
                if existed:
                    counts["replaced"] += 1
                    fresh.discard(doc.id)
                    postings.pop(doc.id, None)  # the same id earlier in this batch: not written yet
                    if doc.sort_date:
                        doc.sort_date = keep_first_seen(doc.sort_date, doc.published_at, existed[1])
                    if existed[0]:
                        touched.add(existed[0])
                    self._delete(conn, doc.id)
                else:
                    counts["indexed"] += 1
                    if not doc.duplicate_of and doc.copies == NO_COPIES:
                        fresh.add(doc.id)
                if doc.duplicate_of:
                    touched.add(doc.duplicate_of)
                else:
                    # Keep copies learned in earlier runs; they are recomputed below anyway.
                    touched.add(doc.id)
                # Its links live in their table (`_set_passage_texts`), rewritten alone as they grow.
                row = {**doc.to_dict(), "shared_passages": [], "passage_links": 0}
                cursor = conn.execute(
                    "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        doc.id,
                        json.dumps(row, ensure_ascii=False),
                        doc.duplicate_of,
                        doc.published_at,
                        doc.source_domain,
                        doc.language,
                        doc.exact_key,
                        _facet_key_or_none(doc.source_domain),
                        doc.story_id,
                    ),
                )
                if not doc.duplicate_of:
                    _add_story_doc(conn, doc.id, doc.story_id, doc.sort_date, doc.story_terms)
                    postings[doc.id] = (doc.passage_keys, doc.hints.get("passage_lines"))
                if doc.shared_passages:
                    _set_passage_texts(conn, doc.id, doc.shared_passages, facet=not doc.duplicate_of)
                conn.execute(
                    "INSERT INTO docs_fts (rowid, id, title, description, body) VALUES (?,?,?,?,?)",
                    (cursor.lastrowid, doc.id, doc.title or "", doc.description or "", doc.body),
                )
                conn.executemany(
                    "INSERT INTO entities VALUES (?,?,?,?)",
                    [
                        (doc.id, kind, name, facet_key(name))
                        for kind, names in doc.entities.items()
                        for name in dict.fromkeys(names)
                    ],
                )
                conn.executemany(
                    "INSERT INTO mentions VALUES (?,?)",
                    [(doc.id, day[:10]) for day in dict.fromkeys(doc.mentioned_dates) if day],
                )
                if not doc.duplicate_of:
                    conn.executemany(
                        "INSERT INTO bands VALUES (?,?)", [(band, doc.id) for band in doc.lsh_bands]
                    )
            _add_passage_keys(conn, postings)
            self._refresh_copies(conn, touched, fresh)
        return counts

    def finish(self) -> None:
        """End of run: nothing to do, every batch is committed and searchable already."""

    def refresh(self) -> None:
        """Nothing to do: every committed write is visible at once."""

    def canonicals_sharing(self, exact_keys: list[str], bands: list[str]) -> list[dict[str, Any]]:
        """Return the indexed canonical documents with any of these exact keys or LSH band keys."""
        ids: set[str] = set()
        for column, table, keys in (("exact_key", "documents", exact_keys), ("band", "bands", bands)):
            ids.update(
                row[0]
                for row in _rows_in(self.conn, f"SELECT id FROM {table} WHERE {column} IN ({{}})", keys)
            )
        return [doc for doc in self.get(sorted(ids)).values() if not doc.get("duplicate_of")]

    def merge_canonicals(self, merged: dict[str, tuple[str, str]]) -> int:
        """Make each listed canonical a copy of the given one (and move its copies there); return how many."""
        touched: set[str] = set()
        count = 0
        with transaction(self.conn) as conn:
            for doc_id, (keep, _kind) in merged.items():
                row = conn.execute(
                    "SELECT doc FROM documents WHERE id=? AND duplicate_of IS NULL", (doc_id,)
                ).fetchone()
                if not row:
                    continue
                doc = json.loads(row[0])
                _remove_passage_keys(conn, doc_id)  # before its JSON loses the keys
                doc.update(duplicate_of=keep, lsh_bands=[], copies=NO_COPIES, passage_keys=[])
                self._point_to(conn, doc_id, doc, keep)
                conn.execute("DELETE FROM bands WHERE id=?", (doc_id,))
                _remove_story_doc(conn, doc_id)
                for copy_id, copy_doc in conn.execute(
                    "SELECT id, doc FROM documents WHERE duplicate_of=?", (doc_id,)
                ).fetchall():
                    self._point_to(conn, copy_id, {**json.loads(copy_doc), "duplicate_of": keep}, keep)
                touched.add(keep)
                count += 1
            self._refresh_copies(conn, touched)
        return count

    def _point_to(self, conn: sqlite3.Connection, doc_id: str, doc: dict[str, Any], keep: str) -> None:
        conn.execute(
            "UPDATE documents SET doc=?, duplicate_of=? WHERE id=?",
            (json.dumps(doc, ensure_ascii=False), keep, doc_id),
        )

    def _delete(self, conn: sqlite3.Connection, doc_id: str) -> None:
        row = conn.execute("SELECT rowid FROM documents WHERE id=?", (doc_id,)).fetchone()
        if row:
            conn.execute("DELETE FROM docs_fts WHERE rowid=?", (row[0],))
        _remove_story_doc(conn, doc_id)
        _remove_passage_keys(conn, doc_id)
        for table in ("documents", "entities", "bands", "mentions", "passage_texts"):
            conn.execute(f"DELETE FROM {table} WHERE id=?", (doc_id,))

    def _refresh_copies(
        self, conn: sqlite3.Connection, canonical_ids: set[str], fresh: Container[str] = ()
    ) -> None:
        """Set each canonical's `copies` from the copies pointing to it (`fresh`: written just now with
        none, so left as they are if none points to them yet)."""
        for cid in canonical_ids:
            copies = conn.execute(
                "SELECT id, source_domain FROM documents WHERE duplicate_of=? ORDER BY id", (cid,)
            ).fetchall()
            if not copies and cid in fresh:
                continue
            row = conn.execute("SELECT doc FROM documents WHERE id=?", (cid,)).fetchone()
            if not row:
                continue
            doc = json.loads(row[0])
            now = {
                "count": len(copies),
                "sources": sorted({s for _, s in copies if s}),
                "ids": [i for i, _ in copies],
            }
            if doc.get("copies") == now:
                continue
            doc["copies"] = now
            conn.execute("UPDATE documents SET doc=? WHERE id=?", (json.dumps(doc, ensure_ascii=False), cid))

    # --- reading -----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        filters: dict[str, Any],
        limit: int = 10,
        include_duplicates: bool = False,
        facet_size: int = 10,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Return {total, hits, facets} (connectors/hits.py: the query language, checks and shape)."""
        request = search_request(query, filters, limit, include_duplicates, facet_size, offset)
        where, params = self._conditions(request)
        match = fts_query(request.query)
        score = "bm25(docs_fts, 0.0, 5.0, 2.0, 1.0)" if match else "NULL"
        # Full-text rows share their document's rowid; a search with no words reads no full-text row.
        # Without words, the filters and the order read the covering index, never the documents' rows
        # (SQLite would rather walk documents_dup and read every row: 10 times slower).
        rows_of = (
            "docs_fts JOIN documents d ON d.rowid = docs_fts.rowid"
            if match
            else "documents d INDEXED BY documents_facets"
        )
        base = f"FROM {rows_of} WHERE {' AND '.join(where)}"
        conn = self.conn
        conn.execute("DROP TABLE IF EXISTS temp.hits")
        # Keyed by id: each facet joins its rows to the hits by id. Without the key SQLite scanned the
        # hits once per entity row (20 s for a common word on 10,000 documents).
        conn.execute("CREATE TEMP TABLE hits (id TEXT PRIMARY KEY) WITHOUT ROWID")
        conn.execute(f"INSERT OR IGNORE INTO hits SELECT d.id {base}", params)
        total = conn.execute("SELECT COUNT(*) FROM hits").fetchone()[0]
        # The page of hits first (scores and ids only: sorting whole documents or making a snippet
        # for every match costs seconds on a common word), then their documents and snippets.
        page = conn.execute(
            f"SELECT {score}, d.rowid, d.id {base} ORDER BY {score}, d.published_at DESC, d.id LIMIT ? OFFSET ?",
            [*params, request.limit, request.offset],
        ).fetchall()
        docs = self.get(doc_id for _, _, doc_id in page)
        hits = []
        for value, rowid, doc_id in page:
            doc = docs[doc_id]
            if match:
                snip = conn.execute(
                    "SELECT snippet(docs_fts, 3, '[', ']', '…', 16) FROM docs_fts "
                    "WHERE docs_fts MATCH ? AND rowid = ?",
                    (match, rowid),
                ).fetchone()[0]
            else:
                snip = (doc.get("body") or "")[:160]
            hits.append(search_hit(doc, value, snip))
        best = None
        if match and request.offset:
            # A later page: scores relative to the search's best hit, not to this page's.
            best = conn.execute(f"SELECT {score} {base} ORDER BY {score} LIMIT 1", params).fetchone()[0]
        facets = self._facets(request.facet_size)
        conn.execute("DROP TABLE IF EXISTS temp.hits")
        return search_result(total, hits, facets, request.offset, best)

    def _facets(self, size: int) -> dict[str, list[list[Any]]]:
        """Return the facets of the hits in temp.hits: one pass over their entities, one over their
        documents' facet columns (read from the covering index, not the documents' rows)."""
        conn = self.conn
        counts: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
        for kind, name, count in conn.execute(
            # From each hit to its rows in the covering index (CROSS JOIN keeps that order: SQLite would
            # rather scan every entity and look each up in the hits). A document names an entity once.
            "SELECT e.kind, e.name, COUNT(*) FROM hits h CROSS JOIN entities e INDEXED BY entities_facets "
            "ON e.id = h.id "
            f"WHERE e.kind IN ({','.join('?' * len(ENTITY_KINDS))}) GROUP BY 1, 2",
            ENTITY_KINDS,
        ):
            counts[kind][name] = count
        for source, language, month in conn.execute(
            "SELECT d.source_domain, d.language, substr(d.published_at, 1, 7) "
            "FROM hits h CROSS JOIN documents d INDEXED BY documents_facets ON d.id = h.id"
        ):
            for name, value in (("source", source), ("language", language), ("month", month)):
                if value is not None:
                    counts[name][value] += 1
        for month, count in conn.execute(
            "SELECT substr(m.day, 1, 7), COUNT(DISTINCT h.id) FROM hits h CROSS JOIN mentions m "
            "INDEXED BY mentions_id ON m.id = h.id GROUP BY 1"
        ):
            counts["mentioned"][month] = count
        for links, count in conn.execute(
            "SELECT p.links, COUNT(*) FROM hits h CROSS JOIN passage_links p ON p.id = h.id GROUP BY 1"
        ):
            counts["shared_passages"][str(links)] = count
        facets: dict[str, list[list[Any]]] = {}
        for name in FACETS:
            if name in DATE_FACETS:
                # Histograms: every month, newest first.
                facets[name] = [[k, n] for k, n in sorted(counts[name].items(), reverse=True)][
                    :DATE_FACET_SIZE
                ]
            else:
                # By count, then value (code point order: SQLite's BINARY collation of UTF-8).
                ranked = sorted(counts[name].items(), key=lambda kv: (-kv[1], kv[0]))
                facets[name] = [[k, n] for k, n in ranked[:size]]
        return facets

    @staticmethod
    def _conditions(request: SearchRequest) -> tuple[list[str], list[Any]]:
        where, params = ["1=1"], []
        match = fts_query(request.query)
        if match:
            where.append("docs_fts MATCH ?")
            params.append(match)
        if request.query.excluded:
            where.append("d.rowid NOT IN (SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?)")
            params.append(" OR ".join(fts_phrase(text) for text in request.query.excluded))
        if not request.include_duplicates:
            where.append("d.duplicate_of IS NULL")
        for kind, name in request.entities():
            where.append("d.id IN (SELECT id FROM entities WHERE kind = ? AND key = ?)")
            params += [kind, facet_key(name)]
        if request.source:
            where.append("d.source_key = ?")
            params.append(facet_key(request.source))
        if request.story:
            where.append("d.story_id = ?")
            params.append(request.story)
        if request.lang:
            where.append("d.language = ?")
            params.append(request.lang)
        if request.date_from:
            where.append("substr(d.published_at, 1, 10) >= ?")
            params.append(request.date_from)
        if request.date_to:
            where.append("substr(d.published_at, 1, 10) <= ?")
            params.append(request.date_to)
        if request.mentioned_from or request.mentioned_to:
            where.append("d.id IN (SELECT id FROM mentions WHERE day BETWEEN ? AND ?)")
            params += [request.mentioned_from or "0000-00-00", request.mentioned_to or "9999-99-99"]
        return where, params

    def export(self) -> Iterator[dict[str, Any]]:
        """Yield every document in the contract form, in id order."""
        for row in self.conn.execute(f"SELECT {DOC_COLUMNS} FROM documents d {DOC_JOIN} ORDER BY d.id"):
            yield _document(*row)

    def stats(self) -> dict[str, Any]:
        """Return document counts (total, duplicates, by source and language) and the index size."""
        conn = self.conn
        total = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        dups = conn.execute("SELECT COUNT(*) FROM documents WHERE duplicate_of IS NOT NULL").fetchone()[0]
        by_source = conn.execute(
            "SELECT COALESCE(source_domain, '(none)'), COUNT(*) FROM documents GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        by_lang = conn.execute(
            "SELECT COALESCE(language, '(unknown)'), COUNT(*) FROM documents GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.exists())
        return {
            "backend": self.name,
            "location": str(self.path),
            "size_bytes": size,
            "documents": total,
            "duplicates": dups,
            "by_source": dict(by_source),
            "by_language": dict(by_lang),
        }


def overlapping(mine: tuple[float, float], others: Iterable[tuple[float, float]]) -> bool:
    """Return True when a batch (lookup mark, write mark) may have missed one of `others` (write mark,
    lookup mark), or it may have missed this one: each was written after the other looked.

    Two batches of different runs miss each other only then (neither was visible to the other's
    lookups), so only such batches need the end-of-run checks; a run alone needs none.
    """
    looked, written = mine
    return any(o_written > looked and written > o_looked for o_written, o_looked in others)


# The row of story_df that counts the canonical documents (no term is empty).
DOCS_KEY = ""


def date_window(when: str | None, days: float) -> tuple[str, str] | None:
    """Return the ISO bounds `days` either side of a time (None when it is not a time)."""
    from datetime import datetime, timedelta

    if not when:
        return None
    try:
        moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return None
    span = timedelta(days=days)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return (moment - span).strftime(fmt), (moment + span).strftime(fmt)


def _add_story_doc(
    conn: sqlite3.Connection, doc_id: str, story_id: str | None, sort_date: str | None, terms: list[str]
) -> None:
    """Index a canonical's story terms: its row, its postings, the document frequencies."""
    distinct = sorted(set(terms))
    conn.execute(
        "INSERT OR REPLACE INTO story_docs VALUES (?,?,?,?)", (doc_id, story_id, sort_date, json.dumps(terms))
    )
    conn.executemany("INSERT INTO story_terms VALUES (?,?,?)", [(t, doc_id, sort_date) for t in distinct])
    conn.executemany(
        "INSERT INTO story_df VALUES (?, 1) ON CONFLICT(term) DO UPDATE SET df = df + 1",
        [(t,) for t in [DOCS_KEY, *distinct]],
    )


def _remove_story_doc(conn: sqlite3.Connection, doc_id: str) -> None:
    """Take a document out of the story index (replaced, or become a copy)."""
    row = conn.execute("SELECT terms FROM story_docs WHERE id = ?", (doc_id,)).fetchone()
    if not row:
        return
    distinct = sorted(set(json.loads(row[0])))
    conn.executemany("UPDATE story_df SET df = df - 1 WHERE term = ?", [(t,) for t in [DOCS_KEY, *distinct]])
    conn.execute("DELETE FROM story_docs WHERE id = ?", (doc_id,))
    conn.execute("DELETE FROM story_terms WHERE id = ?", (doc_id,))


def _add_stories(conn: sqlite3.Connection) -> None:
    """Schema 5: a `story_id` column, story terms of every canonical; each earlier document founds its
    own story (stories are assigned as documents come in; a later run's documents join them)."""
    if "story_id" not in {row[1] for row in conn.execute("PRAGMA table_info(documents)")}:
        conn.execute("ALTER TABLE documents ADD COLUMN story_id TEXT")
    for table in ("story_terms", "story_docs", "story_df"):
        conn.execute(f"DELETE FROM {table}")
    rows = conn.execute("SELECT rowid, id, doc, duplicate_of FROM documents").fetchall()
    for rowid, doc_id, raw, duplicate_of in rows:
        doc = Document.from_dict(json.loads(raw)).to_dict()  # the contract's fields, in its order
        doc["story_id"] = new_story_id(duplicate_of or doc_id)
        doc["story_terms"] = (
            [] if duplicate_of else story_terms(doc.get("title"), doc.get("body") or "", doc.get("entities"))
        )
        conn.execute(
            "UPDATE documents SET doc=?, story_id=? WHERE rowid=?",
            (json.dumps(doc, ensure_ascii=False), doc["story_id"], rowid),
        )
        if not duplicate_of:
            _add_story_doc(conn, doc_id, doc["story_id"], doc.get("sort_date"), doc["story_terms"])


def _add_passage_keys(
    conn: sqlite3.Connection, postings: Mapping[str, tuple[list[str], Mapping[str, list[int]] | None]]
) -> None:
    """Index canonicals' passage keys, given as {id: (keys, the body lines each key stands on when
    known: `key_lines`)}: their postings and the keys' document counts. A batch's are written together
    in key order, so each page of the keyed tables is visited once, not once per document."""
    rows: list[tuple[str, str, int]] = []
    df: Counter[str] = Counter()
    for doc_id, (keys, lines) in postings.items():
        distinct = set(keys)
        df.update(distinct)
        on = lines or {}
        rows.extend((k, doc_id, n) for k in distinct for n in (on.get(k) or [UNKNOWN_LINE]))
    rows.sort()
    conn.executemany("INSERT INTO passage_keys VALUES (?,?,?)", rows)
    conn.executemany(
        "INSERT INTO passage_df VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET df = df + excluded.df",
        sorted(df.items()),
    )


def _remove_passage_keys(conn: sqlite3.Connection, doc_id: str) -> None:
    """Take a document out of the passage index (replaced, or become a copy): its postings, found by
    the keys its JSON lists (`passage_keys`, written with them), and their document counts (only for
    the keys it had postings under, so a document taken out twice is counted out once)."""
    row = conn.execute(
        "SELECT json_extract(doc, '$.passage_keys') FROM documents WHERE id = ?", (doc_id,)
    ).fetchone()
    keys = sorted(set(json.loads(row[0]))) if row and row[0] else []
    removed: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        removed.update(
            k
            for (k,) in conn.execute(
                f"DELETE FROM passage_keys WHERE id = ? AND key IN ({','.join('?' * len(chunk))}) RETURNING key",
                [doc_id, *chunk],
            )
        )
    conn.executemany("UPDATE passage_df SET df = df - 1 WHERE key = ?", [(k,) for k in sorted(removed)])
    conn.execute("DELETE FROM passage_links WHERE id = ?", (doc_id,))


def _set_passage_texts(
    conn: sqlite3.Connection, doc_id: str, shared: list[dict[str, Any]], facet: bool = True
) -> None:
    """Keep a document's `shared_passages` (non-empty) and, for the facet, how many documents they link
    (`passage_links`: a canonical's only; only documents with links have a row in either table)."""
    links = linked_documents(shared)
    conn.execute(
        "INSERT OR REPLACE INTO passage_texts VALUES (?,?,?)",
        (doc_id, json.dumps(shared, ensure_ascii=False), links),
    )
    if facet:
        conn.execute("INSERT OR REPLACE INTO passage_links VALUES (?,?)", (doc_id, links))


def _document(raw: str, shared: str | None, links: int | None) -> dict[str, Any]:
    """Return a contract document from its row (`DOC_COLUMNS`): its JSON with its shared passages."""
    doc = json.loads(raw)
    doc["shared_passages"], doc["passage_links"] = (json.loads(shared), links) if shared else ([], 0)
    return doc


def _move_passage_texts(conn: sqlite3.Connection) -> None:
    """Schema 9: shared passages out of the documents' JSON into `passage_texts`; postings read from
    a covering index (key, id, line) instead of an index on the key and the table's rows."""
    conn.execute(
        "INSERT OR REPLACE INTO passage_texts SELECT id, json_extract(doc, '$.shared_passages'), "
        "coalesce(json_extract(doc, '$.passage_links'), 0) FROM documents "
        "WHERE json_array_length(doc, '$.shared_passages') > 0"
    )
    conn.execute(
        "UPDATE documents SET doc = json_set(doc, '$.shared_passages', json('[]'), '$.passage_links', 0) "
        "WHERE json_array_length(doc, '$.shared_passages') > 0"
    )


def _key_passage_postings(conn: sqlite3.Connection) -> None:
    """Schema 9: the passage postings rebuilt as a table keyed by (key, id, line), where they were rows
    with an index on the key (a posting read = an index entry, then its row) and one on the id."""
    (sql,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'passage_keys'"
    ).fetchone()
    if "WITHOUT ROWID" in sql.upper():
        return  # made so by SCHEMA (a new index file)
    conn.execute(
        "CREATE TABLE passage_keys_keyed (key TEXT NOT NULL, id TEXT NOT NULL, line INTEGER NOT NULL, "
        "PRIMARY KEY (key, id, line)) WITHOUT ROWID"
    )
    conn.execute(
        "INSERT OR IGNORE INTO passage_keys_keyed SELECT key, id, coalesce(line, ?) FROM passage_keys",
        (UNKNOWN_LINE,),
    )
    conn.execute("DROP TABLE passage_keys")
    conn.execute("ALTER TABLE passage_keys_keyed RENAME TO passage_keys")


def _add_passages(conn: sqlite3.Connection) -> None:
    """Schema 7: passage keys of every canonical (documents indexed before have no links yet; a later
    document quoting one of them links both ways)."""
    for table in ("passage_keys", "passage_df", "passage_links"):
        conn.execute(f"DELETE FROM {table}")
    rows = conn.execute("SELECT rowid, id, doc, duplicate_of FROM documents").fetchall()
    postings: dict[str, tuple[list[str], dict[str, list[int]]]] = {}
    for rowid, doc_id, raw, duplicate_of in rows:
        doc = Document.from_dict(json.loads(raw))
        lines = {} if duplicate_of else key_lines(split_passages(doc.body))
        doc.passage_keys = list(lines)
        conn.execute(
            "UPDATE documents SET doc=? WHERE rowid=?", (json.dumps(doc.to_dict(), ensure_ascii=False), rowid)
        )
        if not duplicate_of:
            postings[doc_id] = (doc.passage_keys, lines)
        if len(postings) >= MIGRATION_CHUNK:  # a large index's postings are not all held at once
            _add_passage_keys(conn, postings)
            postings.clear()
    _add_passage_keys(conn, postings)


def _lines(concatenated: str) -> list[int] | None:
    """Return the line numbers of `group_concat(line)`; None if one is unknown (UNKNOWN_LINE)."""
    lines = {int(n) for n in concatenated.split(",")}
    return None if UNKNOWN_LINE in lines else sorted(lines)


def _facet_key_or_none(value: str | None) -> str | None:
    return None if value is None else facet_key(value)


def _rows_in(conn: sqlite3.Connection, sql: str, values: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of `sql` (with `IN ({})`) over the distinct `values`, 500 bound values a query
    (within SQLite's limit on parameters)."""
    values = list(set(values))
    for i in range(0, len(values), 500):
        chunk = values[i : i + 500]
        yield from conn.execute(sql.format(",".join("?" * len(chunk))), chunk)
