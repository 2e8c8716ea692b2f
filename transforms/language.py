"""Language identification with langdetect, made deterministic, on clean body text only."""

from __future__ import annotations

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
