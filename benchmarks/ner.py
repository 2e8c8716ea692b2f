"""Entity quality on annotated text: document-level name sets per kind, newsdex beside raw spaCy.

Used by `python -m benchmarks.quality wikigold|entities_bbc|entities` (docs/quality.md):
- `read_conll` turns a CoNLL file (wikigold: IOB1 tags PER/ORG/LOC/MISC, `-DOCSTART-` between
  articles; the CoNLL-2003 layout with four columns reads the same) into articles: detokenised
  text, one sentence a paragraph (a wire report's headline and dateline stay lines of their own),
  and the gold names of each kind;
- `score` compares per-document name sets, micro-averaged over documents, per kind;
- the systems: raw spaCy (`en_core_web_sm` entities, PERSON→person, ORG→org, GPE/LOC→location),
  the newsdex entity stage on the same text (`stage_entities`: the flow's own enrich stage), and
  the whole pipeline (`run_entities`: the articles as JSONL records through `newsdex run`).

Names are compared case-, accent- and punctuation-folded, without a leading "the" or a final "'s"
(kept on organisations: "Macy's"), with the curated alias table's canonical forms accepted ("U.S." = "United States") — for the gold and every
system alike. The "entity" view also counts a document's short person mention ("Scalfaro") as the
one longer name of the same document it belongs to ("Oscar Luigi Scalfaro"), again on both sides:
a facet lists people, not spellings. The "surface" view compares the names as they are.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("person", "org", "location")
CONLL_KIND = {"PER": "person", "ORG": "org", "LOC": "location"}
RAW_KIND = {"PERSON": "person", "ORG": "org", "GPE": "location", "LOC": "location"}
NO_SPACE_BEFORE = {
    ",",
    ".",
    ";",
    ":",
    "!",
    "?",
    ")",
    "]",
    "}",
    "%",
    "'s",
    "'S",
    "n't",
    "'",
    "'re",
    "'ve",
    "'ll",
    "'d",
    "'m",
}
NO_SPACE_AFTER = {"(", "[", "{", "$", "#"}
SENTENCES_PER_PARAGRAPH = 1
LEADING_THE = re.compile(r"^the\s+")
POSSESSIVE = re.compile(r"\s*[’']s?$")


@dataclass(slots=True)
class GoldArticle:
    """One annotated article: its id, text (paragraphs separated by a blank line) and gold names."""

    id: str
    text: str
    gold: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})


def _detokenise(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Return the sentence as text and each token's (start, end) in it."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    quote_open = False
    glue_next = True
    for tok in tokens:
        glue = glue_next or tok in NO_SPACE_BEFORE
        if tok == '"':
            glue = glue_next or quote_open
            glue_next = not quote_open
            quote_open = not quote_open
        else:
            glue_next = tok in NO_SPACE_AFTER
        if not glue:
            out.append(" ")
            pos += 1
        spans.append((pos, pos + len(tok)))
        out.append(tok)
        pos += len(tok)
    return "".join(out), spans


def read_conll(path: Path) -> list[GoldArticle]:
    """Return the articles of a CoNLL file (token, then its tag last on each line; IOB1 or IOB2)."""
    articles: list[GoldArticle] = []
    sentences: list[list[tuple[str, str]]] = []
    sentence: list[tuple[str, str]] = []

    def close_article() -> None:
        if sentence:
            sentences.append(list(sentence))
            sentence.clear()
        if sentences:
            articles.append(_article(f"{path.stem}-{len(articles) + 1:03d}", sentences))
            sentences.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if not parts:
            if sentence:
                sentences.append(list(sentence))
                sentence.clear()
            continue
        if parts[0] == "-DOCSTART-":
            close_article()
            continue
        sentence.append((parts[0], parts[-1]))
    close_article()
    return articles


def _article(article_id: str, sentences: list[list[tuple[str, str]]]) -> GoldArticle:
    article = GoldArticle(article_id, "")
    paragraphs: list[str] = []
    current: list[str] = []
    for sent in sentences:
        text, spans = _detokenise([t for t, _ in sent])
        name: list[int] = []
        kind = None
        for i, (_, tag) in enumerate([*sent, ("", "O")]):
            tag_kind = tag[2:] if tag != "O" else None
            starts = tag.startswith("B-") or tag_kind != kind
            if name and starts:
                if kind in CONLL_KIND:
                    article.gold[CONLL_KIND[kind]].add(text[spans[name[0]][0] : spans[name[-1]][1]])
                name = []
            kind = tag_kind
            if tag_kind:
                name.append(i)
        current.append(text)
        if len(current) == SENTENCES_PER_PARAGRAPH:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    article.text = "\n\n".join(paragraphs)
    return article


# --- scoring -------------------------------------------------------------------------------------
def _name_key(kind: str, name: str, aliases: dict[str, dict[str, str]]) -> str:
    from newsdex.transforms.text import line_key

    key = LEADING_THE.sub("", line_key(POSSESSIVE.sub("", name) if kind != "org" else name))

    canonical = aliases.get(kind, {}).get(key)
    return LEADING_THE.sub("", line_key(canonical)) if canonical else key


def entity_keys(kind: str, names: Iterable[str], aliases: dict[str, dict[str, str]], view: str) -> set[str]:
    """Return a document's comparison keys for one kind (see the module docstring for the views)."""
    keys = {k for k in (_name_key(kind, n, aliases) for n in names) if k}
    if view == "surface" or kind != "person":
        return keys
    out = set()
    for key in keys:
        tokens = key.split()
        longer = [
            other for other in keys if len(other.split()) > len(tokens) and _is_part_of(tokens, other.split())
        ]
        # A short name belongs to a longer one only when that is unambiguous (two Schumachers).
        out.add(longer[0] if len(longer) == 1 else key)
    return out


