"""Named entities for faceting: spaCy mentions → clean, canonical names per document and across documents.

Extraction takes an already loaded spaCy pipeline (flows load it once per worker). Canonicalisation:
- within a document, a short mention ("Mr Ryabkov", "Ryabkov") joins the one full name it belongs to;
- across documents, spelling and transliteration variants ("Sergey"/"Sergei Ryabkov", "Rybakov")
  join by fuzzy surname and compatible first name, the most mentioned form winning;
- a curated alias file plus the learned alias table (kept in the run state) map variants such as
  "U.S."/"US"/"United States" to one name.
Junk (dates, numbers, single letters, lower-case tag echoes, headline-only fragments) never gets in.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from rapidfuzz.distance import JaroWinkler
from rapidfuzz.fuzz import ratio

from newsdex.transforms.text import line_key, squash

LABEL_KIND = {
    "PERSON": "person",
    "PER": "person",
    "ORG": "org",
    "GPE": "location",
    "LOC": "location",
    "FAC": "misc",
    "NORP": "misc",
    "EVENT": "misc",
    "LAW": "misc",
    "PRODUCT": "misc",
    "WORK_OF_ART": "misc",
    "MISC": "misc",
}
# Components NER needs; the rest of a pipeline is excluded when loading it.
NER_COMPONENTS = ("tok2vec", "ner")
POSSESSIVE = re.compile(r"[’']s?$")
LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
JUNK = re.compile(r"^[\W\d_]*$|^\w$|\d{3,}|https?:|www\.|@|/", re.UNICODE)
PUNCT_EDGES = " \t\n\"'“”‘’«»„()[]{}.,;:!?-–—*"
# Single words spaCy tags as organisations out of role phrases ("Secretary of State").
GENERIC_ORG_WORDS = frozenset(
    {
        "state",
        "government",
        "ministry",
        "department",
        "office",
        "agency",
        "committee",
        "council",
        "court",
        "party",
        "administration",
        "house",
        "senate",
    }
)
SURNAME_SIMILARITY = 85.0
FIRSTNAME_SIMILARITY = 0.80


@lru_cache(maxsize=1)
def curated_aliases() -> dict[str, dict[str, str]]:
    """Return the curated alias table shipped with the package: kind → folded variant → canonical."""
    data = json.loads(resources.files("newsdex.transforms").joinpath("data/aliases.json").read_text("utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


@lru_cache(maxsize=1)
def role_words() -> frozenset[str]:
    """Return the titles, honorifics and role words stripped from the front of person names."""
    text = resources.files("newsdex.transforms").joinpath("data/roles.txt").read_text("utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


@dataclass(slots=True)
class Mention:
    """One entity mention: kind, surface text cleaned of roles and possessives."""

    kind: str
    text: str


@dataclass(slots=True)
class DocEntities:
    """A document's resolved entities: kind → name → mention count."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


def clean_surface(text: str, kind: str) -> str | None:
    """Return the mention text without possessive, leading article, role words; None if junk."""
    text = squash(text.replace("\n", " ")).strip(PUNCT_EDGES)
    text = POSSESSIVE.sub("", text).strip(PUNCT_EDGES)
    text = LEADING_ARTICLE.sub("", text)
    if kind == "person":
        tokens = text.split()
        roles = role_words()
        while tokens and tokens[0].lower().strip(".") in roles:
            tokens.pop(0)
        text = " ".join(tokens)
    if not text or JUNK.search(text) or text == text.lower() or len(text) > 80:
        return None
    if kind == "org" and text.lower() in GENERIC_ORG_WORDS:
        return None
    return text


def mentions_from_spacy(doc: Any) -> list[Mention]:
    """Return the mentions of a processed spaCy Doc, with role-prefixed spans repaired.

    The small English model often labels "Kremlin Spokesperson Dmitry" as an ORG and "Peskov" as
    a PERSON right after it; a span whose last tokens follow a role word and that touches a PERSON
    span is joined to it as one person.
    """
    ents = list(doc.ents)
    roles = role_words()
    out: list[Mention] = []
    i = 0
    while i < len(ents):
        ent = ents[i]
        kind = LABEL_KIND.get(ent.label_)
        tokens = [t.text for t in ent]
        role_at = max((j for j, t in enumerate(tokens) if t.lower().strip(".") in roles), default=-1)
        nxt = ents[i + 1] if i + 1 < len(ents) else None
        if (
            kind == "org"
            and 0 <= role_at < len(tokens) - 1
            and nxt is not None
            and nxt.label_ in ("PERSON", "PER")
            and nxt.start == ent.end
        ):
            name = clean_surface(" ".join(tokens[role_at + 1 :]) + " " + nxt.text, "person")
            if name:
                out.append(Mention("person", name))
            i += 2
            continue
        if kind:
            name = clean_surface(ent.text, kind)
            if name:
                out.append(Mention(kind, name))
        i += 1
    return out


def _fold(name: str) -> str:
    return line_key(name)


