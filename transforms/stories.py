"""Stories: documents that report the same event share a `story_id`.

A document is described by the words of its title and lead (the first LEAD_WORDS words of the
body), case and accents folded, stop words of the common languages left out, and each word cut to
its first STEM_CHARS characters (a crude, language-independent stem: "missiles" and "missile",
"Regierung" and "Regierungen" meet; names and numbers, the signals that cross languages, stay as
they are written), and by the canonical names of the people and organisations it names (the
entity stage's names, from the whole body: "Sergei Rybakov" in one report and "Sergey Ryabkov" in
another are one name there), kept as terms of their own (ENTITY_PREFIX + the folded name). Two
documents are compared by the cosine of their TF-IDF vectors over the words, with document
frequencies from the index; when both documents carry names, the cosine of their name vectors
counts too, with weight ENTITY_WEIGHT (a document without names — a language without an NER
model — is missing evidence, not a mismatch). The score is the square root — cosines of related
news are small and skewed, and the root spreads them over [0, 1] roughly linearly with human
judgement.

The parameters (LEAD_WORDS, STEM_CHARS, the root, SAME_STORY, ENTITY_KINDS, ENTITY_WEIGHT) were
chosen on the SemEval-2022 Task 8 training pairs (docs/quality.md says how); they are few and
generic on purpose.

Candidates come from the index, never from all pairs: the LOOKUP_TERMS rarest terms of a document
(names among them) are looked up in an inverted index (terms → documents), among documents that
can have been published within STORY_DAYS of it (`time_gap`: a document without a publication
date can have been published at any time up to when it was first seen).
A document joins the story of its most similar candidate scoring SAME_STORY or more; when it
scores that high with members of two stories whose spans (`Span`: what their members' dates say)
can lie within STORY_DAYS of each other (`story_group`), they are one story: the merge keeps the
older id (the smaller one, so every order of work keeps the same) and the other is recorded to
resolve to it. A document joins a story only within STORY_DAYS of its span, not of one member.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
# Canonical names of these kinds are story evidence (places and other names are shared by too many
# unrelated reports: on SemEval they lowered precision), weighing this much beside the words.
ENTITY_KINDS = ("person", "org")
ENTITY_WEIGHT = 0.05
# A name term: this prefix and the folded name (story words are folded too, and never hold it).
ENTITY_PREFIX = "@"
# Stop words of these languages are left out (spaCy's lists, a data file of the installed package).
STOPWORD_LANGUAGES = ("en", "de", "es", "fr", "it", "nl", "pt", "pl", "tr", "ru", "ar")
DIGITS = re.compile(r"^\d+$")
# Every document frequency counts this many background texts of PRIOR_WORDS words too (a title and a
# lead), with each term's count from general word frequencies (transforms/data/story_prior.tsv,
# built by benchmarks/story_prior.py): a small index then still knows common words from rare ones.
PRIOR_DOCS = 100
PRIOR_WORDS = LEAD_WORDS + 10


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


@cache
def prior() -> dict[str, float]:
    """Return the background document count of each story term (transforms/data/story_prior.tsv;
    a term not in it has 0), loaded once per process."""
    from importlib import resources

    text = resources.files("newsdex.transforms").joinpath("data/story_prior.tsv").read_text("utf-8")
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            term, count = line.split("\t")
            out[term] = float(count)
    return out


def story_terms(
    title: str | None, body: str, entities: Mapping[str, Iterable[str]] | None = None
) -> list[str]:
    """Return the story terms of a document (one entry per occurrence, sorted): title and lead words,
    folded, without stop words, cut to STEM_CHARS characters (numbers whole); and one name term per
    canonical name of ENTITY_KINDS (`entities`: kind -> names, as the entity stage gives them)."""
    stop = stop_words()
    tokens = line_key(title or "").split() + line_key(body).split()[:LEAD_WORDS]
    out = []
    for token in tokens:
        if len(token) < 2 or token in stop:
            continue
        out.append(token if DIGITS.match(token) else token[:STEM_CHARS])
    names = {line_key(n) for kind in ENTITY_KINDS for n in (entities or {}).get(kind) or []}
    out += [ENTITY_PREFIX + name for name in names if name]
    return sorted(out)


def is_name(term: str) -> bool:
    """Return whether a story term is a canonical name (not a word)."""
    return term.startswith(ENTITY_PREFIX)


def rare_terms(
    terms: Iterable[str], df: Mapping[str, int], limit: int = LOOKUP_TERMS, min_df: int = 1
) -> list[str]:
    """Return the `limit` distinct terms with the lowest document frequency of at least `min_df`
    (ties by the term): the rarest terms some other document has, the ones that find its story.
    A term no other document has finds nothing, so `min_df` is 1 when `df` counts other documents,
    2 when it counts this one too."""
    known = [t for t in set(terms) if df.get(t, 0) >= min_df]
    return sorted(known, key=lambda t: (df.get(t, 0), t))[:limit]


class Vector(dict[str, float]):
    """A story vector (term -> weight: its words, then its names), and whether it has names."""

    __slots__ = ("named",)

    def __init__(self) -> None:
        super().__init__()
        self.named = False


def vector(terms: Iterable[str], df: Mapping[str, int], n_docs: int) -> Vector:
    """Return the TF-IDF vector of the terms (log tf, smoothed idf; a term unseen has df 0), its
    words and its names each of unit length. Document frequencies count PRIOR_DOCS background texts
    too (`prior`; names have none there)."""
    words: dict[str, float] = {}
    names: dict[str, float] = {}
    background = prior()
    total = n_docs + PRIOR_DOCS + 1
    for t, n in Counter(terms).items():
        w = (1 + math.log(n)) * math.log(total / (df.get(t, 0) + background.get(t, 0.0) + 1))
        if w > 0:
            (names if t[:1] == ENTITY_PREFIX else words)[t] = w
    out = Vector()
    for part in (words, names):
        norm = math.sqrt(sum(w * w for w in part.values())) or 1.0
        out.update((t, w / norm) for t, w in part.items())
    out.named = bool(names)
    return out


def _named(v: Mapping[str, float]) -> bool:
    named = getattr(v, "named", None)
    return any(map(is_name, v)) if named is None else named


def similarity(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Return the story score of two vectors, in [0, 1]: the square root of the cosine of their
    words, or, when both have names, of (1 - ENTITY_WEIGHT) x that + ENTITY_WEIGHT x the names' cosine."""
    if len(a) > len(b):
        a, b = b, a
    words = names = 0.0
    # The prefix test inline (not `is_name`): this loop runs for every candidate pair.
    for t, w in a.items():
        other = b.get(t)
        if other is None:
            continue
        if t[:1] == ENTITY_PREFIX:
            names += w * other
        else:
            words += w * other
    cosine = words
    if _named(a) and _named(b):
        cosine = (1 - ENTITY_WEIGHT) * words + ENTITY_WEIGHT * names
    return math.sqrt(min(max(cosine, 0.0), 1.0))