def _is_part_of(short: list[str], full: list[str]) -> bool:
    """Return True when `short` is `full` with some tokens left out, keeping the order."""
    it = iter(full)
    return all(token in it for token in short)


def score(
    gold: list[dict[str, set[str]]],
    found: list[dict[str, Iterable[str]]],
    aliases: dict[str, dict[str, str]],
    view: str = "entity",
) -> dict[str, Any]:
    """Return micro-averaged precision/recall/F1 per kind over documents, and the mean F1 over kinds.

    A gold document's `ignore` names (kind left open by the annotation) count neither way.
    """
    out: dict[str, Any] = {}
    for kind in KINDS:
        tp = fp = fn = 0
        for g, f in zip(gold, found, strict=True):
            truth = entity_keys(kind, g.get(kind, ()), aliases, view)
            ignored = entity_keys(kind, g.get("ignore", ()), aliases, "surface")
            ours = entity_keys(kind, f.get(kind, ()), aliases, view) - (ignored - truth)
            tp, fp, fn = tp + len(truth & ours), fp + len(ours - truth), fn + len(truth - ours)
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        out[kind] = {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4),
        }
    out["mean_f1"] = round(sum(out[k]["f1"] for k in KINDS) / len(KINDS), 4)
    return out


# --- systems -------------------------------------------------------------------------------------
def raw_spacy_entities(texts: list[str], model: str) -> list[dict[str, set[str]]]:
    """Return raw spaCy names per document: PERSON→person, ORG→org, GPE/LOC→location."""
    from newsdex.flows.stages import load_model

    nlp = load_model(model)
    out = []
    for doc in nlp.pipe(texts, batch_size=16):
        names: dict[str, set[str]] = {k: set() for k in KINDS}
        for ent in doc.ents:
            if ent.label_ in RAW_KIND:
                names[RAW_KIND[ent.label_]].add(ent.text)
        out.append(names)
    return out


def stage_entities(
    items: list[tuple[str, str]], model: str, batch_size: int = 100, source: str | None = None
) -> list[dict[str, list[str]]]:
    """Return the entities the flow's enrich stage gives (title, body) pairs, batch by batch.

    The documents get the language the pipeline's normaliser would give them, and aliases
    learned by one batch carry to the next, as in a run.
    """
    from newsdex.flows.stages import enrich_batch
    from newsdex.transforms.language import detect_article_language
    from newsdex.transforms.record import Document

    docs = []
    for n, (title, body) in enumerate(items):
        doc = Document(input={"path": "eval", "line": n}, body=body, title=title or None, id=f"doc{n}")
        doc.source_domain = source
        doc.language, doc.language_confidence = detect_article_language(doc.title, body)
        docs.append(doc)
    learned: dict[str, dict[str, str]] = {}
    for start in range(0, len(docs), batch_size):
        _, new, _ = enrich_batch(docs[start : start + batch_size], {"en": model}, learned, lambda ids: {})
        for kind, table in new.items():
            learned.setdefault(kind, {}).update(table)
    return [doc.entities for doc in docs]


def run_entities(
    records: list[dict[str, Any]], workers: int
) -> tuple[list[dict[str, list[str]]], dict[str, Any]]:
    """Return the entities `newsdex run` indexes for JSONL records (by their `id`), and the run report.

    A record the run rejects, or indexes under another record's entities, counts as what the
    index holds for it (nothing, for a rejection).
    """
    with tempfile.TemporaryDirectory(prefix="newsdex-ner-") as tmp:
        inbox = Path(tmp) / "articles.jsonl"
        inbox.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        out, report = Path(tmp) / "docs.jsonl", Path(tmp) / "report.json"
        env = {**os.environ, "PREFECT_LOGGING_LEVEL": "CRITICAL"}
        env.setdefault("PREFECT_HOME", str(Path(tmp) / "prefect"))
        cmd = [sys.executable, "-m", "newsdex", "--data-dir", str(Path(tmp) / "data"), "run", str(inbox)]
        cmd += ["--output-jsonl", str(out), "--report", str(report), "--workers", str(workers)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode not in (0, 3):
            raise RuntimeError(f"newsdex run failed ({proc.returncode}): {proc.stderr[-2000:]}")
        by_record: dict[str, dict[str, list[str]]] = {}
        for line in out.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            by_record[doc["input"]["record_id"]] = doc["entities"]
        run_report = json.loads(report.read_text(encoding="utf-8"))
    empty: dict[str, list[str]] = {k: [] for k in KINDS}
    return [by_record.get(str(r["id"]), empty) for r in records], run_report
