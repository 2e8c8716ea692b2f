"""The throughput benchmark's corpus and floor (the figures themselves are printed, never asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.throughput import build_corpus, floor_figures, measure_floor
from tests.conftest import EVAL

pytestmark = pytest.mark.skipif(
    not (EVAL / "bbc").is_dir(), reason=f"evaluation data not found at {EVAL} (set NEWSDEX_EVAL_DIR)"
)


def test_corpus_uses_every_real_document_before_any_variant(tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    counts = build_corpus(EVAL, 2000, 0.0, out)  # text only: 896 BBC articles, then spliced variants
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2000 and counts["text"] == 2000 and counts["html"] == 0
    assert counts["text_variants"] == 2000 - 896
    real, variants = records[:896], records[896:]
    # Each BBC file once (the set itself repeats 24 articles word for word: real copies).
    files = {p.read_bytes().decode("utf-8", "replace") for p in (EVAL / "bbc").glob("*/*.txt")}
    assert {r["text"] for r in real} == files
    # A variant is a new document, not the article it starts with (unless the article it is spliced
    # with is one of the set's own word-for-word copies of it).
    changed = sum(v["text"] != r["text"] for v, r in zip(variants, real * 2, strict=False))
    assert changed > 0.95 * len(variants)
    assert len({v["text"] for v in variants}) > 0.95 * len(variants)


def test_floor_splits_ner_into_analysed_documents_and_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    build_corpus(EVAL, 6, 0.0, out)
    first, second = measure_floor(out), measure_floor(out)
    assert len(first[1]) == 6 and sum(first[1]) == pytest.approx(first[0]["spacy_ner"])
    floor = floor_figures([first, second], 2, ner_lines={1, 2, 3})
    assert 0 < floor["spacy_ner_strict"] < floor["spacy_ner"]
    assert floor["spacy_ner"] == pytest.approx((first[0]["spacy_ner"] + second[0]["spacy_ner"]) / 2)
    assert floor["floor_strict_on_all_cores"] < floor["floor_on_all_cores"]
    assert floor["floor_on_all_cores"] == pytest.approx(floor["total_one_core"] / 2)
