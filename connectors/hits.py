"""What both index backends share for reading: the query language, the checks on search arguments,
the shape of hits and facets, and opening an existing index without writing to it.

`EmbeddedIndex.search` and `ElasticIndex.search` both start from `search_request` (one parser, one set
of checks) and end with `search_result` (one ranking and facet shape), so `newsdex search`, the web page
and both backends agree on what a query means and what comes back.

The query language (README, "Search") is the one of web search engines and Kibana's simple syntax, as
an analyst expects it:
- words: all must match, each anywhere in the title, description or body; case and accents do not
  matter and English words match their other forms (missile, missiles: Porter stemming; a
  possessive asks for its word: Putin's is Putin);
- "double quotes": a phrase, its words next to each other in this order;
- `a OR b`: either (OR in capitals, between two words or phrases; it binds tighter than the implicit
  AND, so `Putin Khrushchev OR Peskov` is Putin and one of the other two);
- `-word`, `-"a phrase"` or `NOT word`: documents with it are left out;
- `AND` in capitals is allowed and changes nothing.
Everything else is a word: lower-case and/or/not, NEAR, an operator with nothing to act on. Brackets
and other punctuation separate words; a word with punctuation inside (NATO-Russia, U.S.) matches as a
phrase of its parts.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from newsdex.errors import UsageError

# Facets in the order both backends return them and every output shows them.
FACETS = ("person", "org", "location", "source", "language", "month", "mentioned", "shared_passages")
# `shared_passages` counts the hits by how many other documents they share a passage with ("1", "2",
# ...); hits sharing none are not counted.
# The two date facets (publication months, months of the dates the articles mention) are histograms:
# every month with a hit, newest first, up to this many (50 years), whatever the facet size.
DATE_FACETS = ("month", "mentioned")
DATE_FACET_SIZE = 600
ENTITY_KINDS = ("person", "org", "location")
# The most hits one search returns (Elasticsearch's default max_result_window); `export` has the rest.
MAX_LIMIT = 10_000
# Quoted phrase (an unclosed quote runs to the end), or a bare word; brackets separate words.
QUERY_TOKEN = re.compile(r'(-?)"([^"]*)"?|[^\s"()]+')
DAY = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
LANG = re.compile(r"[a-z]{2,3}(?:-[a-z]{2,4})?")
POSSESSIVE = re.compile(r"(?<=\w)['’][sS]$")


class SearchError(UsageError, ValueError):
    """A search argument is not usable; the message names it."""


class IndexMissing(UsageError):
    """There is no index to read yet; the message says which command creates it."""


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: every group must match (a group is one or more alternatives, each a word or a
    phrase matched as a phrase), and no excluded word or phrase may."""

    groups: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.groups or self.excluded)


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A checked search: the parsed query, facet filters, publication days (inclusive), page size."""

    query: Query
    person: tuple[str, ...] = ()
    org: tuple[str, ...] = ()
    location: tuple[str, ...] = ()
    source: str | None = None
    lang: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    limit: int = 10
    include_duplicates: bool = False
    facet_size: int = 10
    offset: int = 0
    mentioned_from: str | None = None
    mentioned_to: str | None = None
    story: str | None = None

    def entities(self) -> list[tuple[str, str]]:
        """Return the entity filters as (kind, name) pairs."""
        return [(kind, name) for kind in ENTITY_KINDS for name in getattr(self, kind)]


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    quoted: bool
    negated: bool

    def is_operator(self, name: str) -> bool:
        return not self.quoted and not self.negated and self.text == name


def _tokens(query: str) -> list[_Token]:
    out = []
    for match in QUERY_TOKEN.finditer(query):
        if match.group(2) is not None:
            out.append(_Token(match.group(2), True, bool(match.group(1))))
            continue
        # An English possessive asks for the word: "Putin's" finds Putin (and Putin's).
        word = POSSESSIVE.sub("", match.group(0))
        if word.startswith("-") and len(word) > 1:
            out.append(_Token(word[1:], False, True))
        else:
            out.append(_Token(word, False, False))
    return out


def has_word(text: str) -> bool:
    """Return True when the text has a letter or digit (a term of nothing but punctuation matches nothing)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def parse_query(query: str) -> Query:
    """Return the query parsed by the rules in this module's docstring."""
    tokens = _tokens(query)
    groups: list[list[str]] = []
    excluded: list[str] = []
    last_was_positive = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.is_operator("NOT") and following is not None:
            if has_word(following.text):
                excluded.append(following.text)
            last_was_positive = False
            i += 2
            continue
        if token.is_operator("AND") and following is not None and (groups or excluded):
            i += 1
            continue
        if (
            token.is_operator("OR")
            and last_was_positive
            and following is not None
            and not following.negated
            and not following.is_operator("NOT")
            and has_word(following.text)
        ):
            groups[-1].append(following.text)
            i += 2
            continue
        if has_word(token.text):
            if token.negated:
                excluded.append(token.text)
            else:
                groups.append([token.text])
        last_was_positive = has_word(token.text) and not token.negated
        i += 1
    unique_groups = tuple(dict.fromkeys(tuple(dict.fromkeys(g)) for g in groups))
    return Query(unique_groups, tuple(dict.fromkeys(excluded)))


