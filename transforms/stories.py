"""Stories: documents that report the same event share a `story_id`.

A document is described by the words of its title and lead (the first LEAD_WORDS words of the
body), case and accents folded, stop words of the common languages left out, and each word cut to
its first STEM_CHARS characters (a crude, language-independent stem: "missiles" and "missile",
"Regierung" and "Regierungen" meet; names and numbers, the signals that cross languages, stay as
they are written). Two documents are compared by the cosine of their TF-IDF vectors over these
terms, with document frequencies from the index, and the score is its square root — cosines of
related news are small and skewed, and the root spreads them over [0, 1] roughly linearly with
human judgement.

The parameters (LEAD_WORDS, STEM_CHARS, the root, SAME_STORY) were chosen on the SemEval-2022 Task 8
training pairs (docs/quality.md says how); they are few and generic on purpose.

Candidates come from the index, never from all pairs: the LOOKUP_TERMS rarest terms of a document
are looked up in an inverted index (terms → documents), within STORY_DAYS of the document's date.
A document joins the story of its most similar candidate scoring SAME_STORY or more; when it
scores that high with members of two stories, they are one story: the merge keeps the older id
(the smaller one, so every order of work keeps the same) and the other is recorded to resolve to it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from newsdex.transforms.text import line_key, short_hash

LEAD_WORDS = 150
STEM_CHARS = 5
# Score (square root of the cosine) from which two documents report the same event.
SAME_STORY = 0.40
# Coverage of one event spans days, not years: candidates are looked up this many days either side.
STORY_DAYS = 7
# The rarest terms of a document are enough to find its candidates (an inverted lookup).
LOOKUP_TERMS = 12
MAX_CANDIDATES = 20
# A small index says little about which words are rare: document frequencies count as if among at
# least this many documents (a term in 4 of 5 documents is still distinctive news vocabulary).
MIN_CORPUS = 1000
# Stop words of these languages are left out (spaCy's lists, a data file of the installed package).
STOPWORD_LANGUAGES = ("en", "de", "es", "fr", "it", "nl", "pt", "pl", "tr", "ru", "ar")
DIGITS = re.compile(r"^\d+$")


@cache
def stop_words() -> frozenset[str]:
    """Return the folded stop words of STOPWORD_LANGUAGES (loaded once per process).

    Each list is spaCy's `spacy/lang/XX/stop_words.py`, a module of plain sets with no imports, read
    as it is: importing it through `spacy.lang.XX` would first import spaCy and that language's
    tokenizer rules (French alone compiles thousands of regexes; seconds of the flow's CPU per run).
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("spacy")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    lang_dir = Path(next(iter(spec.submodule_search_locations))) / "lang"
    found: set[str] = set()
    for lang in STOPWORD_LANGUAGES:
        path = lang_dir / lang / "stop_words.py"
        module_spec = importlib.util.spec_from_file_location(f"_newsdex_stop_words_{lang}", path)
        if module_spec is None or module_spec.loader is None or not path.exists():
            continue
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)  # this file alone, not its package
        found.update(line_key(w) for w in module.STOP_WORDS)
    return frozenset(found)


def story_terms(title: str | None, body: str) -> list[str]:
    """Return the story terms of a document (one entry per occurrence, sorted): title and lead words,
    folded, without stop words, cut to STEM_CHARS characters (numbers whole)."""
    stop = stop_words()
    tokens = line_key(title or "").split() + line_key(body).split()[:LEAD_WORDS]
    out = []
    for token in tokens:
        if len(token) < 2 or token in stop:
            continue
        out.append(token if DIGITS.match(token) else token[:STEM_CHARS])
    return sorted(out)


def rare_terms(
    terms: Iterable[str], df: Mapping[str, int], limit: int = LOOKUP_TERMS, min_df: int = 1
) -> list[str]:
    """Return the `limit` distinct terms with the lowest document frequency of at least `min_df`
    (ties by the term): the rarest terms some other document has, the ones that find its story.
    A term no other document has finds nothing, so `min_df` is 1 when `df` counts other documents,
    2 when it counts this one too."""
    known = [t for t in set(terms) if df.get(t, 0) >= min_df]
    return sorted(known, key=lambda t: (df.get(t, 0), t))[:limit]


def vector(terms: Iterable[str], df: Mapping[str, int], n_docs: int) -> dict[str, float]:
    """Return the unit TF-IDF vector of the terms (log tf, smoothed idf; a term unseen has df 0)."""
    counts = Counter(terms)
    weights = {t: (1 + math.log(n)) * math.log((n_docs + 1) / (df.get(t, 0) + 1)) for t, n in counts.items()}
    norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
    return {t: w / norm for t, w in weights.items() if w > 0}