def resolve_document(body_mentions: Iterable[Mention], title_mentions: Iterable[Mention] = ()) -> DocEntities:
    """Return a document's entities: short person mentions joined to their full name, title-only fragments dropped.

    A name seen only in the headline (Title Case fragments such as "Hardball Rhetoric") is not kept
    unless the body mentions it too.
    """
    result = DocEntities()
    body = list(body_mentions)
    body_keys = {_fold(m.text) for m in body}
    mentions = body + [m for m in title_mentions if _fold(m.text) in body_keys]
    kind_votes: dict[str, Counter[str]] = defaultdict(Counter)
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    for m in mentions:
        key = _fold(m.text)
        kind_votes[key][m.kind] += 1
        surface[key][m.text] += 1
    # One kind per name within a document: the majority label (spaCy flips labels between mentions).
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    curated = curated_aliases()
    for key, votes in kind_votes.items():
        kind = votes.most_common(1)[0][0]
        # The curated table doubles as a gazetteer: "Kiev" tagged PERSON is still a place.
        if key not in curated.get(kind, {}):
            kind = next((k for k in ("location", "org") if key in curated.get(k, {})), kind)
        by_kind[kind][surface[key].most_common(1)[0][0]] += sum(votes.values())
    persons = by_kind.get("person", Counter())
    full = [n for n in persons if len(n.split()) >= 2]
    for name in [n for n in persons if len(n.split()) == 1]:
        folded = _fold(name)
        owners = [f for f in full if _fold(f.split()[-1]) == folded]
        if not owners:
            # Family name first (Kim Jong-un → "Kim") when no full name ends with the word.
            owners = [f for f in full if _fold(f.split()[0]) == folded]
        if len(owners) == 1:
            persons[owners[0]] += persons.pop(name)
            continue
        if len(owners) > 1:
            # Two people share the surname (brothers, a couple): the bare surname is ambiguous.
            persons.pop(name)
            continue
        fuzzy = [f for f in full if ratio(_fold(f.split()[-1]), folded) >= SURNAME_SIMILARITY]
        if len(fuzzy) == 1:
            # A variant spelling of a full name's surname ("Ryabkov" beside "Sergei Rybakov"): keep the
            # spelling as its own vote, under the same first name, for the cross-document choice.
            persons[" ".join([*fuzzy[0].split()[:-1], name])] += persons.pop(name)
        elif len(fuzzy) > 1:
            persons.pop(name)
    for kind, counter in by_kind.items():
        result.counts[kind] = counter
    return result


def _same_person(a: str, b: str) -> bool:
    """Return True when two full names are spelling/transliteration variants of one person."""
    ta, tb = _fold(a).split(), _fold(b).split()
    if len(ta) < 2 or len(tb) < 2:
        return False
    if ratio(ta[-1], tb[-1]) < SURNAME_SIMILARITY:
        return False
    first_a, first_b = ta[0], tb[0]
    if len(first_a) == 1 or len(first_b) == 1:
        return first_a[0] == first_b[0]
    return JaroWinkler.similarity(first_a, first_b) >= FIRSTNAME_SIMILARITY


def _group_head(group: list[str], counter: Counter[str]) -> str:
    """Return the group's canonical form: the majority surname spelling, then first name, then count."""
    surnames: Counter[str] = Counter()
    firsts: Counter[str] = Counter()
    for name in group:
        tokens = _fold(name).split()
        surnames[tokens[-1]] += counter[name]
        firsts[tokens[0]] += counter[name]
    return max(
        group, key=lambda n: (surnames[_fold(n).split()[-1]], firsts[_fold(n).split()[0]], counter[n], n)
    )


def canonicalise(
    docs: list[DocEntities], aliases: Mapping[str, Mapping[str, str]]
) -> tuple[list[dict[str, list[str]]], list[dict[str, int]], dict[str, dict[str, str]]]:
    """Return per-document canonical entity lists and mention counts, and the aliases learned.

    `aliases` is kind → folded variant → canonical (curated merged with learned). Person names
    not in it are grouped across the batch by `_same_person`; each group takes the name the alias
    table already knows, else its most mentioned form, so facets stay stable from run to run.
    """
    learned: dict[str, dict[str, str]] = defaultdict(dict)
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for d in docs:
        for kind, counter in d.counts.items():
            totals[kind].update(counter)

    mapping: dict[str, dict[str, str]] = defaultdict(dict)
    for kind, counter in totals.items():
        known = aliases.get(kind, {})
        pending: list[str] = []
        for name in counter:
            canonical = known.get(_fold(name))
            if canonical:
                mapping[kind][name] = canonical
            else:
                pending.append(name)
        if kind == "person":
            known_canonicals = sorted(set(known.values()))
            groups: list[list[str]] = []
            for name in sorted(pending, key=lambda n: -counter[n]):
                target = next((g for g in groups if _same_person(g[0], name)), None)
                if target is None:
                    match = next((c for c in known_canonicals if _same_person(c, name)), None)
                    if match:
                        mapping[kind][name] = match
                        learned[kind][_fold(name)] = match
                        continue
                    groups.append([name])
                else:
                    target.append(name)
            for group in groups:
                head = _group_head(group, counter)
                for name in group:
                    mapping[kind][name] = head
                    if name != head:
                        learned[kind][_fold(name)] = head
                learned[kind].setdefault(_fold(head), head)
        else:
            for name in pending:
                mapping[kind][name] = name

    entities: list[dict[str, list[str]]] = []
    counts: list[dict[str, int]] = []
    for d in docs:
        per_kind: dict[str, list[str]] = {k: [] for k in ("person", "org", "location", "misc")}
        per_count: Counter[str] = Counter()
        for kind, counter in d.counts.items():
            merged: Counter[str] = Counter()
            for name, n in counter.items():
                merged[mapping[kind].get(name, name)] += n
            per_kind[kind] = [name for name, _ in merged.most_common()]
            for name, n in merged.items():
                per_count[f"{kind}:{name}"] += n
        entities.append(per_kind)
        counts.append(dict(per_count))
    return entities, counts, {k: dict(v) for k, v in learned.items()}
