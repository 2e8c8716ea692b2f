"""Quality on real evaluation data: extraction, dates, metadata, dedup, entities (samples, BBC, wikigold).

    python -m benchmarks.quality all [--eval-dir ../shared/eval] [--json out.json]

Each section prints a table; `--json` also writes the figures (docs/quality.md quotes them and
benchmarks/baseline.json pins them for the CI gate).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL = Path(os.environ.get("NEWSDEX_EVAL_DIR", ROOT.parent / "shared" / "eval"))
TOKEN = re.compile(r"\w+", re.UNICODE)
NOW = datetime.now(UTC)


def _read_gz(path: Path) -> str:
    from newsdex.transforms.decoding import DecodeError, decode_bytes

    try:
        return decode_bytes(gzip.open(path).read())[0]
    except DecodeError:
        return ""


def token_prf(hypothesis: str, reference: str) -> tuple[float, float, float]:
    """Return bag-of-words precision, recall, F1 of a text against the reference text."""
    hyp = Counter(t.casefold() for t in TOKEN.findall(hypothesis or ""))
    ref = Counter(t.casefold() for t in TOKEN.findall(reference))
    overlap = sum((hyp & ref).values())
    p = overlap / sum(hyp.values()) if hyp else 0.0
    r = overlap / sum(ref.values()) if ref else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else float("nan")


# --- extraction ----------------------------------------------------------------------------------
def _ours_html(args: tuple[str, str | None]) -> str:
    from newsdex.transforms.html import ExtractionRejected, extract_html

    page, url = args
    try:
        return extract_html(page, url, reject_non_articles=False).body
    except ExtractionRejected:
        return ""


def _ours_html_gated(args: tuple[str, str | None]) -> str:
    from newsdex.transforms.html import ExtractionRejected, extract_html

    page, url = args
    try:
        return extract_html(page, url).body
    except ExtractionRejected:
        return ""


def _plain_trafilatura(args: tuple[str, str | None]) -> str:
    import trafilatura

    page, url = args
    return trafilatura.extract(page, url=url) or ""


def _ours_text(args: tuple[str, str | None]) -> str:
    from benchmarks.dumps import naive_dump
    from newsdex.transforms.boilerplate import clean_text
    from newsdex.transforms.dedup import dedupe_paragraphs

    page, _ = args
    try:
        dump = naive_dump(page)
    except Exception:
        return ""
    return dedupe_paragraphs(clean_text(dump).body)


RUNNERS: dict[str, Callable[[tuple[str, str | None]], str]] = {
    "newsdex_html": _ours_html,
    "newsdex_html_gated": _ours_html_gated,
    "trafilatura_default": _plain_trafilatura,
    "newsdex_text_dump": _ours_text,
}


def _ours_text_styles(args: tuple[str, str, str | None]) -> dict[str, str]:
    """Return the text path's body for the page dumped in each style of benchmarks/linedata.py (naive,
    flattened as in sample 001, furniture put in)."""
    from benchmarks.linedata import dump_styles
    from benchmarks.train_lines import FUNDUS_TEASERS
    from newsdex.transforms.boilerplate import clean_text
    from newsdex.transforms.dedup import dedupe_paragraphs

    name, page, url = args
    return {
        style: dedupe_paragraphs(clean_text(dump).body)
        for style, (dump, _) in dump_styles(name, page, url, FUNDUS_TEASERS).items()
    }


def _map(fn: Callable[[Any], Any], items: list[Any], workers: int) -> list[Any]:
    # Spawned, not forked: the caller may hold threads (Prefect's event loop in the quality gate's
    # test process), and a forked worker can inherit a lock such a thread held and hang the pool
    # (seen once in CI: one worker dead, the other waiting on the task queue's lock forever).
    with get_context("spawn").Pool(workers) as pool:
        return pool.map(fn, items, chunksize=4)


def eval_fundus(eval_dir: Path, workers: int) -> dict[str, Any]:
    """Token F1 of body against the gold article text on the fundus English news pages."""
    gold = json.loads((eval_dir / "fundus" / "ground_truth.json").read_text())
    names = sorted(gold)
    items = [(_read_gz(eval_dir / "fundus" / "html" / n), gold[n].get("url")) for n in names]
    out: dict[str, Any] = {"pages": len(names)}
    for name in ("newsdex_html", "trafilatura_default", "newsdex_text_dump"):
        results = _map(RUNNERS[name], items, workers)
        scores = [token_prf(h, "\n".join(gold[n]["body"])) for h, n in zip(results, names, strict=True)]
        out[name] = {k: _mean([s[i] for s in scores]) for i, k in enumerate(("precision", "recall", "f1"))}
        if name != "trafilatura_default":
            # As a run sees them: the publisher's five pages together, so the template stage learns
            # the lines its pages share (flows/stages.py: strip_templates, 3+ documents of a source).
            kept = _through_templates(results, [gold[n].get("url") for n in names])
            scores = [token_prf(h, "\n".join(gold[n]["body"])) for h, n in zip(kept, names, strict=True)]
            out[name + "_templates"] = {
                k: _mean([s[i] for s in scores]) for i, k in enumerate(("precision", "recall", "f1"))
            }
    # Issue 14's dump styles: the same pages dumped the naive way, flattened as sample 001 (head
    # metadata, tags, image addresses, related links), and with cookie/newsletter/share/teaser lines
    # put in; the text path on each, page by page (no template stage).
    styled = _map(
        _ours_text_styles, [(n, page, url) for n, (page, url) in zip(names, items, strict=True)], workers
    )
    for style in styled[0] if styled else ():
        scores = [token_prf(r[style], "\n".join(gold[n]["body"])) for r, n in zip(styled, names, strict=True)]
        out[f"newsdex_text_{style}"] = {
            k: _mean([s[i] for s in scores]) for i, k in enumerate(("precision", "recall", "f1"))
        }
    return out


def _through_templates(bodies: list[str], urls: list[str | None]) -> list[str]:
    """Return the bodies after the pipeline's source-template stage run over all of them at once."""
    from newsdex.flows.stages import strip_templates
    from newsdex.transforms.record import Document
    from newsdex.transforms.urls import registered_domain

    docs = [
        Document(input={}, url=url, body=body, id=str(n), source_domain=registered_domain(url))
        for n, (body, url) in enumerate(zip(bodies, urls, strict=True))
    ]
    kept, _ = strip_templates([d for d in docs if d.body.strip()], lambda source, keys: {})
    by_id = {d.id: d.body for d in kept if isinstance(d, Document)}
    return [by_id.get(str(n), "") for n in range(len(bodies))]