def similarity(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Return the story score of two unit vectors: the square root of their cosine, in [0, 1]."""
    if len(a) > len(b):
        a, b = b, a
    cosine = sum(w * b.get(t, 0.0) for t, w in a.items())
    return math.sqrt(min(max(cosine, 0.0), 1.0))


def new_story_id(doc_id: str) -> str:
    """Return the id of a story a document founds (derived from its id: reruns give the same)."""
    return "s" + short_hash(doc_id, 16)


def days_apart(a: str | None, b: str | None) -> float | None:
    """Return the days between two ISO times (None when one is unknown)."""
    if not a or not b:
        return None
    try:
        first = datetime.fromisoformat(a.replace("Z", "+00:00"))
        second = datetime.fromisoformat(b.replace("Z", "+00:00"))
    except ValueError:
        return None
    if (first.tzinfo is None) != (second.tzinfo is None):
        first, second = first.replace(tzinfo=None), second.replace(tzinfo=None)
    return abs((first - second).total_seconds()) / 86400


def explain(
    a: Mapping[str, Any], b: Mapping[str, Any], va: Mapping[str, float], vb: Mapping[str, float]
) -> dict[str, Any]:
    """Return why two documents (contract dicts) are alike: shared entities, top shared terms, days apart."""
    shared_entities = {}
    for kind, names in (a.get("entities") or {}).items():
        other = set((b.get("entities") or {}).get(kind) or [])
        both = sorted(n for n in names if n in other)
        if both:
            shared_entities[kind] = both
    shared = sorted((t for t in va if t in vb), key=lambda t: (-va[t] * vb[t], t))[:10]
    days = days_apart(a.get("sort_date"), b.get("sort_date"))
    return {
        "shared_entities": shared_entities,
        "shared_terms": shared,
        "days_apart": None if days is None else round(days, 1),
    }


@dataclass(slots=True)
class Member:
    """A document as story assignment sees it: id, story, terms, date."""

    id: str
    story_id: str
    terms: list[str]
    sort_date: str | None = None


@dataclass(slots=True)
class Assignment:
    """What story assignment decided for a batch."""

    stories: dict[str, str] = field(default_factory=dict)  # doc id -> story id
    merges: dict[str, str] = field(default_factory=dict)  # absorbed story id -> kept story id
    scores: dict[str, float] = field(default_factory=dict)  # doc id -> best score of its join


def resolve(story_id: str, merges: Mapping[str, str]) -> str:
    """Return the story an id stands for now, following recorded merges."""
    seen = set()
    while story_id in merges and story_id not in seen:
        seen.add(story_id)
        story_id = merges[story_id]
    return story_id


def assign_stories(
    batch: list[Member],
    candidates: Mapping[str, list[Member]],
    df: Mapping[str, int],
    n_docs: int,
    days: float = STORY_DAYS,
) -> Assignment:
    """Return the story of each batch document (given in order) and the merges it implies.

    `candidates[id]` are indexed documents found for it (with their current story ids); earlier
    documents of the batch are candidates of the later ones through an in-memory inverted index.
    A document whose best match scores under SAME_STORY founds its own story.
    """
    result = Assignment()
    vectors: dict[str, dict[str, float]] = {}
    posting: dict[str, list[Member]] = {}

    def vec(member: Member) -> dict[str, float]:
        if member.id not in vectors:
            vectors[member.id] = vector(member.terms, df, n_docs)
        return vectors[member.id]

    for doc in batch:
        mine = vec(doc)
        pool: dict[str, Member] = {m.id: m for m in candidates.get(doc.id, []) if m.id != doc.id}
        # Earlier documents of the batch, through a small in-memory index and the same rare terms
        # (df counts this document too here, hence min_df 2).
        shared: Counter[str] = Counter()
        earlier: dict[str, Member] = {}
        for term in rare_terms(doc.terms, df, min_df=2):
            for m in posting.get(term, []):
                shared[m.id] += 1
                earlier[m.id] = m
        for m_id, _ in shared.most_common(MAX_CANDIDATES):
            pool.setdefault(m_id, earlier[m_id])
        matched: dict[str, float] = {}
        for m in pool.values():
            apart = days_apart(doc.sort_date, m.sort_date)
            if apart is not None and apart > days:
                continue
            score = similarity(mine, vec(m))
            if score >= SAME_STORY:
                story = resolve(result.stories.get(m.id, m.story_id), result.merges)
                matched[story] = max(score, matched.get(story, 0.0))
        if matched:
            keep = min(matched)
            for other in matched:
                if other != keep:
                    result.merges[other] = keep
            for absorbed, kept in list(result.merges.items()):
                result.merges[absorbed] = resolve(kept, result.merges)
            result.stories[doc.id] = keep
            result.scores[doc.id] = max(matched.values())
        else:
            result.stories[doc.id] = doc.story_id or new_story_id(doc.id)
        doc.story_id = result.stories[doc.id]
        for term in set(doc.terms):
            posting.setdefault(term, []).append(doc)
    for doc_id, story in list(result.stories.items()):
        result.stories[doc_id] = resolve(story, result.merges)
    return result
