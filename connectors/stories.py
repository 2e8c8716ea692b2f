"""Stories read back from either index: related articles, one story, the largest stories of a period.

Both backends give the same primitives (`get`, `story_df`, `story_candidates`, `story_merges`,
`story_documents`, `story_sizes`); the scoring here is transforms/stories.py's, so `related` scores
the same on the embedded index and on Elasticsearch.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from newsdex.transforms.stories import MAX_CANDIDATES, explain, rare_terms, resolve, similarity, vector

# Related articles are looked up through more of a document's rare terms than story assignment uses:
# a reader asking for the related articles wants the weaker links too.
RELATED_LOOKUP_TERMS = 30


class UnknownDocument(LookupError):
    """No document with this id in the index."""


def _terms_of(index: Any, doc: dict[str, Any]) -> list[str]:
    if doc.get("duplicate_of"):
        canonical = index.get([doc["duplicate_of"]]).get(doc["duplicate_of"])
        if canonical:
            return canonical.get("story_terms") or []
    return doc.get("story_terms") or []


def related(index: Any, doc_id: str, limit: int = 10) -> dict[str, Any]:
    """Return {"id", "story_id", "related": [{id, score, story_id, title, source, why}]}, best first."""
    doc = index.get([doc_id]).get(doc_id)
    if doc is None:
        raise UnknownDocument(f"no document with id {doc_id!r} in the index")
    terms = _terms_of(index, doc)
    n_docs, df = index.story_df(terms)
    lookup = rare_terms(terms, df, RELATED_LOOKUP_TERMS, min_df=1 if doc.get("duplicate_of") else 2)
    wanted = max(limit + 2, MAX_CANDIDATES)  # room for the document's own copies among them
    found = index.story_candidates([(doc_id, lookup, None, None)], days=None, limit=wanted).get(doc_id, [])
    skip = {doc_id, doc.get("duplicate_of")}
    found = [c for c in found if c["id"] not in skip]
    n_docs, df = index.story_df({t for c in found for t in c["story_terms"] or []} | set(terms))
    mine = vector(terms, df, n_docs)
    scored = []
    for other in found:
        theirs = vector(other["story_terms"] or [], df, n_docs)
        score = similarity(mine, theirs)
        if score > 0:
            scored.append((score, other, theirs))
    scored.sort(key=lambda s: (-s[0], s[1]["id"]))
    top = scored[:limit]
    details = index.get([other["id"] for _, other, _ in top])
    merges = index.story_merges([other["story_id"] for _, other, _ in top if other.get("story_id")])
    out = []
    for score, other, theirs in top:
        full = details.get(other["id"], other)
        out.append(
            {
                "id": other["id"],
                "score": round(score, 4),
                "story_id": resolve(other["story_id"], merges) if other.get("story_id") else None,
                "title": full.get("title"),
                "source": full.get("source_domain"),
                "why": explain(doc, full, mine, theirs),
            }
        )
    return {"id": doc_id, "story_id": doc.get("story_id"), "related": out}


def pair_score(index: Any, first: str, second: str) -> float:
    """Return the story score of two indexed documents (0 when either is missing or has no terms)."""
    docs = index.get([first, second])
    if first not in docs or second not in docs:
        return 0.0
    a, b = _terms_of(index, docs[first]), _terms_of(index, docs[second])
    n_docs, df = index.story_df(set(a) | set(b))
    return similarity(vector(a, df, n_docs), vector(b, df, n_docs))


def resolve_story(index: Any, story_id: str) -> str:
    """Return the story an id stands for now (an id merged into another resolves to it)."""
    return resolve(story_id, _merge_chain(index, story_id))


def _merge_chain(index: Any, story_id: str) -> dict[str, str]:
    chain: dict[str, str] = {}
    current = story_id
    while current not in chain:
        step = index.story_merges([current]).get(current)
        if not step:
            break
        chain[current] = step
        current = step
    return chain


def story(index: Any, story_id: str) -> dict[str, Any]:
    """Return one story: its id (resolved), members (oldest first), outlets, dates and top entities."""
    resolved = resolve_story(index, story_id)
    return summarise(resolved, index.story_documents(resolved), asked=story_id)


def summarise(story_id: str, docs: list[dict[str, Any]], asked: str | None = None) -> dict[str, Any]:
    """Return the summary of a story from its documents."""
    dates = sorted(d["sort_date"] for d in docs if d.get("sort_date"))
    entities: Counter[str] = Counter()
    for doc in docs:
        if doc.get("duplicate_of"):
            continue
        for kind in ("person", "org", "location"):
            entities.update(f"{name} ({kind})" for name in (doc.get("entities") or {}).get(kind) or [])
    out: dict[str, Any] = {
        "story_id": story_id,
        "documents": len(docs),
        "outlets": sorted({d["source_domain"] for d in docs if d.get("source_domain")}),
        "first_seen": dates[0] if dates else None,
        "last_seen": dates[-1] if dates else None,
        "top_entities": [name for name, _ in sorted(entities.items(), key=lambda e: (-e[1], e[0]))[:5]],
        "members": [
            {
                "id": d["id"],
                "title": d.get("title"),
                "source": d.get("source_domain"),
                "sort_date": d.get("sort_date"),
                "duplicate_of": d.get("duplicate_of"),
            }
            for d in docs
        ],
    }
    if asked and asked != story_id:
        out["merged_from"] = asked
    return out


def stories(index: Any, date_from: str | None, date_to: str | None, limit: int) -> list[dict[str, Any]]:
    """Return the largest stories with a document dated in the period (both ends included), largest first."""
    return [
        summarise(sid, index.story_documents(sid)) for sid, _ in index.story_sizes(date_from, date_to, limit)
    ]


# `search --by-story` looks at this many hits per story asked for (at least BY_STORY_MIN) to fill the
# page with distinct stories.
BY_STORY_FACTOR = 20
BY_STORY_MIN = 200


def search_by_story(
    index: Any, query: str, filters: dict[str, Any], limit: int, include_duplicates: bool = False
) -> dict[str, Any]:
    """Return the search with one hit per story (its best-ranked member), each with the story's
    outlets and its other members' titles and sources; `total` counts hits, `stories` the stories."""
    from newsdex.connectors.hits import MAX_LIMIT

    if getattr(index, "collapses", False):
        # Elasticsearch: one request, collapsed on story_id by the server (every indexed document
        # has one: the story stage gives each canonical a story and each copy its canonical's).
        result = index.search(
            query, filters, limit=limit, include_duplicates=include_duplicates, collapse="story_id"
        )
        hits, stories = result["hits"], result.get("groups", len(result["hits"]))
    else:
        # Embedded: the best-ranked hit of each story among the first `wide` hits.
        wide = min(MAX_LIMIT, max(limit * BY_STORY_FACTOR, BY_STORY_MIN))
        result = index.search(query, filters, limit=wide, include_duplicates=include_duplicates)
        seen: dict[str, dict[str, Any]] = {}
        for hit in result["hits"]:
            key = hit.get("story_id") or hit["id"]
            if key not in seen:
                seen[key] = hit
        hits, stories = list(seen.values())[:limit], len(seen)
    for rank, hit in enumerate(hits, start=1):
        hit["rank"] = rank
        members = index.story_documents(hit["story_id"]) if hit.get("story_id") else []
        others = [m for m in members if m["id"] != hit["id"]]
        hit["story"] = {
            "documents": len(members) or 1,
            "outlets": len({m["source_domain"] for m in members if m.get("source_domain")}),
            "others": [
                {"id": m["id"], "title": m.get("title"), "source": m.get("source_domain")} for m in others
            ],
        }
    return {"total": result["total"], "stories": stories, "hits": hits, "facets": result["facets"]}