def parse_day(value: str, option: str, end: bool = False) -> str:
    """Return YYYY-MM-DD for a day, month or year (`end`: its last day); raise SearchError naming the option."""
    match = DAY.fullmatch(value.strip())
    problem = "not a day"
    if match:
        year, month, day = int(match[1]), int(match[2] or (12 if end else 1)), match[3]
        try:
            last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
            return date(year, month, int(day) if day else (last if end else 1)).isoformat()
        except ValueError:
            problem = "no such day"
    raise SearchError(
        f"{option} {value!r}: {problem}; give a publication day as YYYY-MM-DD (or a month YYYY-MM, "
        "a year YYYY), in UTC"
    )


def _names(value: Any, option: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else list(value or [])
    names = tuple(" ".join(str(v).split()) for v in values)
    if any(not name for name in names):
        raise SearchError(f"{option} needs a name, got an empty one")
    return names


def search_request(
    query: str,
    filters: dict[str, Any],
    limit: int = 10,
    include_duplicates: bool = False,
    facet_size: int = 10,
    offset: int = 0,
) -> SearchRequest:
    """Return the checked search; raise SearchError (naming the option) for an unusable argument.

    `filters`: person, org, location (a name or a list of names: each must match), source, lang,
    date_from, date_to (YYYY-MM-DD, YYYY-MM or YYYY; inclusive, by publication day in UTC),
    mentioned_from, mentioned_to (the same, for a date the article mentions). `offset`: hits to skip
    (paging); offset + limit stays within MAX_LIMIT, as Elasticsearch's result window does.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
        raise SearchError(
            f"--limit takes a whole number from 0 to {MAX_LIMIT}, got {limit!r} "
            "(`newsdex export` writes every document)"
        )
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_LIMIT - limit:
        raise SearchError(
            f"--offset takes a whole number from 0 to {MAX_LIMIT} minus --limit ({MAX_LIMIT - limit}), "
            f"got {offset!r} (`newsdex export` writes every document)"
        )
    lang = filters.get("lang")
    if lang is not None:
        lang = str(lang).strip().lower()
        if not LANG.fullmatch(lang):
            raise SearchError(f"--lang takes a language code such as en or de (ISO 639-1), got {lang!r}")
    source = filters.get("source")
    if source is not None:
        source = str(source).strip()
        if not source:
            raise SearchError("--source needs a source domain, got an empty one")
    date_from = parse_day(filters["date_from"], "--from") if filters.get("date_from") else None
    date_to = parse_day(filters["date_to"], "--to", end=True) if filters.get("date_to") else None
    if date_from and date_to and date_from > date_to:
        raise SearchError(f"--from {filters['date_from']} is after --to {filters['date_to']}")
    mentioned_from = (
        parse_day(filters["mentioned_from"], "--mentioned-from") if filters.get("mentioned_from") else None
    )
    mentioned_to = (
        parse_day(filters["mentioned_to"], "--mentioned-to", end=True)
        if filters.get("mentioned_to")
        else None
    )
    if mentioned_from and mentioned_to and mentioned_from > mentioned_to:
        raise SearchError(
            f"--mentioned-from {filters['mentioned_from']} is after --mentioned-to {filters['mentioned_to']}"
        )
    return SearchRequest(
        query=parse_query(query or ""),
        person=_names(filters.get("person"), "--person"),
        org=_names(filters.get("org"), "--org"),
        location=_names(filters.get("location"), "--location"),
        source=source,
        lang=lang,
        date_from=date_from,
        date_to=date_to,
        limit=limit,
        include_duplicates=include_duplicates,
        facet_size=facet_size,
        offset=offset,
        mentioned_from=mentioned_from,
        mentioned_to=mentioned_to,
        story=_story(filters.get("story")),
    )


def _story(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        raise SearchError("--story needs a story id (`newsdex stories` lists them), got an empty one")
    return value


def facet_key(value: str) -> str:
    """Return the form facet values are matched by (case-insensitive, as a `lowercase` normalizer does)."""
    return value.lower()


def search_hit(doc: dict[str, Any], score: float | None, snippet: str) -> dict[str, Any]:
    """Return the hit for a contract document: its display fields, raw score and one-line snippet."""
    return {
        "id": doc["id"],
        "rank": 0,
        "score": score,
        "title": doc.get("title"),
        "url": doc.get("canonical_url") or doc.get("url"),
        "source_domain": doc.get("source_domain"),
        "published_at": doc.get("published_at"),
        "language": doc.get("language"),
        "duplicate_of": doc.get("duplicate_of"),
        "copies": (doc.get("copies") or {}).get("count", 0),
        "story_id": doc.get("story_id"),
        "passage_links": doc.get("passage_links") or 0,
        "shared_passages": doc.get("shared_passages") or [],
        "snippet": " ".join(snippet.split()),
    }


def search_result(
    total: int,
    hits: list[dict[str, Any]],
    facets: dict[str, list[list[Any]]],
    offset: int = 0,
    best: float | None = None,
) -> dict[str, Any]:
    """Return {total, hits, facets}: hits ranked offset+1.. with a relative score, facets in FACETS order.

    Raw relevance scores are the engine's own (SQLite's BM25 is near zero for a word most documents
    of a small index have; Elasticsearch's are unbounded): a hit's score is given relative to the
    best hit of the search (1.0), None when the search has no words to rank by. A later page (offset
    above 0) passes `best`, the raw score of the search's first hit, so scores stay relative to it.
    """
    if best is None:
        best = max((abs(h["score"]) for h in hits if h["score"] is not None), default=0.0)
    best = abs(best)
    for rank, hit in enumerate(hits, start=offset + 1):
        hit["rank"] = rank
        if hit["score"] is not None:
            hit["score"] = round(abs(hit["score"]) / best, 3) if best else 1.0
    return {"total": total, "hits": hits, "facets": {name: facets.get(name, []) for name in FACETS}}


def open_reader(data_dir: Path, es_url: str | None, es_index: str = "newsdex") -> Any:
    """Return the configured index opened for reading; raise IndexMissing when there is none yet.

    Reading never creates anything: no index file, no Elasticsearch index or alias.
    """
    if es_url:
        from newsdex.connectors.elastic import ElasticIndex

        return ElasticIndex.open_existing(es_url, es_index)
    from newsdex.connectors.embedded import EmbeddedIndex

    if not (data_dir / "index.sqlite").exists():
        raise IndexMissing(f"no index at {data_dir} yet: run `newsdex run INPUT...` first")
    return EmbeddedIndex(data_dir)
