"""Deduplication: repeated passages inside a document, exact copies, and near-duplicate documents.

Near-duplicates are found with MinHash LSH over word shingles of normalised text (datasketch's
MinHash and its band/row optimiser), then confirmed by computing the real overlap of the two
shingle sets. Band keys are plain strings so any store (SQLite, an Elasticsearch keyword field)
can keep them and later runs can look candidates up without another service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash

from newsdex.transforms.text import line_key, short_hash

if TYPE_CHECKING:
    from datasketch import MinHash

SHINGLE_WORDS = 4
NUM_PERM = 128
# LSH tuned to surface pairs whose shingle Jaccard is around 0.4 or more (trimmed and
# boilerplate-padded copies land around 0.5); the exact check below makes the decision.
LSH_THRESHOLD = 0.4
# Confirmation: a copy shares most of its shingles with the original. Either the sets are close
# (Jaccard), or the shorter is almost all inside the longer and is not a small excerpt of it.
MIN_JACCARD = 0.55
MIN_CONTAINMENT = 0.80
MIN_LENGTH_RATIO = 0.45
MIN_SHINGLES = 8


@lru_cache(maxsize=1)
def lsh_params() -> tuple[int, int]:
    """Return (bands, rows) that minimise false positives + negatives around LSH_THRESHOLD."""
    # datasketch (and the scipy it loads) is imported when first needed: the worker processes only
    # use this module's paragraph dedup, and each would pay for the import at start-up.
    from datasketch.lsh import _optimal_param

    return _optimal_param(LSH_THRESHOLD, NUM_PERM, 0.5, 0.5)


def dedupe_paragraphs(body: str) -> str:
    """Return the body with repeated paragraphs (same text up to case, quotes, punctuation) kept once."""
    seen: set[str] = set()
    kept: list[str] = []
    for paragraph in body.split("\n\n"):
        key = line_key(paragraph)
        if not key or key in seen:
            continue
        seen.add(key)
        kept.append(paragraph)
    return "\n\n".join(kept)


def exact_key(body: str, folded: str | None = None) -> str:
    """Return the key two bodies share when they are the same text up to case, punctuation, spacing.

    `folded` is `line_key(body)` when the caller has it already (it is the costly part).
    """
    return short_hash(line_key(body) if folded is None else folded, 32)


def shingles(text: str, size: int = SHINGLE_WORDS, folded: str | None = None) -> set[int]:
    """Return the 32-bit hashes of the word n-grams of the normalised text (`folded` as in exact_key)."""
    tokens = (line_key(text) if folded is None else folded).split()
    if len(tokens) < size:
        return {xxhash.xxh32_intdigest(" ".join(tokens).encode())} if tokens else set()
    return {
        xxhash.xxh32_intdigest(" ".join(tokens[i : i + size]).encode()) for i in range(len(tokens) - size + 1)
    }


def _identity(value: int) -> int:
    return value


@lru_cache(maxsize=1)
def _template() -> MinHash:
    # Permutations are derived from the seed; building them once and copying saves most of the cost.
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=1, hashfunc=_identity)


def signature(shingle_hashes: Iterable[int]) -> np.ndarray:
    """Return the MinHash signature (NUM_PERM values) of a set of shingle hashes (already hashed)."""
    minhash = _template().copy()
    minhash.update_batch(list(shingle_hashes))
    return minhash.hashvalues


def band_keys(sig: np.ndarray) -> list[str]:
    """Return one key per LSH band: the band number and a digest of its rows."""
    bands, rows = lsh_params()
    return [
        f"{b:02d}{xxhash.xxh64_hexdigest(sig[b * rows : (b + 1) * rows].tobytes())}" for b in range(bands)
    ]


@dataclass(slots=True, frozen=True)
class Overlap:
    """How much two shingle sets overlap."""

    jaccard: float
    containment: float
    length_ratio: float


def overlap(a: set[int], b: set[int]) -> Overlap:
    """Return the Jaccard similarity, the share of the smaller set inside the larger, and their size ratio."""
    if not a or not b:
        return Overlap(0.0, 0.0, 0.0)
    inter = len(a & b)
    small, large = sorted((len(a), len(b)))
    return Overlap(inter / (len(a) + len(b) - inter), inter / small, small / large)


def is_near_duplicate(a: set[int], b: set[int]) -> bool:
    """Return True when one shingle set is a copy of the other (see the thresholds above)."""
    if min(len(a), len(b)) < MIN_SHINGLES:
        return False
    o = overlap(a, b)
    return o.jaccard >= MIN_JACCARD or (
        o.containment >= MIN_CONTAINMENT and o.length_ratio >= MIN_LENGTH_RATIO
    )


def canonical_order(published_at: str | None, body_length: int, doc_id: str) -> tuple[str, int, str]:
    """Return the sort key of the canonical rule: earliest published, then longest body, then id."""
    return (published_at or "9999", -body_length, doc_id)


def find_duplicates(
    items: Sequence[tuple[str, set[int], list[str]]],
    lookup_indexed: Callable[[list[str], str], list[tuple[str, set[int]]]],
) -> dict[str, str]:
    """Return {duplicate id: canonical id} for items (id, shingles, band keys) given in canonical order.

    Each item joins the first canonical it shares an LSH band with and confirms against — already
    indexed canonicals first (they stay canonical: rewriting indexed documents would move analysts'
    results under them), then earlier items of this batch — else it becomes a canonical itself.
    `lookup_indexed(band_keys, own_id)` returns indexed canonicals (id, shingles) sharing a band.
    """
    duplicates: dict[str, str] = {}
    by_band: dict[str, list[str]] = {}
    shingles_of: dict[str, set[int]] = {}
    for doc_id, doc_shingles, keys in items:
        match = None
        for other_id, other_shingles in lookup_indexed(keys, doc_id):
            if other_id != doc_id and is_near_duplicate(doc_shingles, other_shingles):
                match = other_id
                break
        if match is None:
            seen: set[str] = set()
            for key in keys:
                for other_id in by_band.get(key, ()):
                    if other_id in seen or other_id == doc_id:
                        continue
                    seen.add(other_id)
                    if is_near_duplicate(doc_shingles, shingles_of[other_id]):
                        match = other_id
                        break
                if match:
                    break
        if match is not None:
            duplicates[doc_id] = match
            continue
        shingles_of[doc_id] = doc_shingles
        for key in keys:
            by_band.setdefault(key, []).append(doc_id)
    return duplicates


def merge_rival_canonicals(
    mine: Sequence[Mapping[str, Any]], indexed: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[str, str]]:
    """Return {id: (canonical id, kind)} for canonicals that turn out to be copies of each other.

    Two runs writing at the same time (partitions of one input, two schedules) each check the
    index before the other has written, so both can make a story canonical. After a run, its own
    canonicals (`mine`) are checked against the indexed canonicals sharing an exact key or an LSH
    band with them (`indexed`, documents with id, body, exact_key, lsh_bands, published_at): copies
    are grouped, the first in canonical order stays canonical and the others point to it. Every
    run applies the same rule to the same index, so the runs converge on the same canonical.
    """
    docs = {d["id"]: d for d in [*indexed, *mine]}
    by_key: dict[str, list[str]] = {}
    for doc in docs.values():
        for key in [f"x:{doc.get('exact_key') or ''}", *(f"b:{b}" for b in doc.get("lsh_bands") or [])]:
            if key != "x:":
                by_key.setdefault(key, []).append(doc["id"])
    parent = {doc_id: doc_id for doc_id in docs}

    def root(doc_id: str) -> str:
        while parent[doc_id] != doc_id:
            parent[doc_id] = parent[parent[doc_id]]
            doc_id = parent[doc_id]
        return doc_id

    shingles_of: dict[str, set[int]] = {}
    for doc in mine:
        exact = doc.get("exact_key")
        rivals = set(by_key.get(f"x:{exact}", ())) if exact else set()
        for band in doc.get("lsh_bands") or []:
            for other in by_key.get(f"b:{band}", ()):
                if other == doc["id"] or other in rivals:
                    continue
                a = shingles_of.setdefault(doc["id"], shingles(doc["body"]))
                b = shingles_of.setdefault(other, shingles(docs[other]["body"]))
                if is_near_duplicate(a, b):
                    rivals.add(other)
        for other in rivals - {doc["id"]}:
            parent[root(other)] = root(doc["id"])
    groups: dict[str, list[str]] = {}
    for doc_id in docs:
        groups.setdefault(root(doc_id), []).append(doc_id)
    merged: dict[str, tuple[str, str]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        keep = min(
            members,
            key=lambda i: canonical_order(docs[i].get("published_at"), len(docs[i].get("body") or ""), i),
        )
        for doc_id in members:
            if doc_id != keep:
                same = docs[doc_id].get("exact_key") and docs[doc_id].get("exact_key") == docs[keep].get(
                    "exact_key"
                )
                merged[doc_id] = (keep, "exact" if same else "near")
    return merged
