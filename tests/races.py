"""Two runs that write copies of one story at the same time, each checking an index without the other's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from newsdex.flows import stages
from newsdex.transforms.record import Document, RawRecord
from tests.conftest import SAMPLES


def document(text: str, url: str, published: str) -> Document:
    """Return the cleaned, normalised document of a text, with the given publication date."""
    doc = stages.clean_record(RawRecord(path=url, url=url, text=text), 10_000_000)
    assert isinstance(doc, Document)
    doc = stages.normalise(doc, datetime.now(UTC))
    doc.published_at = published
    return doc


def racing_runs() -> tuple[list[Document], list[Document]]:
    """Return the documents of two concurrent runs, deduplicated as each saw the index: empty.

    Run one has the story (published first); run two has a copy from another site and an exact
    copy of that copy. Each run alone is right; together the index holds two canonicals of one story.
    """
    original = (SAMPLES / "000_46639030fa0cfdb9.txt").read_text(encoding="utf-8")
    body = original.split("\n\n", 1)[1]
    first = [document(original, "https://first.example/story", "2022-01-13T18:00:00Z")]
    second = [
        document("Another headline\n\n" + body, "https://second.example/copy", "2022-01-14T09:00:00Z"),
        document("Another headline\n\n" + body, "https://third.example/same", "2022-01-15T09:00:00Z"),
    ]
    for run in (first, second):
        stages.dedup_batch(run, lambda keys: {}, lambda queries: {})
    assert second[1].duplicate_of == second[0].id and not second[0].duplicate_of
    return first, second


def reconcile(index: Any, run: list[Document]) -> int:
    """Apply the end-of-run check for `run` to the index; return how many canonicals were merged."""
    index.refresh()
    merged = stages.reconcile_canonicals([d.id for d in run], index.get, index.canonicals_sharing)
    return index.merge_canonicals(merged)


def check_one_canonical(index: Any, first: list[Document], second: list[Document]) -> None:
    """Assert that the story has one canonical (the earliest) and that it counts both copies."""
    docs = index.get([d.id for d in first + second])
    story, copy, exact = first[0].id, second[0].id, second[1].id
    assert docs[story]["duplicate_of"] is None
    assert docs[copy]["duplicate_of"] == story and docs[copy]["lsh_bands"] == []
    assert docs[exact]["duplicate_of"] == story
    assert docs[story]["copies"]["count"] == 2
    assert sorted(docs[story]["copies"]["ids"]) == sorted([copy, exact])
