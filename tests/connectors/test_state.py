"""Run state: template-line evidence counts documents per source and line, capped on request."""

from __future__ import annotations

from pathlib import Path

from newsdex.connectors.state import RunState


def test_line_doc_counts_per_source_with_a_cap(tmp_path: Path) -> None:
    state = RunState(tmp_path)
    try:
        state.record_lines([("a.example", "subscribe now", f"doc{i}") for i in range(7)])
        state.record_lines([("a.example", "subscribe now", "doc1")])  # the same document again: no change
        state.record_lines([("a.example", "one off", "doc1"), ("b.example", "subscribe now", "doc9")])
        keys = ["subscribe now", "one off", "never seen"]
        assert state.line_doc_counts("a.example", keys) == {"subscribe now": 7, "one off": 1}
        assert state.line_doc_counts("a.example", keys, cap=3) == {"subscribe now": 3, "one off": 1}
        assert state.line_doc_counts("b.example", keys) == {"subscribe now": 1}
    finally:
        state.close()


def _open_both(data_dir: str) -> str:
    """Open (creating) the run state and the embedded index of a data directory; return the error, if any."""
    from newsdex.connectors.embedded import EmbeddedIndex

    try:
        RunState(Path(data_dir)).close()
        EmbeddedIndex(Path(data_dir)).conn.close()
        return ""
    except Exception as err:  # the test reports what a process saw
        return repr(err)


def test_processes_creating_one_data_directory_at_once_all_open_it(tmp_path: Path) -> None:
    """Two `--partition` runs start on one new data directory at once: each must open it (SQLite
    refused the second one's switch to WAL with "database is locked", at once, about a third of
    the time before the retry)."""
    import multiprocessing

    # Spawned, not forked: a child forked from the test process (its threads: the osmem-server
    # watcher, Prefect's) could die holding the pool's queue lock and hang the pool (seen once in
    # CI); and a round that does not answer fails instead of waiting for ever.
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        for round_ in range(40):
            data_dir = tmp_path / f"data-{round_}"
            results = pool.map_async(_open_both, [str(data_dir)] * 4).get(timeout=120)
            errors = [e for e in results if e]
            assert errors == [], (round_, errors)
