"""Language identification with langdetect, made deterministic, on clean body text only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from newsdex.transforms.text import words

# langdetect samples n-grams at random; a fixed seed makes the same text give the same answer.
DetectorFactory.seed = 0
MIN_WORDS = 12
MIN_CONFIDENCE = 0.70
TIE_MARGIN = 0.15
SAMPLE_CHARS = 4000


def detect_language(text: str, hint: str | None = None) -> tuple[str | None, float | None]:
    """Return (ISO 639-1 code, probability) of the text, or (None, None) when it is too short to judge.

    An HTML `lang` or locale hint only breaks a near tie between langdetect's top candidates.
    """
    if len(words(text)) < MIN_WORDS:
        return None, None
    DetectorFactory.seed = 0
    try:
        candidates = detect_langs(text[:SAMPLE_CHARS])
    except LangDetectException:
        return None, None
    best = candidates[0]
    hint = (hint or "").lower()[:2] or None
    if hint and len(candidates) > 1 and best.lang.split("-")[0] != hint:
        for other in candidates[1:]:
            if other.lang.split("-")[0] == hint and best.prob - other.prob < TIE_MARGIN:
                best = other
                break
    if best.prob < MIN_CONFIDENCE:
        return None, round(best.prob, 3)
    return best.lang.split("-")[0], round(best.prob, 3)


def detect_article_language(
    title: str | None, body: str, hint: str | None = None
) -> tuple[str | None, float | None]:
    """Return `detect_language` of the body, or of title and body together when the body alone is
    too short or too unsure to judge (a short wire item and its headline)."""
    found = detect_language(body, hint)
    if found[0] is None and title and title.strip() not in body:
        together = detect_language(f"{title}\n\n{body}", hint)
        if together[0] is not None:
            return together
    return found


def dominant_language(languages: Iterable[str | None]) -> str | None:
    """Return the language of more than half of the documents whose language is known, or None."""
    counts = Counter(lang for lang in languages if lang)
    if not counts:
        return None
    lang, n = counts.most_common(1)[0]
    return lang if n * 2 > sum(counts.values()) else None
