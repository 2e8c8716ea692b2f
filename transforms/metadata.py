"""Metadata normalisation: ids, URLs and source, title, authors, dates, language, tags."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from newsdex.transforms.dates import date_from_url, normalise_date
from newsdex.transforms.language import detect_article_language
from newsdex.transforms.record import Document
from newsdex.transforms.text import QUOTES, line_key, short_hash, squash, words
from newsdex.transforms.urls import normalise_url, registered_domain

TITLE_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|::|»|·)\s+")
AUTHOR_SPLIT = re.compile(r"\s*(?:;|\||,|&|\band\b|\bund\b|\by\b|\bet\b|\bi\b)\s*")
AUTHOR_PREFIX = re.compile(
    r"^(?:by|von|por|par|di|de|przez|from|written by|posted by|autor(?:in)?:?|author:?)\s+", re.I
)
NOT_A_PERSON = re.compile(
    r"\b(?:staff|editors?|editorial|desk|team|newsroom|redaktion|redacción|rédaction|agency|agencies|press|news"
    r"|wire|reuters|afp|dpa|ap|associated|bloomberg|correspondents?|contributors?|guest|admin|administrator"
    r"|reporter|writer|online|media|magazine|times|post|daily|international|service|foundation|group)\b",
    re.I,
)
HAS_DIGIT_OR_AT = re.compile(r"[\d@/\\]|https?:|www\.")
TAG_MAX_CHARS = 60


def document_id(canonical_url: str | None, content_key: str) -> str:
    """Return a stable id: from the canonical URL when there is one, else from the record's raw content.

    Never from the cleaned body: two different inputs (two results tables, two pages of one site)
    can clean down to the same text, and an id is one input's document. Copies with the same body
    get their own ids and are marked `duplicate_of` by dedup instead.
    """
    if canonical_url:
        return "u" + short_hash(canonical_url, 31)
    return "c" + short_hash(content_key, 31)


def clean_title(title: str | None, publisher: str | None = None, domain: str | None = None) -> str | None:
    """Return the title with whitespace and quotes normalised and a trailing site name removed."""
    if not title:
        return None
    title = squash(title.translate(QUOTES))
    parts = TITLE_SEPARATOR.split(title)
    if len(parts) > 1:
        site_keys = {line_key(x) for x in (publisher, domain, (domain or "").split(".")[0]) if x}
        last = line_key(parts[-1])
        if last in site_keys or any(k and (k in last or last in k) for k in site_keys if len(last) >= 3):
            title = title[: title.rfind(parts[-1])].rstrip(" |-–—:»·")
    return title or None


def clean_authors(names: list[str], publisher: str | None = None, domain: str | None = None) -> list[str]:
    """Return person names: split, prefixes stripped, casing fixed, never e-mails, sites or 'Staff'."""
    site_keys = {line_key(x) for x in (publisher, domain, (domain or "").split(".")[0]) if x}
    out: list[str] = []
    seen: set[str] = set()
    for raw in names:
        for part in AUTHOR_SPLIT.split(raw or ""):
            name = squash(AUTHOR_PREFIX.sub("", squash(part))).strip(" .,:;-–—|")
            if not name or HAS_DIGIT_OR_AT.search(name) or NOT_A_PERSON.search(name):
                continue
            n_words = len(words(name))
            if n_words < 2 or n_words > 5 or line_key(name) in site_keys:
                continue
            if name.isupper() or name.islower():
                name = " ".join(w.capitalize() for w in name.split())
            key = line_key(name)
            if key not in seen:
                seen.add(key)
                out.append(name)
    return out


def clean_tags(tags: list[str]) -> list[str]:
    """Return tags split on commas, lower-cased, de-duplicated, in first-seen order."""
    out: list[str] = []
    for tag in tags:
        for part in str(tag).split(","):
            value = squash(part).lower().strip(" #.;:")
            if 2 <= len(value) <= TAG_MAX_CHARS and value not in out:
                out.append(value)
    return out


def pick_dates(hints: dict[str, Any], url: str | None, fetched: datetime) -> tuple[str | None, str | None]:
    """Return (published_at, modified_at), each ISO 8601 UTC or None when no plausible value exists."""
    stamps = sorted(v for v in (normalise_date(t, fetched) for t in hints.get("timestamps", [])) if v)
    candidates = [hints.get("published"), *stamps[:1], hints.get("header_date"), date_from_url(url)]
    published = next((v for v in (normalise_date(c, fetched) for c in candidates) if v), None)
    modified_candidates = [hints.get("modified"), *stamps[-1:]]
    modified = next((v for v in (normalise_date(c, fetched) for c in modified_candidates) if v), None)
    if modified and published and (modified <= published or modified[:10] < published[:10]):
        modified = None
    return published, modified


def normalise_document(doc: Document, fetched: datetime) -> Document:
    """Fill the document's contract metadata from its hints; return the same document."""
    hints = doc.hints
    doc.url = normalise_url(doc.url) or normalise_url(hints.get("url"))
    doc.canonical_url = normalise_url(hints.get("canonical_url")) or doc.url
    doc.source_domain = registered_domain(doc.canonical_url or doc.url) or (doc.source_hint or None)
    doc.publisher = squash(hints.get("publisher") or "") or doc.source_hint or None
    doc.title = clean_title(doc.title or hints.get("title"), doc.publisher, doc.source_domain)
    doc.description = squash(hints.get("description") or "") or None
    doc.authors = clean_authors(hints.get("authors", []), doc.publisher, doc.source_domain)
    doc.published_at, doc.modified_at = pick_dates(hints, doc.canonical_url or doc.url, fetched)
    doc.language, doc.language_confidence = detect_article_language(
        doc.title, doc.body, hints.get("html_lang") or hints.get("locale")
    )
    doc.tags = clean_tags(hints.get("tags", []))
    doc.image_url = normalise_url(hints.get("image_url"))
    doc.id = document_id(doc.canonical_url, doc.content_key or line_key(doc.body))
    return doc
