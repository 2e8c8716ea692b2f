"""A learned line model for flattened pages: how likely each line is to belong to the article.

Two logistic regressions. The first reads features of the line and of the lines around it — shape
(words, sentence end, capitals, digits, link-label and table shapes), furniture evidence around
it, position in the page and against the highest-scoring run of prose (`article_core`), what the
rules' segmentation keeps, the page's make-up. The second adds the first's log-odds of the
neighbours and where the line stands against the run of lines whose log-odds sum highest.
Trained and compared with the rules' segmentation by `python -m benchmarks.train_lines`; it lost
on held-out pages (docs/quality.md), so the package does not use it: it decides lines only when
passed to `clean_text(line_decider=...)`. Like the rules, it decides only the lines the rules
leave open in a whole flattened page (metadata, furniture vocabulary, templates and repeats are
decided before it; clean text never reaches it).
"""

from __future__ import annotations

import math
from typing import Any

from newsdex.transforms.boilerplate import (
    BYLINE,
    LIST_ITEM,
    NAME_LINE,
    SENTENCE_END,
    article_core,
    boilerplate_reason,
    furniture_reason,
    is_body_like,
    is_data_line,
    is_link_like,
    line_score,
)
from newsdex.transforms.text import line_key, words

WINDOW = 3
SEPARATORS = frozenset("|»›•·/>")
FEATURES = (
    "log_words",
    "log_chars",
    "sentence_end",
    "ends_colon",
    "caps_share",
    "digit_share",
    "titlecase_share",
    "mean_word_len",
    "separators",
    "link_like",
    "data_line",
    "list_item",
    "name_line",
    "all_caps",
    "score",
    "prev_score",
    "next_score",
    "prev_link",
    "next_link",
    "prev_furniture",
    "next_furniture",
    "prev_body",
    "next_body",
    "in_core",
    "before_core",
    "after_core",
    "core_distance",
    "position",
    "prose_before",
    "prose_after",
    "prose_inside",
    "link_run",
    "repeated_later",
    "doc_lines",
    "doc_link_share",
    "core_share",
    "link_in_core",
    "sentence_words",
    "rules_keep",
)


def line_features(
    lines: list[str], kinds: list[str | None], content: list[int], kept: set[int]
) -> dict[int, list[float]]:
    """Return the feature vector (in FEATURES order) of every content line of a dump (`kept`: the
    lines the rules alone keep)."""
    n = len(content)
    if not n:
        return {}
    scores = [max(-3.0, min(5.0, line_score(lines[i], kinds[i]))) for i in content]
    link = [float(kinds[i] is None and is_link_like(lines[i])) for i in content]
    furn = [float(kinds[i] is not None or bool(furniture_reason(lines[i]))) for i in content]
    body = [float(kinds[i] is None and is_body_like(lines[i])) for i in content]
    n_words = [len(words(lines[i])) for i in content]
    prose = [w if b else 0 for w, b in zip(n_words, body, strict=True)]
    total_prose = sum(prose) or 1
    core = article_core(lines, kinds, content)
    pos = {i: k for k, i in enumerate(content)}
    core_first, core_last = (pos[core[0]], pos[core[1]]) if core else (n, -1)
    core_span = max(0, core_last - core_first + 1)
    keys = [line_key(lines[i]) for i in content]
    last_seen: dict[str, int] = {}
    for k, key in enumerate(keys):
        last_seen[key] = k
    runs = [0] * n
    k = 0
    while k < n:
        if link[k]:
            end = k
            while end < n and link[end]:
                end += 1
            for j in range(k, end):
                runs[j] = end - k
            k = end
        else:
            k += 1
    doc_link = sum(link) / n
    out: dict[int, list[float]] = {}
    before = 0
    for k, i in enumerate(content):
        line = lines[i]
        w = n_words[k]
        letters = [c for c in line if c.isalpha()]
        tokens = line.split()
        alpha_tokens = [t for t in tokens if any(c.isalpha() for c in t)]
        lo, hi = max(0, k - WINDOW), min(n, k + WINDOW + 1)

        def mean(values: list[float], a: int, b: int) -> float:
            return sum(values[a:b]) / (b - a) if b > a else 0.0

        in_core = core_first <= k <= core_last
        distance = 0 if in_core else (core_first - k if k < core_first else k - core_last)
        sentence = bool(SENTENCE_END.search(line))
        out[i] = [
            math.log1p(w),
            math.log1p(len(line)),
            float(sentence),
            float(line.endswith(":")),
            sum(c.isupper() for c in letters) / len(letters) if letters else 0.0,
            sum(c.isdigit() for c in line) / max(1, len(line.replace(" ", ""))),
            sum(t[0].isupper() for t in alpha_tokens) / len(alpha_tokens) if alpha_tokens else 0.0,
            min(12.0, sum(len(t) for t in tokens) / len(tokens)) if tokens else 0.0,
            float(any(c in SEPARATORS for c in line)),
            link[k],
            float(is_data_line(line)),
            float(bool(LIST_ITEM.match(line))),
            float(bool(NAME_LINE.match(line)) or bool(BYLINE.match(line) and w <= 8)),
            float(boilerplate_reason(line) == "all_caps"),
            scores[k],
            mean(scores, lo, k),
            mean(scores, k + 1, hi),
            mean(link, lo, k),
            mean(link, k + 1, hi),
            mean(furn, lo, k),
            mean(furn, k + 1, hi),
            mean(body, lo, k),
            mean(body, k + 1, hi),
            float(in_core),
            float(k < core_first),
            float(k > core_last),
            math.log1p(distance),
            k / n,
            before / total_prose,
            (total_prose - before - prose[k]) / total_prose,
            2 * min(before, total_prose - before - prose[k]) / total_prose,
            math.log1p(runs[k]),
            float(last_seen[keys[k]] > k),
            math.log1p(n),
            doc_link,
            core_span / n,
            float(in_core) * link[k],
            float(sentence) * math.log1p(w),
            float(i in kept),
        ]
        before += prose[k]
    return out


