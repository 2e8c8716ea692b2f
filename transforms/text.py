"""Small text helpers shared by the transforms."""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from functools import cache

WHITESPACE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
WORD = re.compile(r"\w+(?:[’'.-]\w+)*", re.UNICODE)
QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'"})


def squash(text: str) -> str:
    """Return the text with runs of spaces/tabs/odd spaces folded to one space, stripped."""
    return WHITESPACE.sub(" ", text).strip()


@cache
def _drop_combining() -> dict[int, None]:
    """Return a str.translate table deleting every combining mark (built once per process, ~0.2 s)."""
    return {i: None for i in range(sys.maxunicode + 1) if unicodedata.combining(chr(i))}


def line_key(text: str) -> str:
    """Return a comparison key that ignores case, accents, punctuation, quotes and whitespace."""
    folded = text.casefold()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded).translate(_drop_combining())
    return NON_WORD.sub(" ", folded).strip()


def short_hash(text: str, size: int = 16) -> str:
    """Return a hex digest of the text (stable across runs and machines)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size // 2).hexdigest()


def words(text: str) -> list[str]:
    """Return the word tokens of the text."""
    return WORD.findall(text)