def new_story_id(doc_id: str) -> str:
    """Return the id of a story a document founds (derived from its id: reruns give the same)."""
    return "s" + short_hash(doc_id, 16)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=None) - (moment.utcoffset() or timedelta(0))  # naive UTC


def days_apart(a: str | None, b: str | None) -> float | None:
    """Return the days between two ISO times (None when one is unknown)."""
    first, second = _moment(a), _moment(b)
    if first is None or second is None:
        return None
    return abs((first - second).total_seconds()) / 86400


# What the dates say about when a story (or a document) was published: the first and last
# publication date of its dated members, and the earliest time one of its undated members was seen
# (an undated document was published at some time until then). None where nothing says.
Span = tuple[str | None, str | None, str | None]


def doc_span(seen: str | None, published: str | None) -> Span:
    """Return the span of one document: its publication date, else the time it was first seen as a bound."""
    return (published, published, None) if published else (None, None, seen)


def join_spans(*spans: Span | None) -> Span:
    """Return the span of the stories together."""
    known = [s for s in spans if s]

    def pick(i: int, choose: Any) -> str | None:
        values = [s[i] for s in known if s[i]]
        return choose(values, key=lambda v: _moment(v) or datetime.min) if values else None

    return (pick(0, min), pick(1, max), pick(2, min))


def span_gap(a: Span | None, b: Span | None) -> float:
    """Return the fewest days that can lie between the publications of two spans (0 when they can meet):
    a dated member of one after the other's last dated member or before its first, or after the
    time an undated member of the other was already seen."""
    if not a or not b:
        return 0.0
    gaps = [0.0]
    for x, y in ((a, b), (b, a)):
        x_first = _moment(x[0])
        if x_first is None:
            continue
        for bound in (y[1], y[2]):  # y's last publication, y's undated bound
            moment = _moment(bound)
            if moment is not None:
                gaps.append((x_first - moment).total_seconds() / 86400)
    return max(gaps)


