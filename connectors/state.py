"""Run state kept in the data directory: source template lines, learned entity aliases, finished batches
and the records they finished."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS line_seen (source TEXT NOT NULL, key TEXT NOT NULL, doc_id TEXT NOT NULL,
                                      PRIMARY KEY (source, key, doc_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS line_seen_key ON line_seen(key, source);
CREATE TABLE IF NOT EXISTS aliases (kind TEXT NOT NULL, variant TEXT NOT NULL, canonical TEXT NOT NULL,
                                    PRIMARY KEY (kind, variant)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (key TEXT PRIMARY KEY, finished_at TEXT NOT NULL, counts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records_done (key TEXT PRIMARY KEY, doc_id TEXT) WITHOUT ROWID;
"""


class StateError(RuntimeError):
    """The data directory cannot hold the run state (unwritable, full, corrupt)."""


def connect(path: Path) -> sqlite3.Connection:
    """Open (and create) a SQLite database with settings for durability and concurrent readers."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        _set_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn
    except (OSError, sqlite3.Error) as err:
        raise StateError(f"cannot open {path}: {err} (check --data-dir / NEWSDEX_DATA_DIR)") from err


def _set_wal(conn: sqlite3.Connection, wait: float = 60.0) -> None:
    """Put the database in WAL mode. Two processes creating one database at once (`--partition`) can
    each be refused the switch with "database is locked" at once, without SQLite's busy timeout
    applying; the refused one waits and retries (the other has switched it by then) for up to `wait`
    seconds."""
    deadline = time.monotonic() + wait
    pause = 0.01
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def check_data_dir(path: Path) -> None:
    """Raise StateError (naming the setting) unless the data directory can be created and written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        # One probe per process: two runs starting at once on one data directory (--partition)
        # must not remove each other's.
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as err:
        raise StateError(
            f"data directory {path} is not usable: {err.strerror or err} (check --data-dir / NEWSDEX_DATA_DIR)"
        ) from err


class RunState:
    """Cross-run memory of the pipeline, in `<data dir>/state.sqlite`."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "state.sqlite"
        self.conn = connect(self.path)
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self.conn.close()

    def line_doc_counts(self, source: str, keys: Iterable[str], cap: int = 1_000_000) -> dict[str, int]:
        """Return, for each line key, how many distinct documents of the source had it (counting stops
        at `cap`: a caller that only asks "at least n?" does not pay for lines seen thousands of times)."""
        keys = list(set(keys))
        out: dict[str, int] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            values = ",".join(["(?)"] * len(chunk))
            for key, count in self.conn.execute(
                f"WITH k(key) AS (VALUES {values}) SELECT k.key, (SELECT COUNT(*) FROM "
                "(SELECT 1 FROM line_seen l WHERE l.source=? AND l.key=k.key LIMIT ?)) FROM k",
                [*chunk, source, cap],
            ):
                if count:
                    out[key] = count
        return out

    def template_lines(self, keys: Iterable[str], min_docs: int) -> set[str]:
        """Return those line keys that are a template line of some source (seen in at least
        `min_docs` of its documents)."""
        found: set[str] = set()
        keys = list(set(keys))
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            found.update(
                key
                for (key,) in self.conn.execute(
                    f"SELECT key FROM line_seen WHERE key IN ({','.join('?' * len(chunk))}) "
                    "GROUP BY key, source HAVING COUNT(*) >= ?",
                    [*chunk, min_docs],
                )
            )
        return found

    def record_lines(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Remember (source, line key, doc id) triples (idempotent)."""
        with self._tx():
            self.conn.executemany("INSERT OR IGNORE INTO line_seen VALUES (?,?,?)", rows)

    def aliases(self) -> dict[str, dict[str, str]]:
        """Return the learned alias table: kind → folded variant → canonical name."""
        out: dict[str, dict[str, str]] = {}
        for kind, variant, canonical in self.conn.execute("SELECT kind, variant, canonical FROM aliases"):
            out.setdefault(kind, {})[variant] = canonical
        return out

    def save_aliases(self, learned: Mapping[str, Mapping[str, str]]) -> None:
        """Add learned aliases; a variant keeps the canonical it was first given (facets stay stable)."""
        rows = [(k, v, c) for k, table in learned.items() for v, c in table.items()]
        with self._tx():
            self.conn.executemany("INSERT OR IGNORE INTO aliases VALUES (?,?,?)", rows)

    def mark_batch(
        self, key: str, counts: Mapping[str, object], records: Iterable[tuple[str, str | None]] = ()
    ) -> None:
        """Mark a batch and its records (record key, document id or None if rejected) as finished,
        in one transaction, after its documents are durably indexed."""
        with self._tx():
            self.conn.execute(
                "INSERT OR REPLACE INTO batches VALUES (?,?,?)",
                (key, datetime.now(UTC).isoformat(), json.dumps(dict(counts))),
            )
            self.conn.executemany("INSERT OR REPLACE INTO records_done VALUES (?,?)", records)

    def records_done(self, keys: Iterable[str]) -> dict[str, str | None]:
        """Return the record keys an earlier run finished, each with its document id (None: rejected).

        Records, not batches, are the unit: a watched folder that gains one file re-reads the old
        ones in the same batch, and they must come out `already_done`, not indexed again.
        """
        keys = list(keys)
        out: dict[str, str | None] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            query = f"SELECT key, doc_id FROM records_done WHERE key IN ({','.join('?' * len(chunk))})"
            out.update(self.conn.execute(query, chunk).fetchall())
        return out

    def _tx(self) -> _Transaction:
        return _Transaction(self.conn)


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        error = exc
        if exc_type is None:
            try:
                self.conn.execute("COMMIT")
                return
            except sqlite3.Error as err:
                error = err
        # SQLite has already rolled back on some errors (a full disk among them).
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        if isinstance(error, sqlite3.OperationalError | sqlite3.DatabaseError):
            raise StateError(
                f"cannot write the data directory: {error} (nothing of this batch was kept)"
            ) from error


def transaction(conn: sqlite3.Connection) -> _Transaction:
    """Return a context manager running its block in one IMMEDIATE transaction."""
    return _Transaction(conn)
