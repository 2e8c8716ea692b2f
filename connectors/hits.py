"""The search hit shape both backends return (the CLI renders it, --json prints it)."""

from __future__ import annotations

from typing import Any


def search_hit(doc: dict[str, Any], score: float | None, snippet: str) -> dict[str, Any]:
    """Return the hit for a contract document: its display fields, score and one-line snippet."""
    return {
        "id": doc["id"],
        "score": score,
        "title": doc.get("title"),
        "url": doc.get("canonical_url") or doc.get("url"),
        "source_domain": doc.get("source_domain"),
        "published_at": doc.get("published_at"),
        "language": doc.get("language"),
        "duplicate_of": doc.get("duplicate_of"),
        "copies": (doc.get("copies") or {}).get("count", 0),
        "snippet": " ".join(snippet.split()),
    }
