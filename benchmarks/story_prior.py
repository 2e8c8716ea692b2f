"""Build transforms/data/story_prior.tsv: how common each story term (a folded, stop-word-free word
cut to STEM_CHARS characters, as `transforms.stories.story_terms` makes them) is in general text.

A small index knows little about which words are rare: in an index of five reports of one event,
the words they share (Cuba, Ryabkov, NATO) are in four documents of five and TF-IDF weighs them as
common words. The prior adds PRIOR_DOCS background documents to every document frequency: a term's
background count is PRIOR_DOCS x the chance that a text of PRIOR_WORDS words in one of the languages
holds it, from general word frequencies. Each frequency in the table is the largest over the
languages (a term common in any of them is common). A large index outweighs the prior; a small one
leans on it.

The frequencies come from wordfreq 3.1.1 (Robyn Speer et al., https://github.com/rspeer/wordfreq,
data CC-BY-SA 4.0: Wikipedia, subtitles, news, books, web text, Twitter, Reddit); the table it
gives is derived data under the same licence (transforms/data/story_prior.tsv says so in its header).
wordfreq is only needed to rebuild the table, not to run newsdex:

    python -m venv /tmp/wf && /tmp/wf/bin/pip install wordfreq==3.1.1
    PYTHONPATH=/tmp/wf/lib/python3.11/site-packages .venv/bin/python -m benchmarks.story_prior
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from newsdex.transforms.stories import (
    DIGITS,
    PRIOR_DOCS,
    PRIOR_WORDS,
    STEM_CHARS,
    STOPWORD_LANGUAGES,
    stop_words,
)
from newsdex.transforms.text import line_key

# Words per language read from wordfreq's list (most frequent first); rarer words add less than MIN_COUNT.
TOP_WORDS = 100_000
# Background counts under this are left out of the table (absent means 0).
MIN_COUNT = 0.1
OUT = Path(__file__).resolve().parent.parent / "transforms" / "data" / "story_prior.tsv"


def stem_frequencies(lang: str, top: int = TOP_WORDS) -> dict[str, float]:
    """Return each story term's frequency (the summed frequencies of the words it stands for) in `lang`."""
    import wordfreq

    stop = stop_words()
    out: dict[str, float] = defaultdict(float)
    for word in wordfreq.top_n_list(lang, top, wordlist="best"):
        freq = wordfreq.word_frequency(word, lang, wordlist="best")
        for token in line_key(word).split():
            if len(token) < 2 or token in stop:
                continue
            out[token if DIGITS.match(token) else token[:STEM_CHARS]] += freq
    return out


def build(top: int = TOP_WORDS) -> dict[str, float]:
    """Return term -> background document count (PRIOR_DOCS x the chance a PRIOR_WORDS-word text holds it)."""
    import wordfreq

    available = wordfreq.available_languages(wordlist="best")
    counts: dict[str, float] = {}
    for lang in STOPWORD_LANGUAGES:
        if lang not in available:
            continue
        for term, freq in stem_frequencies(lang, top).items():
            count = PRIOR_DOCS * (1 - (1 - min(freq, 1.0)) ** PRIOR_WORDS)
            if count >= MIN_COUNT and count > counts.get(term, 0.0):
                counts[term] = count
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--top", type=int, default=TOP_WORDS)
    args = parser.parse_args()
    from importlib.metadata import version

    counts = build(args.top)
    header = [
        "# Background document counts of story terms (benchmarks/story_prior.py builds it; see there).",
        f"# term<TAB>count among {PRIOR_DOCS} background texts of {PRIOR_WORDS} words (largest over the languages"
        f" {', '.join(STOPWORD_LANGUAGES)}).",
        f"# Derived from wordfreq {version('wordfreq')} (https://github.com/rspeer/wordfreq), data CC-BY-SA 4.0.",
    ]
    lines = [f"{t}\t{c:.2f}" for t, c in sorted(counts.items())]
    args.out.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} terms -> {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