def time_gap(
    a_seen: str | None, a_published: str | None, b_seen: str | None, b_published: str | None
) -> float:
    """Return the fewest days that can lie between the publication of two documents.

    A publication date is a point in time. A document without one (its `sort_date` is when it was
    first seen) can have been published at any time up to then: an unknown date is missing
    evidence, not evidence of distance, but a document seen in 2022 cannot report a 2026 event.
    Mentioned dates bound nothing (a report mentions history and appointments to come) and are
    not used. 0 when the two can be simultaneous.
    """
    return span_gap(doc_span(a_seen, a_published), doc_span(b_seen, b_published))


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
    shared = sorted((t for t in va if t in vb and not is_name(t)), key=lambda t: (-va[t] * vb[t], t))[:10]
    # Days between the publication dates; unknown (None) when either document has none.
    days = days_apart(a.get("published_at"), b.get("published_at"))
    return {
        "shared_entities": shared_entities,
        "shared_terms": shared,
        "days_apart": None if days is None else round(days, 1),
    }


@dataclass(slots=True)
class Member:
    """A document as story assignment sees it: id, story, terms, dates (`sort_date`: its publication
    date, else when it was first seen; `published_at`: None when unknown)."""

    id: str
    story_id: str
    terms: list[str]
    sort_date: str | None = None
    published_at: str | None = None


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


def story_group(order: list[str], spans: Mapping[str, Span], days: float = STORY_DAYS) -> list[str]:
    """Return the stories of `order` (the document's own or best story first, then the others it
    matches) that are one story: each joins when its span can lie within `days` of the stories joined
    so far. A document without a date can match two reports a year apart (an early warning and the
    event itself): those are two stories, not one, and it joins the first only."""
    group = [order[0]]
    joined = spans.get(order[0])
    for story in order[1:]:
        if story not in group and span_gap(joined, spans.get(story)) <= days:
            group.append(story)
            joined = join_spans(joined, spans.get(story))
    return group


def assign_stories(
    batch: list[Member],
    candidates: Mapping[str, list[Member]],
    df: Mapping[str, int],
    n_docs: int,
    days: float = STORY_DAYS,
    spans: Mapping[str, Span] | None = None,
) -> Assignment:
    """Return the story of each batch document (given in order) and the merges it implies.

    `candidates[id]` are indexed documents found for it (with their current story ids); earlier
    documents of the batch are candidates of the later ones through an in-memory inverted index.
    `spans` are the indexed stories' spans (`Span`: what their members' dates say): a document joins
    a story it can have been published within `days` of, and two stories it matches are one when
    their spans can be that close (`story_group`). A document whose best match scores under
    SAME_STORY founds its own story.
    """
    result = Assignment()
    known: dict[str, Span] = dict(spans or {})
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
            if time_gap(doc.sort_date, doc.published_at, m.sort_date, m.published_at) > days:
                continue
            score = similarity(mine, vec(m))
            if score >= SAME_STORY:
                story = resolve(result.stories.get(m.id, m.story_id), result.merges)
                known[story] = join_spans(known.get(story), doc_span(m.sort_date, m.published_at))
                matched[story] = max(score, matched.get(story, 0.0))
        own = doc_span(doc.sort_date, doc.published_at)
        order = sorted(
            (story for story in matched if span_gap(own, known.get(story)) <= days),
            key=lambda story: (-matched[story], story),
        )
        if order:
            group = story_group(order, known, days)
            keep = min(group)
            for other in group:
                if other != keep:
                    result.merges[other] = keep
            for absorbed, kept in list(result.merges.items()):
                result.merges[absorbed] = resolve(kept, result.merges)
            known[keep] = join_spans(own, *(known.get(story) for story in group))
            result.stories[doc.id] = keep
            result.scores[doc.id] = matched[order[0]]
        else:
            result.stories[doc.id] = doc.story_id or new_story_id(doc.id)
            known[result.stories[doc.id]] = join_spans(known.get(result.stories[doc.id]), own)
        doc.story_id = result.stories[doc.id]
        for term in set(doc.terms):
            posting.setdefault(term, []).append(doc)
    for doc_id, story in list(result.stories.items()):
        result.stories[doc_id] = resolve(story, result.merges)
    return result