def eval_snippets(eval_dir: Path, workers: int) -> dict[str, Any]:
    """trafilatura's own 990-page evaluation: with/without snippet counts and their F1."""
    data = json.loads((eval_dir / "trafilatura" / "evaldata.json").read_text())
    urls = sorted(data)
    items = []
    for url in urls:
        name = data[url]["file"] + ".gz"
        path = next(p for p in (eval_dir / "trafilatura" / d / name for d in ("cache", "eval")) if p.exists())
        items.append((_read_gz(path), url))
    out: dict[str, Any] = {"pages": len(urls)}
    for name in ("newsdex_html", "newsdex_html_gated", "trafilatura_default", "newsdex_text_dump"):
        results = _map(RUNNERS[name], items, workers)
        tp = fp = fn = tn = 0
        for url, text in zip(urls, results, strict=True):
            norm = " ".join(text.split())
            item = data[url]
            hit_with = sum(1 for w in item["with"] if " ".join(w.split()) in norm)
            hit_without = sum(1 for w in item["without"] if " ".join(w.split()) in norm)
            tp, fn = tp + hit_with, fn + len(item["with"]) - hit_with
            fp, tn = fp + hit_without, tn + len(item["without"]) - hit_without
        out[name] = {
            "with_rate": round(tp / (tp + fn), 4),
            "without_kept_out_rate": round(tn / (tn + fp), 4),
            "f1": round(2 * tp / (2 * tp + fp + fn), 4),
        }
    return out


# --- dates and metadata --------------------------------------------------------------------------
def _our_dates(args: tuple[str, str | None]) -> str | None:
    from newsdex.transforms.html import ExtractionRejected, extract_html
    from newsdex.transforms.metadata import pick_dates

    page, url = args
    try:
        hints = extract_html(page, url, reject_non_articles=False).hints
    except ExtractionRejected as err:
        hints = err.hints or {}
    published, _ = pick_dates(hints, url, NOW)
    return published[:10] if published else None


def _htmldate_default(args: tuple[str, str | None]) -> str | None:
    import htmldate

    page, url = args
    try:
        return htmldate.find_date(page, url=url)
    except Exception:
        return None


def eval_dates(eval_dir: Path, workers: int) -> dict[str, Any]:
    """Day-level publication-date accuracy on htmldate's evaluation pages (NaN gold = no date)."""
    data = json.loads((eval_dir / "htmldate" / "eval_default.json").read_text())
    urls, items, gold = [], [], []
    for url, item in sorted(data.items()):
        path = next(
            (
                p
                for p in (eval_dir / "htmldate" / d / (item["file"] + ".gz") for d in ("cache", "eval"))
                if p.exists()
            ),
            None,
        )
        if path is None:
            continue
        urls.append(url)
        items.append((_read_gz(path), url))
        value = item.get("date")
        gold.append(
            None
            if value is None or (isinstance(value, float) and math.isnan(value)) or value == "NaN"
            else value
        )
    out: dict[str, Any] = {"pages": len(urls)}
    for name, fn in (("newsdex", _our_dates), ("htmldate_default", _htmldate_default)):
        found = _map(fn, items, workers)
        correct = sum(1 for f, g in zip(found, gold, strict=True) if f == g)
        out[name] = {"accuracy": round(correct / len(gold), 4)}
    return out


def _our_metadata(args: tuple[str, str | None]) -> dict[str, Any]:
    from newsdex.transforms.html import ExtractionRejected, extract_html
    from newsdex.transforms.metadata import clean_authors, clean_title, pick_dates
    from newsdex.transforms.urls import registered_domain

    page, url = args
    try:
        result = extract_html(page, url, reject_non_articles=False)
        hints = result.hints
    except ExtractionRejected as err:
        hints = err.hints or {}
    domain = registered_domain(url)
    published, _ = pick_dates(hints, url, NOW)
    return {
        "title": clean_title(hints.get("title"), hints.get("publisher"), domain),
        "author": clean_authors(hints.get("authors", []), hints.get("publisher"), domain),
        "date": published[:10] if published else None,
    }


def _fold(text: str | None) -> str:
    from newsdex.transforms.text import line_key

    return line_key(text or "")


def eval_metadata(eval_dir: Path, workers: int) -> dict[str, Any]:
    """Title, author, date accuracy on trafilatura's evaluation pages that carry that gold."""
    data = json.loads((eval_dir / "trafilatura" / "evaldata.json").read_text())
    urls = sorted(u for u, v in data.items() if "title" in v)
    items = []
    for url in urls:
        name = data[url]["file"] + ".gz"
        path = next(p for p in (eval_dir / "trafilatura" / d / name for d in ("cache", "eval")) if p.exists())
        items.append((_read_gz(path), url))
    results = _map(_our_metadata, items, workers)
    right: Counter[str] = Counter()
    for url, ours in zip(urls, results, strict=True):
        gold = data[url]
        right["title"] += _fold(ours["title"]) == _fold(gold["title"])
        raw_authors = gold.get("author") or ""
        raw_authors = "; ".join(raw_authors) if isinstance(raw_authors, list) else raw_authors
        gold_authors = {_fold(a) for a in re.split(r";|,| and ", raw_authors) if a.strip()}
        right["author"] += {_fold(a) for a in ours["author"]} == gold_authors
        right["date"] += (ours["date"] or "") == (gold.get("date") or "")
    return {"pages": len(urls), **{k: round(v / len(urls), 4) for k, v in sorted(right.items())}}


# --- dedup ---------------------------------------------------------------------------------------
def _bbc_articles(eval_dir: Path) -> list[tuple[str, str]]:
    out = []
    for path in sorted((eval_dir / "bbc").glob("*/*.txt")):
        text = path.read_bytes().decode("utf-8", "replace")
        _, _, body = text.partition("\n")
        body = "\n\n".join(p.strip() for p in body.split("\n") if p.strip())
        out.append((f"{path.parent.name}/{path.stem}", body))
    return out


PERTURBATIONS = ("retitle_boilerplate", "trim", "append", "typos", "reflow", "requote", "mix")