CONTEXT_FEATURES = (
    "logit",
    "prev_logit",
    "next_logit",
    "in_segment",
    "before_segment",
    "after_segment",
    "segment_distance",
    "segment_share",
)
# Lines the rules decide (metadata, furniture vocabulary) count in the segmentation with this log-odds.
RULED_LOGIT = -4.0


def context_features(logits: list[float], weights: list[float]) -> list[list[float]]:
    """Return the second-stage features of each line from the first stage's log-odds of all lines:
    its own, its neighbours', and where it stands against the run of lines that sums highest
    (maximum-subsequence segmentation over the log-odds, weighted by words)."""
    n = len(logits)
    best, span = 0.0, (n, -1)
    total, start = 0.0, 0
    for k, (z, w) in enumerate(zip(logits, weights, strict=True)):
        score = z * w
        if total <= 0:
            total, start = score, k
        else:
            total += score
        if total > best:
            best, span = total, (start, k)
    first, last = span
    seg_words = sum(weights[first : last + 1]) if last >= first else 0.0
    share = seg_words / (sum(weights) or 1.0)
    out = []
    for k, z in enumerate(logits):
        lo, hi = max(0, k - WINDOW), min(n, k + WINDOW + 1)
        prev = logits[lo:k]
        nxt = logits[k + 1 : hi]
        inside = first <= k <= last
        distance = 0 if inside else (first - k if k < first else k - last)
        out.append(
            [
                z,
                sum(prev) / len(prev) if prev else 0.0,
                sum(nxt) / len(nxt) if nxt else 0.0,
                float(inside),
                float(k < first),
                float(k > last),
                math.log1p(distance),
                share,
            ]
        )
    return out


def _logit(model: dict[str, Any], vector: list[float]) -> float:
    z = model["bias"]
    for x, mu, sd, w in zip(vector, model["mean"], model["scale"], model["weights"], strict=True):
        z += w * (x - mu) / sd
    return max(-40.0, min(40.0, z))


def article_probabilities(
    model: dict[str, Any],
    lines: list[str],
    kinds: list[str | None],
    content: list[int],
    ruled: set[int],
    kept: set[int],
) -> dict[int, float]:
    """Return, for every content line the rules leave open, the probability that it belongs to the
    article (`ruled`: the lines the rules decide, metadata and furniture vocabulary; `kept`: the
    lines the segmentation by position keeps)."""
    features = line_features(lines, kinds, content, kept)
    logits = [RULED_LOGIT if i in ruled else _logit(model["stage1"], features[i]) for i in content]
    context = context_features(logits, [math.log1p(len(words(lines[i]))) for i in content])
    out = {}
    for k, i in enumerate(content):
        if i not in ruled:
            out[i] = 1.0 / (1.0 + math.exp(-_logit(model["stage2"], features[i] + context[k])))
    return out


def decider(model: dict[str, Any]) -> Any:
    """Return a `clean_text` line decider that keeps the lines the model gives its threshold or more."""

    def decide(
        lines: list[str], kinds: list[str | None], content: list[int], ruled: set[int], kept: set[int]
    ) -> set[int]:
        probabilities = article_probabilities(model, lines, kinds, content, ruled, kept)
        return {i for i, p in probabilities.items() if p >= model["threshold"]}

    return decide
