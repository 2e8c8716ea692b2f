"""Shared passages (text reuse): a sentence or paragraph that another document also carries.

A passage is a paragraph, or a sentence, of at least MIN_WORDS words. Its words are folded (case,
accents, punctuation: `line_key`) and it is looked up by KEY_WORDS-word keys taken at its start, its
end and its middle (a passage quoted with a word changed, its punctuation or case edited, or cut at
another sentence boundary still shares one of them) and by winnowed keys (a passage quoted inside a
longer sentence or paragraph shares one of those). The keys go to a posting table in the index
(`passage_keys` of each canonical document), so candidates come from the index, never from all pairs.

A candidate pair of passages is confirmed by the words they have in common (those of the shorter one
inside a run of KEY_WORDS words the other has too): at least MIN_WORDS, and at least MIN_COVER of the
shorter passage. A common phrase shorter than MIN_WORDS
words ("the prime minister said on Tuesday") is not a shared passage.

What is not text reuse: a copy of the document (`duplicate_of`: only canonicals are compared), the
same site's own lines (same source domain: template lines, a standing paragraph), a line the template
learner marks as some site's template (a site republishing another's article copies its furniture
too: flows/stages.py passes them as `skip`), and a key carried
by more than BOILERPLATE_DOCS documents (a cookie notice, a wire agency's standard footer across many
outlets): such keys are not looked up.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from newsdex.transforms.text import line_key

MIN_WORDS = 12
KEY_WORDS = 6
# Winnowing window: one key kept of every WINNOW in a row (KEY_WORDS + WINNOW - 1 = MIN_WORDS).
WINNOW = MIN_WORDS - KEY_WORDS + 1
# Share of the shorter passage's words the alignment must cover (one word in eight may differ).
MIN_COVER = 0.85
# A key carried by more documents than this is boilerplate, not reuse.
BOILERPLATE_DOCS = 50
# Documents confirmed per looked-up document, most shared keys first.
MAX_CANDIDATES = 30
# Sentence ends: . ! ? … followed (after closing quotes or brackets) by a space.
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*\s+")


@dataclass(frozen=True, slots=True)
class Passage:
    """A passage as written (`text`) with its folded words and their KEY_WORDS-word runs (hashed in
    process only: Python's hash is salted per process)."""

    text: str
    words: tuple[str, ...]
    grams: tuple[int, ...] = ()
    # A whole paragraph (False: a sentence of one, whose runs of words its paragraph has too).
    paragraph: bool = True
    # The body line (`body.split("\n")`) the passage stands on.
    line: int = 0
    # Its runs and words as sets, made when it is first compared as the longer passage of a pair.
    sets: tuple[frozenset[int], frozenset[str]] | None = field(default=None, compare=False, repr=False)
    # Its folded words joined, a space at each end: a passage inside another is a substring of it.
    joined: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.grams:
            object.__setattr__(self, "grams", runs(self.words))
        if not self.joined:
            object.__setattr__(self, "joined", joined(self.words))

    def as_sets(self) -> tuple[frozenset[int], frozenset[str]]:
        """Return (its runs, its words) as sets, kept: a passage is compared with many."""
        if self.sets is None:
            object.__setattr__(self, "sets", (frozenset(self.grams), frozenset(self.words)))
        return self.sets  # type: ignore[return-value]


def split_passages(body: str, skip: Container[str] = ()) -> list[Passage]:
    """Return the passages of a body: each paragraph of at least MIN_WORDS words, and each sentence
    of at least MIN_WORDS words of a paragraph with more than one sentence; paragraphs whose
    `line_key` is in `skip` (template lines) give none."""
    return _split_lines(enumerate(body.split("\n")), skip)


def split_lines(body: str, lines: Iterable[int], skip: Container[str] = ()) -> list[Passage]:
    """Return the passages of the given lines of a body only (`split_passages` of those lines, each
    passage with its line number in the whole body)."""
    all_lines = body.split("\n")
    return _split_lines(((n, all_lines[n]) for n in sorted(set(lines)) if 0 <= n < len(all_lines)), skip)


def _split_lines(lines: Iterable[tuple[int, str]], skip: Container[str]) -> list[Passage]:
    out: list[Passage] = []
    seen: set[tuple[str, ...]] = set()
    for line, paragraph in lines:
        paragraph = paragraph.strip()
        if paragraph.count(" ") < MIN_WORDS - 1:
            continue  # under MIN_WORDS words however it is folded
        folded, pieces = parse_paragraph(paragraph)
        if folded is None or folded in skip:
            continue
        for piece, piece_words, grams, whole, spaced in pieces:
            if piece_words not in seen:
                seen.add(piece_words)
                out.append(Passage(piece, piece_words, grams, paragraph=whole, line=line, joined=spaced))
    return out


# Paragraphs parsed, kept (LRU): a paragraph quoted by many documents is a candidate's line again and
# again, batch after batch; the parse depends on its text only. ~14 KB an entry (~30 MB in all).
PARSE_CACHE = 2048


@lru_cache(maxsize=PARSE_CACHE)
def parse_paragraph(
    paragraph: str,
) -> tuple[str | None, tuple[tuple[str, tuple[str, ...], tuple[int, ...], bool, str], ...]]:
    """Return a stripped paragraph's folded words joined (None: under MIN_WORDS words, no passage) and
    its passages as (text, folded words, runs of KEY_WORDS words hashed, whole paragraph?, `joined`
    words): the paragraph, and each sentence of MIN_WORDS words of a paragraph with more than one
    sentence."""
    # Sentences split at spaces, so their folded words, end to end, are the paragraph's.
    sentences = [(s, tuple(line_key(s).split())) for s in SENTENCE_END.split(paragraph) if s.strip()]
    folded = tuple(w for _, words_ in sentences for w in words_)
    if len(folded) < MIN_WORDS:
        return None, ()
    pieces = [(paragraph, folded), *(sentences if len(sentences) > 1 else [])]
    return " ".join(folded), tuple(
        (piece.strip(), piece_words, runs(piece_words), n == 0, joined(piece_words))
        for n, (piece, piece_words) in enumerate(pieces)
        if len(piece_words) >= MIN_WORDS
    )


def joined(words_: tuple[str, ...]) -> str:
    """Return folded words joined by spaces, with a space at each end (word-boundary substrings)."""
    return f" {' '.join(words_)} "


def runs(words_: tuple[str, ...]) -> tuple[int, ...]:
    """Return the KEY_WORDS-word runs of folded words, hashed (in process: Python's hash is salted)."""
    return tuple(hash(words_[i : i + KEY_WORDS]) for i in range(len(words_) - KEY_WORDS + 1))


def _key(words_: Iterable[str]) -> str:
    # Two C checksums (64 bits, stable across processes and machines): a key is computed for every
    # run of KEY_WORDS words of a document, where a cryptographic hash cost several times more; a
    # rare collision only adds a candidate that the words then rule out.
    data = " ".join(words_).encode("utf-8")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def keys_of(passage: Passage) -> list[str]:
    """Return the lookup keys of a passage: its first, last and middle KEY_WORDS words."""
    w = passage.words
    middle = (len(w) - KEY_WORDS) // 2
    starts = {0, len(w) - KEY_WORDS, middle}
    return sorted({_key(w[i : i + KEY_WORDS]) for i in starts})


def winnowed_keys(words_: tuple[str, ...]) -> set[str]:
    """Return the winnowed KEY_WORDS-word keys of a passage: the smallest key of every WINNOW keys in
    a row. Two passages sharing a run of MIN_WORDS words (KEY_WORDS + WINNOW - 1) share one of them
    wherever the run stands in each: a quote inside a sentence of the quoting article is found."""
    grams = [_key(words_[i : i + KEY_WORDS]) for i in range(len(words_) - KEY_WORDS + 1)]
    return {min(grams[i : i + WINNOW]) for i in range(max(1, len(grams) - WINNOW + 1))} if grams else set()


def passage_keys(passages: Iterable[Passage]) -> list[str]:
    """Return the distinct lookup keys of a document's passages, sorted (the indexed `passage_keys`):
    each passage's first, middle and last words (a word changed anywhere leaves one), and the winnowed
    keys of each passage (a passage quoted inside other text)."""
    return sorted(key_lines(passages))


def key_lines(passages: Iterable[Passage]) -> dict[str, list[int]]:
    """Return {lookup key (`passage_keys`): the body lines whose passages carry it}. The index keeps
    the lines with the keys, so a candidate found by a key is parsed on those lines only, not whole."""
    out: dict[str, set[int]] = {}
    for p in passages:
        keys = set(keys_of(p))
        if p.paragraph:
            keys.update(winnowed_keys(p.words))  # a sentence's runs are its paragraph's
        for key in keys:
            out.setdefault(key, set()).add(p.line)
    return {k: sorted(v) for k, v in sorted(out.items())}


def matched_words(a: Passage, b: Passage) -> tuple[int, int]:
    """Return how many words of the shorter passage lie in a run of KEY_WORDS words the other has too,
    and that number plus the words of short stretches beside such runs that occur in the other (about
    the words the two have in common in order: set lookups where an alignment, difflib's, cost many
    times more)."""
    short, long_ = (a, b) if len(a.words) <= len(b.words) else (b, a)
    if short.grams and short.joined in long_.joined:
        # The same words, or all of them in a row inside the other (a sentence of a paragraph quoted
        # whole): every run of the shorter is the other's, so the count below would be all its words.
        return len(short.words), len(short.words)
    other, words_there = long_.as_sets()
    covered = [False] * len(short.words)
    for i, gram in enumerate(short.grams):
        if gram in other:
            covered[i : i + KEY_WORDS] = [True] * KEY_WORDS
    if not any(covered):
        return 0, 0
    # A stretch of up to KEY_WORDS words between runs (or at an end) holds an edit: its words the other
    # passage has count too ("the new bridge" / "the new tunnel": "the new" is common).
    in_runs = sum(covered)
    common, gap = in_runs, []
    for word, inside in [*zip(short.words, covered, strict=True), ("", True)]:
        if not inside:
            gap.append(word)
            continue
        if len(gap) <= KEY_WORDS:
            common += sum(1 for w in gap if w in words_there)
        gap = []
    return in_runs, common


def same_passage(a: Passage, b: Passage) -> bool:
    """Return True when two passages are the same text, exactly or nearly (one contained in the other
    counts: a quoted sentence inside a longer paragraph)."""
    shorter = min(len(a.words), len(b.words))
    if shorter < MIN_WORDS:
        return False
    # MIN_WORDS words in runs both have: a common phrase of fewer words is no shared passage, however
    # many common words ("the", "said") stand beside it.
    in_runs, common = matched_words(a, b)
    return in_runs >= MIN_WORDS and common >= MIN_COVER * shorter


@dataclass(slots=True)
class Text:
    """A canonical document as passage matching sees it."""

    id: str
    source: str | None
    passages: list[Passage]


def find_links(doc: Text, others: Iterable[Text]) -> dict[str, dict[str, list[str]]]:
    """Return {other id: {own passage text: [other's passage texts]}} for the passages `doc` shares
    with each other document (not itself, not of its own source)."""
    # Candidate passage pairs share a run of KEY_WORDS words: two passages of MIN_WORDS words that
    # differ in one word always do.
    by_gram: dict[int, list[int]] = {}
    for i, passage in enumerate(doc.passages):
        for gram in set(passage.grams):
            by_gram.setdefault(gram, []).append(i)
    out: dict[str, dict[str, list[str]]] = {}
    for other in others:
        if other.id == doc.id or (doc.source and other.source == doc.source):
            continue
        found: dict[str, list[str]] = {}
        for theirs in other.passages:
            mine = {i for gram in theirs.grams for i in by_gram.get(gram, ())}
            for i in sorted(mine):
                if same_passage(doc.passages[i], theirs):
                    found.setdefault(doc.passages[i].text, [])
                    if theirs.text not in found[doc.passages[i].text]:
                        found[doc.passages[i].text].append(theirs.text)
        if found:
            out[other.id] = found
    return out


def merge_links(
    current: Iterable[Mapping[str, Any]], additions: Iterable[tuple[str, str]], order: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Return `shared_passages` with (passage text, other document id) links added: one entry per
    passage text, document ids sorted; a passage whose text lies inside another entry's (a sentence
    of a shared paragraph) and links no other document is folded into it. Entries follow `order` (the body's passages), then text."""
    table: dict[str, set[str]] = {}
    for entry in current:
        table.setdefault(entry["text"], set()).update(entry.get("documents") or [])
    for text, other in additions:
        table.setdefault(text, set()).add(other)
    for text in sorted(table, key=len):
        outer = [t for t in table if t != text and text in t]
        if outer and table[text] <= set().union(*(table[t] for t in outer)):
            del table[text]
    rank = {t: i for i, t in enumerate(order)}
    ranked = sorted(table, key=lambda t: (rank.get(t, len(rank)), t))
    return [{"text": t, "documents": sorted(table[t])} for t in ranked]


def body_order(body: str, texts: Iterable[str]) -> list[str]:
    """Return the passage texts in the order they first stand in the body (a paragraph before its
    first sentence), those not in it left out: the order `split_passages` gives them, without
    parsing the body (a document that gains links is not re-parsed for their order)."""
    at = {t: body.find(t) for t in set(texts)}
    return sorted((t for t, i in at.items() if i >= 0), key=lambda t: (at[t], -len(t), t))


def add_links(doc: Mapping[str, Any], additions: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """Return an indexed document's `shared_passages` (a contract dict) with links added, its entries
    in body order (`merge_links`, `body_order`)."""
    additions = list(additions)
    current = doc.get("shared_passages") or []
    texts = [*(e["text"] for e in current), *(t for t, _ in additions)]
    return merge_links(current, additions, body_order(doc.get("body") or "", texts))


def linked_documents(shared: Iterable[Mapping[str, Any]]) -> int:
    """Return how many distinct other documents a document shares passages with."""
    return len({d for entry in shared for d in entry.get("documents") or []})