def perturb(body: str, kind: str, rng: random.Random, other: str) -> str:
    """Return a copy of the body changed the way syndication and re-posting change articles."""
    paragraphs = body.split("\n\n")
    if kind == "retitle_boilerplate":
        return "\n\n".join(
            ["Share this article", *paragraphs, "Follow us on social media for more news like this."]
        )
    if kind == "trim":
        keep = max(1, math.ceil(len(paragraphs) * rng.uniform(0.7, 0.9)))
        return "\n\n".join(paragraphs[:keep])
    if kind == "append":
        extra = other.split("\n\n")[: rng.randint(1, 2)]
        return (
            "\n\n".join([*paragraphs, *extra])
            if len(" ".join(extra)) < 0.3 * len(body)
            else body + "\n\nUpdated at 10:00."
        )
    if kind == "typos":
        words = body.split(" ")
        for i in rng.sample(range(len(words)), k=max(1, len(words) // 30)):
            w = words[i]
            if len(w) > 3:
                j = rng.randrange(1, len(w) - 1)
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        return " ".join(words)
    if kind == "reflow":
        merged, i = [], 0
        while i < len(paragraphs):
            n = rng.randint(1, 3)
            merged.append("  ".join(paragraphs[i : i + n]))
            i += n
        return "\n\n".join(merged)
    if kind == "requote":
        return body.replace('"', "“").replace("'", "’").replace(" - ", " — ")
    # mix: trimmed, typo'd, requoted
    return perturb(perturb(perturb(body, "trim", rng, other), "typos", rng, other), "requote", rng, other)


def _distinct(articles: Any) -> list[tuple[str, str]]:
    """Return the articles with the corpus's own overlapping copies removed (one kept per group).

    The BBC collection holds re-published and updated versions of some stories; left in, they
    would be labelled "different" and count as false merges. The test is independent of the
    method under evaluation: any pair sharing half of the smaller one's 5-word shingles is related.
    """
    articles = list(articles)
    sets = []
    owners: dict[int, list[int]] = {}
    for n, (_, body) in enumerate(articles):
        tokens = body.lower().split()
        sh = {hash(" ".join(tokens[i : i + 5])) for i in range(max(1, len(tokens) - 4))}
        sets.append(sh)
        for h in sh:
            owners.setdefault(h, []).append(n)
    dropped: set[int] = set()
    for n, sh in enumerate(sets):
        if n in dropped:
            continue
        shared = Counter(o for h in sh for o in owners[h] if o > n)
        for other, count in shared.items():
            if count >= 0.5 * min(len(sh), len(sets[other])):
                dropped.add(other)
    return [a for n, a in enumerate(articles) if n not in dropped]


def build_dedup_set(
    eval_dir: Path, n_originals: int = 300, seed: int = 7
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Return (documents, truth) where truth maps every document id to its cluster (original) id.

    Originals are BBC articles; copies carry the perturbations above; hard negatives are other
    articles of the same category (same topic, different text) and articles that quote one
    paragraph of another article.
    """
    rng = random.Random(seed)
    articles = _distinct(a for a in _bbc_articles(eval_dir) if len(a[1].split()) >= 150)
    rng.shuffle(articles)
    originals = articles[:n_originals]
    negatives = articles[n_originals : n_originals + n_originals // 2]
    docs: list[tuple[str, str]] = []
    truth: dict[str, str] = {}
    for i, (aid, body) in enumerate(originals):
        docs.append((aid, body))
        truth[aid] = aid
        other = originals[(i + 1) % len(originals)][1]
        for kind in rng.sample(PERTURBATIONS, k=2):
            cid = f"{aid}~{kind}"
            docs.append((cid, perturb(body, kind, rng, other)))
            truth[cid] = aid
    for j, (nid, body) in enumerate(negatives):
        source = originals[j % len(originals)][1]
        # One paragraph, and never more than a quarter of the quoted article (a quote, not a copy).
        budget = len(source.split()) // 4
        fitting = [p for p in source.split("\n\n") if len(p.split()) <= budget]
        quote = max(fitting, key=len) if fitting else " ".join(source.split()[:budget])
        paragraphs = body.split("\n\n")
        paragraphs.insert(len(paragraphs) // 2, "As reported elsewhere: " + quote)
        docs.append((nid + "~quotes", "\n\n".join(paragraphs)))
        truth[nid + "~quotes"] = nid + "~quotes"
    return docs, truth


def _pairs(clusters: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = {}
    for doc, cluster in clusters.items():
        groups.setdefault(cluster, []).append(doc)
    return {
        (a, b)
        for members in groups.values()
        for i, a in enumerate(sorted(members))
        for b in sorted(members)[i + 1 :]
    }


def _prf(predicted: set[tuple[str, str]], true: set[tuple[str, str]]) -> dict[str, float]:
    tp = len(predicted & true)
    return {
        "precision": round(tp / len(predicted), 4) if predicted else 1.0,
        "recall": round(tp / len(true), 4) if true else 1.0,
        "pairs_true": len(true),
        "pairs_predicted": len(predicted),
    }


def eval_dedup(eval_dir: Path, workers: int) -> dict[str, Any]:
    """Pairwise precision/recall of near-duplicate clustering on a labelled set built from BBC articles."""
    from datasketch import MinHash, MinHashLSH

    from newsdex.transforms.dedup import band_keys, find_duplicates, shingles, signature

    docs, truth = build_dedup_set(eval_dir)
    true_pairs = _pairs(truth)
    start = time.perf_counter()
    items = []
    for doc_id, body in docs:
        sh = shingles(body)
        items.append((doc_id, sh, band_keys(signature(sh))))
    dups = find_duplicates(items, lambda keys, own: [])
    elapsed = time.perf_counter() - start
    ours = _pairs({d: dups.get(d, d) for d, _ in docs})
    state_bytes = sum(len(k) for _, _, keys in items for k in keys) / len(items)

    # Orientation baseline: datatrove-style plain MinHash LSH (5-word shingles, 14 bands x 8 rows),
    # every LSH candidate pair taken as a duplicate, clustered by union-find.
    lsh = MinHashLSH(num_perm=112, params=(14, 8))
    parent = {d: d for d, _ in docs}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for doc_id, body in docs:
        m = MinHash(num_perm=112, seed=1)
        tokens = body.lower().split()
        m.update_batch([" ".join(tokens[i : i + 5]).encode() for i in range(max(1, len(tokens) - 4))])
        for other in lsh.query(m):
            parent[find(doc_id)] = find(other)
        lsh.insert(doc_id, m)
    baseline = _pairs({d: find(d) for d, _ in docs})
    return {
        "documents": len(docs),
        "newsdex": {
            **_prf(ours, true_pairs),
            "ms_per_doc": round(1000 * elapsed / len(docs), 3),
            "band_key_bytes_per_doc": round(state_bytes),
        },
        "plain_minhash_lsh_14x8": _prf(baseline, true_pairs),
    }


def eval_false_merges(eval_dir: Path, workers: int) -> dict[str, Any]:
    """List the pairs dedup merges among every evaluation page (they should all be real copies)."""
    from newsdex.transforms.dedup import band_keys, find_duplicates, overlap, shingles, signature

    items: list[tuple[str, tuple[str, str | None]]] = []
    fundus = json.loads((eval_dir / "fundus" / "ground_truth.json").read_text())
    for n in sorted(fundus):
        items.append((f"fundus/{n}", (_read_gz(eval_dir / "fundus" / "html" / n), fundus[n]["url"])))
    for folder, gold_file in (("trafilatura", "evaldata.json"), ("htmldate", "eval_default.json")):
        gold = json.loads((eval_dir / folder / gold_file).read_text())
        for url in sorted(gold):
            path = next(
                (
                    p
                    for p in (eval_dir / folder / d / (gold[url]["file"] + ".gz") for d in ("cache", "eval"))
                    if p.exists()
                ),
                None,
            )
            if path:
                items.append((f"{folder}/{gold[url]['file']}", (_read_gz(path), url)))
    bodies = _map(_ours_html, [x for _, x in items], workers)
    distinct: dict[str, str] = {}
    for (name, _), body in zip(items, bodies, strict=True):
        if body.strip() and body not in distinct:
            distinct[body] = name
    sets = {name: shingles(body) for body, name in distinct.items()}
    merges = find_duplicates([(n, s, band_keys(signature(s))) for n, s in sets.items()], lambda keys, own: [])
    return {
        "pages": len(items),
        "distinct_bodies": len(distinct),
        "merged_pairs": [
            {"copy": a, "canonical": b, "jaccard": round(overlap(sets[a], sets[b]).jaccard, 3)}
            for a, b in sorted(merges.items())
        ],
    }


# --- entities ------------------------------------------------------------------------------------
def _pooled(gold: list[dict[str, Any]], found: list[dict[str, Any]]) -> dict[str, float]:
    """Return precision/recall of exact (kind, name) pairs pooled over documents and kinds."""
    tp = fp = fn = 0
    for g, f in zip(gold, found, strict=True):
        truth = {(k, v) for k in ("person", "org", "location") for v in g[k]}
        got = {(k, v) for k in ("person", "org", "location") for v in f[k]}
        tp, fp, fn = tp + len(got & truth), fp + len(got - truth), fn + len(truth - got)
    return {"precision": round(tp / (tp + fp), 4), "recall": round(tp / (tp + fn), 4)}


def _entity_systems(
    gold: list[dict[str, Any]], items: list[tuple[str, str]], ours: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Return newsdex's entity stage beside raw spaCy on the same (title, body) texts, both views."""
    from benchmarks.ner import raw_spacy_entities, score, stage_entities
    from newsdex.flows.settings import DEFAULT_SPACY_MODELS
    from newsdex.transforms.entities import curated_aliases

    model = DEFAULT_SPACY_MODELS["en"]
    found = {
        "newsdex": ours if ours is not None else stage_entities(items, model),
        "raw_spacy": raw_spacy_entities([f"{t}\n\n{b}" if t else b for t, b in items], model),
    }
    aliases = curated_aliases()
    out: dict[str, Any] = {"documents": len(items)}
    for system, result in found.items():
        out[system] = score(gold, result, aliases, "entity")
        out[system]["surface"] = score(gold, result, aliases, "surface")
    out["newsdex_minus_raw_mean_f1"] = round(out["newsdex"]["mean_f1"] - out["raw_spacy"]["mean_f1"], 4)
    return out


def eval_entities(eval_dir: Path, workers: int) -> dict[str, Any]:
    """Entity sets on the hand-annotated samples (canonical names), newsdex vs raw spaCy."""
    from benchmarks.ner import stage_entities
    from newsdex.flows.settings import DEFAULT_SPACY_MODELS
    from newsdex.transforms.boilerplate import clean_text

    gold = json.loads((ROOT / "benchmarks" / "entities_gold.json").read_text())
    names = sorted(gold)
    cleaned = [clean_text((ROOT / "samples" / name).read_text(encoding="utf-8")) for name in names]
    items = [(r.title or "", r.body) for r in cleaned]
    ours = stage_entities(items, DEFAULT_SPACY_MODELS["en"])
    truth = [gold[n] for n in names]
    out = _entity_systems(truth, items, ours)
    # The pooled exact-name figures pinned since the first release (samples' gold is canonical names).
    out["newsdex"].update(_pooled(truth, ours))
    return out


def eval_entities_bbc(eval_dir: Path, workers: int) -> dict[str, Any]:
    """Entity sets on 14 hand-annotated BBC articles (benchmarks/entities_bbc_gold.json)."""
    gold = json.loads((ROOT / "benchmarks" / "entities_bbc_gold.json").read_text())
    names = sorted(n for n in gold if not n.startswith("_"))
    items = []
    for name in names:
        title, _, body = (eval_dir / "bbc" / name).read_bytes().decode("utf-8", "replace").partition("\n")
        items.append((title.strip(), "\n\n".join(p.strip() for p in body.split("\n") if p.strip())))
    return _entity_systems([gold[n] for n in names], items)


def eval_wikigold(eval_dir: Path, workers: int) -> dict[str, Any]:
    """Entity sets on wikigold (145 annotated articles): the entity stage on the gold text, raw spaCy
    on the same text, and the whole pipeline (`newsdex run` on JSONL records of the same text)."""
    from benchmarks.ner import read_conll, run_entities, score
    from newsdex.transforms.entities import curated_aliases

    articles = read_conll(eval_dir / "ner" / "wikigold.conll.txt")
    gold = [a.gold for a in articles]
    out = _entity_systems(gold, [("", a.text) for a in articles])
    # `clean` marks text that needs no boilerplate removal (the text path keeps it whole once it
    # knows the field; until then the run's text path may drop lines of it).
    records = [{"id": a.id, "text": a.text, "clean": True} for a in articles]
    start = time.perf_counter()
    found, report = run_entities(records, workers)
    aliases = curated_aliases()
    out["newsdex_run"] = score(gold, found, aliases, "entity")
    out["newsdex_run"]["surface"] = score(gold, found, aliases, "surface")
    out["newsdex_run"]["seconds"] = round(time.perf_counter() - start, 1)
    out["newsdex_run"]["report"] = {
        "outcomes": report.get("outcomes"),
        "rejected_by_reason": report.get("rejected_by_reason"),
        "notes": report.get("notes"),
    }
    return out


def _clean_one(args: tuple[str, ...]) -> dict[str, Any]:
    from newsdex.flows import stages
    from newsdex.transforms.record import Document, RawRecord
    from newsdex.transforms.text import short_hash

    name, text, *reference = args
    gold = reference[0] if reference else text
    result = stages.clean_record(RawRecord(path=name, line=1, text=text), 2_000_000)
    if not isinstance(result, Document):
        return {
            "name": name,
            "rejected": result.reason,
            "kept": 0.0,
            "precision": 0.0,
            "id": None,
            "title": None,
        }
    doc = stages.normalise(result, NOW)
    precision, recall, _ = token_prf(f"{doc.title or ''}\n{doc.body}", gold)
    return {
        "name": name,
        "rejected": None,
        "kept": recall,
        "precision": precision,
        "id": doc.id,
        "title": doc.title,
        "title_is_first_line": doc.title == gold.split("\n", 1)[0].strip(),
        "input": short_hash(text, 32),
    }


def eval_cleantext(eval_dir: Path, workers: int) -> dict[str, Any]:
    """Words of clean text (no page furniture) that reach title + body, and articles rejected, on
    wire stories built in the CoNLL-2003 style, the BBC articles and wikigold (benchmarks/cleantext)."""
    from benchmarks.cleantext import bbc_texts, wikigold_texts, wire_stories, with_furniture

    out: dict[str, Any] = {}
    every: list[dict[str, Any]] = []
    families: list[tuple[str, list[Any]]] = [
        ("wire", wire_stories()),
        ("bbc", bbc_texts(eval_dir)),
        ("wikigold", wikigold_texts(eval_dir)),
    ]
    for family, items in families:
        results = _map(_clean_one, items, workers)
        every.extend(results)
        kept = [r["kept"] for r in results]
        out[family] = {
            "articles": len(results),
            "words_kept": _mean(kept),
            "rejected": sum(1 for r in results if r["rejected"]),
            "below_095": sum(1 for k in kept if k < 0.95),
            "worst": sorted((round(r["kept"], 3), r["name"]) for r in results)[:3],
        }
        if family == "wire":
            # A wire story's first line is its headline (never the correction notice or dateline).
            out[family]["title_is_headline"] = _mean(
                [float(r.get("title_is_first_line", 0)) for r in results]
            )
    # The same stories with sign-up/advertisement lines put in: those go, the story stays whole
    # (words kept against the story alone; precision = share of what is kept that is story).
    mixed = _map(_clean_one, with_furniture(wire_stories()), workers)
    out["wire_with_furniture"] = {
        "articles": len(mixed),
        "words_kept": _mean([r["kept"] for r in mixed]),
        "precision": _mean([r["precision"] for r in mixed]),
        "rejected": sum(1 for r in mixed if r["rejected"]),
        "below_095": sum(1 for r in mixed if r["kept"] < 0.95),
        "title_is_headline": _mean([float(r.get("title_is_first_line", 0)) for r in mixed]),
        "worst": sorted((round(r["kept"], 3), r["name"]) for r in mixed)[:3],
    }
    inputs_by_id: dict[str, set[str]] = {}
    for r in every + mixed:
        if r["id"]:
            inputs_by_id.setdefault(r["id"], set()).add(r["input"])
    out["all"] = {
        "articles": len(every),
        "words_kept": _mean([r["kept"] for r in every]),
        "rejected": sum(1 for r in every if r["rejected"]),
        # Ids shared by different texts (identical texts share one: the BBC set repeats a few).
        "ids_shared_by_different_inputs": sum(1 for inputs in inputs_by_id.values() if len(inputs) > 1),
    }
    return out


def _pearson(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 2:
        return float("nan")
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(sum((y - my) ** 2 for y in ys))
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / (sx * sy) if sx and sy else 0.0


def _clear_prf(same: list[tuple[bool, bool]]) -> dict[str, float]:
    """Precision, recall, F1 of predicted "same" over (predicted, gold) pairs."""
    tp = sum(1 for p, g in same if p and g)
    fp = sum(1 for p, g in same if p and not g)
    fn = sum(1 for p, g in same if not p and g)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def _tfidf_cosines(texts: dict[str, str], pairs: list[tuple[str, str]]) -> list[float]:
    """The plain baseline: cosine of the TF-IDF vectors (lower-cased words, all of the text)."""
    bags = {k: Counter(TOKEN.findall(v.lower())) for k, v in texts.items()}
    df: Counter[str] = Counter()
    for bag in bags.values():
        df.update(bag.keys())
    n = len(bags)
    vectors = {}
    for k, bag in bags.items():
        vec = {t: c * math.log((n + 1) / (df[t] + 1)) for t, c in bag.items()}
        norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
        vectors[k] = {t: w / norm for t, w in vec.items()}
    return [sum(w * vectors[b].get(t, 0.0) for t, w in vectors[a].items()) for a, b in pairs]


def eval_stories(eval_dir: Path, workers: int, keep: Path | None = None) -> dict[str, Any]:
    """Stories on SemEval-2022 Task 8 pairs: every text through one `newsdex run` (JSONL id, text);
    per language pair, P/R/F1 of "same story_id" on clear pairs (overall <= 1.5 same, >= 3.5
    different), Pearson of `related`'s score with -overall over all pairs, and the TF-IDF baseline
    (cosine of the whole texts, its best threshold on the very pairs it is scored on). With `keep`,
    the run's inputs, data directory and export (`docs.jsonl`) are left there."""
    import contextlib
    import tempfile

    from newsdex.connectors.embedded import EmbeddedIndex
    from newsdex.connectors.stories import pair_score

    rows = [json.loads(line) for line in (eval_dir / "stories" / "semeval2022-train.jsonl").open()]
    texts: dict[str, str] = {}
    for row in rows:
        texts[row["id1"]], texts[row["id2"]] = row["text1"], row["text2"]
    place = (
        contextlib.nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory(prefix="newsdex-stories-")
    )
    with place as tmp:
        inbox = Path(tmp) / "pairs.jsonl"
        inbox.write_text(
            "".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in texts.items()),
            encoding="utf-8",
        )
        out, report_path, data = Path(tmp) / "docs.jsonl", Path(tmp) / "report.json", Path(tmp) / "data"
        env = {**os.environ, "PREFECT_LOGGING_LEVEL": "CRITICAL"}
        env.setdefault("PREFECT_HOME", str(Path(tmp) / "prefect"))
        cmd = [sys.executable, "-m", "newsdex", "--data-dir", str(data), "run", str(inbox)]
        cmd += ["--output-jsonl", str(out), "--report", str(report_path), "--workers", str(workers)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode not in (0, 3):
            raise RuntimeError(f"newsdex run failed ({proc.returncode}): {proc.stderr[-2000:]}")
        seconds = time.perf_counter() - start
        docs = {}
        for line in out.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            docs[doc["input"]["record_id"]] = doc
        # Records with the same text are one document (ids come from the normalised body when there
        # is no URL): the run indexes it once, under the last record's id.
        from newsdex.transforms.text import line_key

        records_indexed = len(docs)
        by_text = {line_key(texts[k]): d for k, d in docs.items()}
        for record_id, text in texts.items():
            if record_id not in docs and line_key(text) in by_text:
                docs[record_id] = by_text[line_key(text)]
        index = EmbeddedIndex(data)
        try:
            scores = [
                pair_score(index, docs[r["id1"]]["id"], docs[r["id2"]]["id"])
                if r["id1"] in docs and r["id2"] in docs
                else 0.0
                for r in rows
            ]
        finally:
            index.close()
        run_report = json.loads(report_path.read_text(encoding="utf-8"))
    baseline = _tfidf_cosines(texts, [(r["id1"], r["id2"]) for r in rows])
    out_figures: dict[str, Any] = {}

    def indexed(i: int) -> bool:
        return rows[i]["id1"] in docs and rows[i]["id2"] in docs

    by_pair: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_pair.setdefault(f"{row['lang1']}-{row['lang2']}", []).append(i)
    for name, idx in sorted(by_pair.items(), key=lambda kv: -len(kv[1])):
        clear = [i for i in idx if rows[i]["overall"] <= 1.5 or rows[i]["overall"] >= 3.5]
        gold = {i: rows[i]["overall"] <= 1.5 for i in clear}

        def story(record_id: str) -> str | None:
            return (docs.get(record_id) or {}).get("story_id")

        predicted = [
            (story(rows[i]["id1"]) is not None and story(rows[i]["id1"]) == story(rows[i]["id2"]), gold[i])
            for i in clear
        ]
        best = max(
            (
                _clear_prf([(baseline[i] >= t / 100, gold[i]) for i in clear]) | {"threshold": t / 100}
                for t in range(1, 100)
            ),
            key=lambda f: (f["f1"], f["precision"]),
        )
        out_figures[name] = {
            "pairs": len(idx),
            "clear_same": sum(gold.values()),
            "clear_different": len(clear) - sum(gold.values()),
            "newsdex": _clear_prf(predicted)
            | {
                "pearson": round(_pearson([scores[i] for i in idx], [-rows[i]["overall"] for i in idx]), 4),
                # A text the run rejected (the text path's decision) has no story: its pairs count as
                # "different" and score 0 above; these two figures show how much that weighs.
                "pairs_not_indexed": len([i for i in idx if not indexed(i)]),
                "pearson_indexed_pairs": round(
                    _pearson(
                        [scores[i] for i in idx if indexed(i)],
                        [-rows[i]["overall"] for i in idx if indexed(i)],
                    ),
                    4,
                ),
            },
            "tfidf_baseline": best
            | {"pearson": round(_pearson([baseline[i] for i in idx], [-rows[i]["overall"] for i in idx]), 4)},
        }
    out_figures["all"] = {
        "newsdex": {"pearson": round(_pearson(scores, [-r["overall"] for r in rows]), 4)},
        "tfidf_baseline": {"pearson": round(_pearson(baseline, [-r["overall"] for r in rows]), 4)},
    }
    out_figures["run"] = {
        "texts": len(texts),
        "records_indexed": records_indexed,
        "documents": len({d["id"] for d in docs.values()}),
        "seconds": round(seconds, 1),
        "stories": len({d["story_id"] for d in docs.values()}),
        "rejected": run_report.get("rejected_by_reason"),
        "notes": run_report.get("notes"),
    }
    return out_figures


def eval_samples_stories(eval_dir: Path, workers: int) -> dict[str, Any]:
    """The five bundled samples' stories and pair scores, alone (`newsdex run samples/`) and in an index
    of other news (the SemEval-2022 texts first, then the samples, in one run): what a tiny index's
    document frequencies do to them. Not tuned on and not pinned: the samples are four reports of one
    event (000-003) and one of another (004)."""
    import tempfile

    from newsdex.connectors.embedded import EmbeddedIndex
    from newsdex.connectors.stories import pair_score

    samples = sorted((ROOT / "samples").glob("*.txt"))
    rows = [json.loads(line) for line in (eval_dir / "stories" / "semeval2022-train.jsonl").open()]
    texts = {r["id1"]: r["text1"] for r in rows} | {r["id2"]: r["text2"] for r in rows}
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="newsdex-samples-") as tmp:
        others = Path(tmp) / "semeval.jsonl"
        others.write_text(
            "".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) + "\n" for k, v in texts.items()),
            encoding="utf-8",
        )
        for name, inputs in (
            ("alone", [ROOT / "samples"]),
            ("among_semeval_texts", [others, ROOT / "samples"]),
        ):
            data, exported = Path(tmp) / name, Path(tmp) / f"{name}.jsonl"
            env = {
                **os.environ,
                "PREFECT_LOGGING_LEVEL": "CRITICAL",
                "PREFECT_HOME": str(Path(tmp) / "prefect"),
            }
            cmd = [sys.executable, "-m", "newsdex", "--data-dir", str(data), "run", *map(str, inputs)]
            cmd += ["--output-jsonl", str(exported), "--workers", str(workers), "--quiet"]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if proc.returncode not in (0, 3):
                raise RuntimeError(f"newsdex run failed ({proc.returncode}): {proc.stderr[-2000:]}")
            by_path = {}
            for line in exported.read_text(encoding="utf-8").splitlines():
                doc = json.loads(line)
                by_path[Path(doc["input"]["path"]).name[:3]] = doc
            names = [path.name[:3] for path in samples]
            docs = [by_path[n] for n in names]
            index = EmbeddedIndex(data)
            try:
                scores = {
                    f"{names[i]}-{names[j]}": round(pair_score(index, docs[i]["id"], docs[j]["id"]), 3)
                    for i in range(len(docs))
                    for j in range(i + 1, len(docs))
                }
            finally:
                index.close()
            labels: dict[str, str] = {}
            out[name] = {
                "story": {
                    n: labels.setdefault(d["story_id"], f"S{len(labels) + 1}")
                    for n, d in zip(names, docs, strict=True)
                },
                "stories": len(labels),
                "published_at": {n: d["published_at"] for n, d in zip(names, docs, strict=True)},
                "pair_scores": scores,
            }
    return out


# --- shared passages -----------------------------------------------------------------------------
PASSAGE_SITES = tuple(f"site{n}.example" for n in range(8))
# Each site's own standing line (a template line of at least 12 words): same source, never a link.
SITE_LINES = (
    "Get the latest headlines and analysis delivered to your inbox every weekday morning with our newsletter.",
    "Our journalists work around the clock to bring you accurate reporting from around the world.",
    "Support independent local journalism by becoming a member today and enjoy unlimited access to every story.",
    "Have a story tip or a correction for this article? Write to the newsroom, we read every message.",
    "This report is part of our weekly series looking at the businesses and people shaping the region.",
    "Download our free app for breaking news alerts, live blogs and the best of our photography.",
    "Comments on this article are closed after seven days, in line with the community guidelines of the site.",
    "Follow our correspondents on social media for updates throughout the day and analysis in the evening.",
)
SHORT_WORDS = (5, 11)


def _edit_lightly(text: str, rng: random.Random, other_words: list[str]) -> tuple[str, str]:
    """Return the text edited the way a quote is (punctuation, case, one word) and the edit's name."""
    kind = rng.choice(("exact", "punctuation", "case", "word"))
    if kind == "punctuation":
        text = text.replace(",", "").replace('"', "'").rstrip(".") + "."
        text = text.replace(". ", "; ", 1) if ". " in text else text.replace(" ", ", ", 1)
    elif kind == "case":
        text = text.upper() if rng.random() < 0.3 else text.lower()
    elif kind == "word":
        tokens = text.split(" ")
        i = rng.randrange(len(tokens))
        tokens[i] = rng.choice(other_words)
        text = " ".join(tokens)
    return text, kind


def _shingles(body: str, n: int) -> set[int]:
    tokens = re.findall(r"\w+", body.lower())
    return {hash(" ".join(tokens[i : i + n])) for i in range(max(0, len(tokens) - n + 1))}


def build_passages_set(
    eval_dir: Path,
    n_quotes: int = 60,
    n_phrases: int = 40,
    n_copies: int = 25,
    n_plain: int = 80,
    seed: int = 22,
) -> tuple[list[dict[str, Any]], set[tuple[str, str]], dict[str, str]]:
    """Return (records, gold links, kind of each record) built from BBC articles.

    Every record gets a site (`url` on one of PASSAGE_SITES). Kinds: `quote` articles carry one
    paragraph (at least 12 words) of another site's article, lightly edited (exact, punctuation, case
    or one word changed; as a paragraph of its own, appended to one of theirs, or quoted inside a
    sentence of theirs): the gold links.
    `phrase` articles carry only a 5-11 word phrase of another's sentence; `copy` records are another
    site's whole article (a duplicate, not a link); every article of a site carries the site's standing
    line; `plain` articles only that. The base articles share no 10-word
    run with each other (checked here, independently of the method), so no other link is right.
    """
    rng = random.Random(seed)
    pool = _distinct(a for a in _bbc_articles(eval_dir) if len(a[1].split()) >= 120)
    rng.shuffle(pool)
    chosen: list[tuple[str, str]] = []
    seen: set[int] = set()
    need = 2 * n_quotes + 2 * n_phrases + n_copies + n_plain
    for aid, body in pool:
        sh = _shingles(body, 10)
        if sh & seen:
            continue
        seen |= sh
        chosen.append((aid, body))
        if len(chosen) == need:
            break
    vocabulary = sorted({w for _, b in chosen[:50] for w in re.findall(r"[a-z]{4,}", b)})
    records: list[dict[str, Any]] = []
    kinds: dict[str, str] = {}
    site_of: dict[str, str] = {}

    def add(rid: str, body: str, kind: str, site: str | None = None) -> None:
        site = site or rng.choice(PASSAGE_SITES)
        site_of[rid] = site
        n = PASSAGE_SITES.index(site)
        paragraphs = body.split("\n\n")
        paragraphs.insert(rng.randrange(1, len(paragraphs) + 1), SITE_LINES[n])
        body = "\n\n".join(paragraphs)
        records.append({"id": rid, "url": f"https://{site}/news/{rid.replace('/', '-')}", "text": body})
        kinds[rid] = kind

    quoted_by: dict[str, str] = {}
    it = iter(chosen)
    gold: set[tuple[str, str]] = set()
    for _ in range(n_quotes):
        (sid, source), (tid, target) = next(it), next(it)
        add(sid, source, "quoted")
        paragraphs = [p for p in source.split("\n\n") if len(p.split()) >= 12]
        quote, edit = _edit_lightly(rng.choice(paragraphs), rng, vocabulary)
        parts = target.split("\n\n")
        at = rng.randrange(1, len(parts))
        where = rng.choice(("paragraph", "appended", "inside"))
        if where == "paragraph":
            parts.insert(at, quote)
        elif where == "appended":
            parts[at] = parts[at] + " " + quote
        else:
            # Inside a sentence of the quoting article, attributed before and after.
            parts[at] = (
                f'{parts[at]} One report put it this way: "{quote.rstrip(".")}", the paper said on Monday.'
            )

        qid = f"{tid}~quote-{edit}-{where}"
        add(qid, "\n\n".join(parts), "quote", rng.choice([s for s in PASSAGE_SITES if s != site_of[sid]]))
        quoted_by[sid] = site_of[qid]
        gold.add(tuple(sorted((sid, qid))))
    for _ in range(n_phrases):
        (sid, source), (tid, target) = next(it), next(it)
        add(sid, source, "phrase_source")
        sentence = max(re.split(r"(?<=[.!?])\s+", source), key=lambda x: len(x.split())).split()
        size = rng.randint(*SHORT_WORDS)
        start = rng.randrange(0, max(1, len(sentence) - size))
        phrase = " ".join(sentence[start : start + size]).strip(".,\"'")
        parts = target.split("\n\n")
        at = rng.randrange(len(parts))
        parts[at] = parts[at] + f' Analysts noted that "{phrase}" on the day.'
        add(
            f"{tid}~phrase",
            "\n\n".join(parts),
            "phrase",
            rng.choice([s for s in PASSAGE_SITES if s != site_of[sid]]),
        )
    # A copy is on a third site: a copy on the quoting article's own site would rightly not be linked.
    originals = [r for r in records if kinds[r["id"]] == "quoted"][:n_copies]
    for n, rec in enumerate(originals):
        body = perturb(rec["text"], "typos", rng, "") if n % 2 else rec["text"]
        site = rng.choice([s for s in PASSAGE_SITES if s not in (site_of[rec["id"]], quoted_by[rec["id"]])])
        records.append({"id": rec["id"] + "~copy", "url": f"https://{site}/copy/{n}", "text": body})
        kinds[rec["id"] + "~copy"] = "copy"
    for _ in range(n_plain):
        aid, body = next(it)
        add(aid, body, "plain")
    rng.shuffle(records)
    return records, gold, kinds


def eval_passages(eval_dir: Path, workers: int) -> dict[str, Any]:
    """Shared passages on a set built from BBC articles (`build_passages_set`), through two `newsdex run`s
    (JSONL with `id`, `url`, `text`; half the records each, so quotes and their sources meet within a
    run and across runs): link precision and recall over document pairs, and links one-way."""
    import tempfile

    records, gold, kinds = build_passages_set(eval_dir)
    with tempfile.TemporaryDirectory(prefix="newsdex-passages-") as tmp:
        data = Path(tmp) / "data"
        env = {**os.environ, "PREFECT_LOGGING_LEVEL": "CRITICAL"}
        env.setdefault("PREFECT_HOME", str(Path(tmp) / "prefect"))
        seconds = 0.0
        half = len(records) // 2
        for n, part in enumerate((records[:half], records[half:])):
            inbox = Path(tmp) / f"part{n}.jsonl"
            inbox.write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8"
            )
            cmd = [sys.executable, "-m", "newsdex", "--data-dir", str(data), "run", str(inbox)]
            cmd += ["--workers", str(workers)]
            start = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if proc.returncode not in (0, 3):
                raise RuntimeError(f"newsdex run failed ({proc.returncode}): {proc.stderr[-2000:]}")
            seconds += time.perf_counter() - start
        out = Path(tmp) / "export.jsonl"
        cmd = [sys.executable, "-m", "newsdex", "--data-dir", str(data), "export", "--output-jsonl", str(out)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RuntimeError(f"newsdex export failed: {proc.stderr[-2000:]}")
        docs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # Links are between canonical documents: a quoted article whose copy the run kept as canonical
    # is linked through the copy. Pairs are named by the records of their canonicals.
    record_of = {d["id"]: d["input"]["record_id"] for d in docs}
    canonical = {d["input"]["record_id"]: record_of[d.get("duplicate_of") or d["id"]] for d in docs}
    gold = {tuple(sorted((canonical.get(a, a), canonical.get(b, b)))) for a, b in gold}
    directed = {
        (record_of[d["id"]], record_of.get(other, other))
        for d in docs
        for entry in d.get("shared_passages") or []
        for other in entry["documents"]
    }
    predicted = {tuple(sorted(pair)) for pair in directed}
    one_way = {p for p in predicted if (p[0], p[1]) not in directed or (p[1], p[0]) not in directed}
    tp = predicted & gold
    by_edit: dict[str, list[int]] = {}
    by_place: dict[str, list[int]] = {}
    for pair in gold:
        quoter = next((r for r in pair if kinds.get(r) == "quote"), "?~quote-?-?")
        edit, place = quoter.split("~quote-")[1].split("-")
        by_edit.setdefault(edit, [0, 0])[pair in tp] += 1
        by_place.setdefault(place, [0, 0])[pair in tp] += 1
    wrong = sorted(predicted - gold)
    return {
        "records": len(records),
        "documents": len(docs),
        "duplicates": sum(1 for d in docs if d.get("duplicate_of")),
        "copies": sum(1 for k in kinds.values() if k == "copy"),
        "links_gold": len(gold),
        "links_predicted": len(predicted),
        "precision": round(len(tp) / len(predicted), 4) if predicted else 1.0,
        "recall": round(len(tp) / len(gold), 4) if gold else 1.0,
        "links_one_way": len(one_way),
        "recall_by_edit": {k: f"{v[1]}/{v[0] + v[1]}" for k, v in sorted(by_edit.items())},
        "recall_by_place": {k: f"{v[1]}/{v[0] + v[1]}" for k, v in sorted(by_place.items())},
        "wrong_links": [[a, kinds.get(a), b, kinds.get(b)] for a, b in wrong[:10]],
        "missed_links": sorted(gold - predicted)[:10],
        "seconds": round(seconds, 1),
    }


def _silver_dump_scores(args: tuple[str, str, str]) -> tuple[int, dict[str, tuple[float, float, float]]]:
    """Return the length of the HTML path's body of a page and the text path's token P/R/F1 against
    it for each dump style of the page."""
    name, path, url = args
    page = _read_gz(Path(path))
    reference = _ours_html((page, url))
    try:
        bodies = _ours_text_styles((name, page, url))
    except Exception:
        return 0, {}  # a page lxml cannot parse gives no dump
    return len(reference.split()), {style: token_prf(body, reference) for style, body in bodies.items()}


def eval_dumps_silver(eval_dir: Path, workers: int) -> dict[str, Any]:
    """The text path on dumps of the htmldate and trafilatura pages (1,790, many languages, not only
    news; never looked at while the line rules were written), scored against the HTML path's own body
    of each page (a silver reference: it measures how far the text path falls behind the HTML path)."""
    from benchmarks.linedata import training_pages

    pages = training_pages(eval_dir)
    results = _map(_silver_dump_scores, [(p["name"], str(p["path"]), p["url"]) for p in pages], workers)
    out: dict[str, Any] = {}
    for family in ("htmldate", "trafilatura"):
        rows = [r for p, r in zip(pages, results, strict=True) if p["name"].startswith(family) and r[0] >= 50]
        out[family] = {"pages": len(rows)}
        for style in ("naive", "flattened", "furniture"):
            scores = [r[1][style] for r in rows if style in r[1]]
            out[family][style] = {
                **{k: _mean([s[i] for s in scores]) for i, k in enumerate(("precision", "recall", "f1"))},
                "pages_f1_below_05": sum(s[2] < 0.5 for s in scores),
            }
    return out


SECTIONS: dict[str, Callable[[Path, int], dict[str, Any]]] = {
    "cleantext": eval_cleantext,
    "fundus": eval_fundus,
    "snippets": eval_snippets,
    "dumps_silver": eval_dumps_silver,
    "dates": eval_dates,
    "metadata": eval_metadata,
    "dedup": eval_dedup,
    "false_merges": eval_false_merges,
    "entities": eval_entities,
    "entities_bbc": eval_entities_bbc,
    "wikigold": eval_wikigold,
    "stories": eval_stories,
    "samples_stories": eval_samples_stories,
    "passages": eval_passages,
}


def main(argv: list[str] | None = None) -> int:
    """Run the named evaluation sections and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__)
    parser.add_argument("sections", nargs="+", choices=[*SECTIONS, "all"])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    names = list(SECTIONS) if "all" in args.sections else args.sections
    results: dict[str, Any] = {}
    for name in names:
        start = time.perf_counter()
        results[name] = SECTIONS[name](args.eval_dir, args.workers)
        print(f"== {name} ({time.perf_counter() - start:.0f} s)")
        print(json.dumps(results[name], indent=2))
        sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
