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
