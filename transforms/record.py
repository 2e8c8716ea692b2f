"""The record types that travel through every stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ENTITY_KINDS = ("person", "org", "location", "misc")

# The document contract: what is indexed, exported and written by --output-jsonl.
# mappings/index-template.json describes exactly these fields (a test holds the two together).
CONTRACT_FIELDS = (
    "id",
    "url",
    "canonical_url",
    "source_domain",
    "publisher",
    "title",
    "description",
    "body",
    "authors",
    "published_at",
    "modified_at",
    # Publication date, else first seen: the time field every document has (Kibana's data view).
    "sort_date",
    "language",
    "language_confidence",
    "tags",
    "image_url",
    "entities",
    "entity_counts",
    "mentioned_dates",
    "duplicate_of",
    "copies",
    "exact_key",
    "lsh_bands",
    # The story (event) the document reports; copies take their canonical's (transforms/stories.py).
    "story_id",
    "story_terms",
    # Passages (>= 12 words) also found, exactly or nearly, in other documents that are not copies
    # ({"text", "documents"}), how many documents they link, and the keys they are looked up by
    # (transforms/passages.py).
    "shared_passages",
    "passage_links",
    "passage_keys",
    "input",
    "ingested_at",
    "pipeline_version",
)


@dataclass(slots=True)
class RawRecord:
    """One input record as read: where it came from and its undecoded or decoded payload."""

    path: str
    line: int | None = None
    offset: int | None = None
    record_id: str | None = None
    url: str | None = None
    html: str | None = None
    text: str | None = None
    source: str | None = None
    fetched_at: str | None = None
    # The feed declared this text clean (JSONL `"clean": true`, or `run --keep-all-text`): no line dropped.
    clean: bool = False

    def origin(self) -> dict[str, Any]:
        """Return the `input` block of the contract for this record."""
        return {"path": self.path, "line": self.line, "offset": self.offset, "record_id": self.record_id}


@dataclass(slots=True)
class Rejection:
    """A record (or a whole input) that did not make it, with the reason why."""

    stage: str
    reason: str
    detail: str
    input: dict[str, Any]
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the rejects-file row."""
        return {
            "stage": self.stage,
            "reason": self.reason,
            "detail": self.detail,
            "input": self.input,
            "url": self.url,
        }


@dataclass(slots=True)
class Document:
    """The article as it travels from cleaning to the index.

    Contract fields are exported by `to_dict`; the rest (`hints`, `fetched_at`, `source_hint`,
    `html_lang`, `duplicate_kind`) is working state between stages and never indexed.
    """

    input: dict[str, Any]
    url: str | None = None
    body: str = ""
    id: str = ""
    canonical_url: str | None = None
    source_domain: str | None = None
    publisher: str | None = None
    title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: str | None = None
    modified_at: str | None = None
    sort_date: str | None = None
    language: str | None = None
    language_confidence: float | None = None
    tags: list[str] = field(default_factory=list)
    image_url: str | None = None
    entities: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in ENTITY_KINDS})
    entity_counts: dict[str, int] = field(default_factory=dict)
    mentioned_dates: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    copies: dict[str, Any] = field(default_factory=lambda: {"count": 0, "sources": [], "ids": []})
    exact_key: str | None = None
    lsh_bands: list[str] = field(default_factory=list)
    story_id: str | None = None
    story_terms: list[str] = field(default_factory=list)
    shared_passages: list[dict[str, Any]] = field(default_factory=list)
    passage_links: int = 0
    passage_keys: list[str] = field(default_factory=list)
    ingested_at: str | None = None
    pipeline_version: str | None = None
    # Working state (not part of the contract).
    hints: dict[str, Any] = field(default_factory=dict)
    # Hash of the record's raw content (html or text as read): the id of a record without a URL.
    content_key: str = ""
    # Lines the cleaner dropped, by reason (the run report sums them); True when declared clean.
    dropped_lines: dict[str, int] = field(default_factory=dict)
    kept_whole: bool = False
    fetched_at: str | None = None
    source_hint: str | None = None
    html_lang: str | None = None
    duplicate_kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the contract document, exactly as indexed."""
        return {name: getattr(self, name) for name in CONTRACT_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        """Rebuild a document from its contract form (export, index rows)."""
        return cls(**{k: v for k, v in data.items() if k in CONTRACT_FIELDS})
