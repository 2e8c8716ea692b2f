from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsdex.transforms.boilerplate import clean_text
from newsdex.transforms.metadata import (
    clean_authors,
    clean_tags,
    clean_title,
    document_id,
    normalise_document,
)
from newsdex.transforms.record import Document

FETCHED = datetime(2022, 1, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("title", "publisher", "domain", "expected"),
    [
        (
            "Moscow hints at missiles | Sputnik International",
            "Sputnik International",
            "sputniknews.com",
            "Moscow hints at missiles",
        ),
        ("Talks stall - The Guardian", "The Guardian", "theguardian.com", "Talks stall"),
        ("Talks stall – BBC News", None, "bbc.co.uk", "Talks stall"),
        ("Russia – US talks stall", None, "example.com", "Russia – US talks stall"),
        ("  “Quoted”   title  ", None, None, '"Quoted" title'),
        (None, None, None, None),
    ],
)
def test_clean_title(
    title: str | None, publisher: str | None, domain: str | None, expected: str | None
) -> None:
    assert clean_title(title, publisher, domain) == expected


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["By Ann M. Simmons and Lawrence Norman"], ["Ann M. Simmons", "Lawrence Norman"]),
        (["MELISSA GOLDIN"], ["Melissa Goldin"]),
        (["THE ASSOCIATED PRESS"], []),
        (["Staff"], []),
        (["news@example.com"], []),
        (["+7 495 645 6601"], []),
        (["Sputnik International"], []),
        (["Jane Doe; John Roe", "Jane Doe"], ["Jane Doe", "John Roe"]),
    ],
)
def test_clean_authors(names: list[str], expected: list[str]) -> None:
    assert clean_authors(names, "Sputnik International", "sputniknews.com") == expected


def test_clean_tags() -> None:
    assert clean_tags(["Venezuela", "world, US", "venezuela", " NATO expansion ", "x"]) == [
        "venezuela",
        "world",
        "us",
        "nato expansion",
    ]


def test_document_id_is_stable_and_url_based() -> None:
    assert document_id("https://a.example/x", "body") == document_id("https://a.example/x", "other body")
    assert document_id(None, "raw one") == document_id(None, "raw one")
    assert document_id(None, "raw one") != document_id(None, "raw two")


def _sample_doc(text: str) -> Document:
    result = clean_text(text)
    doc = Document(input={"path": "x"}, body=result.body, title=result.title, hints=result.hints)
    return normalise_document(doc, FETCHED)


def test_sputnik_sample_metadata(samples: dict[str, str]) -> None:
    doc = _sample_doc(samples["001"])
    assert doc.source_domain == "sputniknews.com"
    assert doc.publisher == "Sputnik International"
    assert doc.published_at == "2022-01-19T18:40:00Z"
    assert doc.modified_at == "2022-01-19T18:53:00Z"
    assert doc.authors == ["Ekaterina Blinova"]
    assert doc.tags[:3] == ["venezuela", "world", "us"]
    assert "cuban missile crisis of 1962" in doc.tags
    assert doc.image_url is not None and doc.image_url.startswith("https://cdnn1.img.sputniknews.com/")
    assert doc.id.startswith("u")
    assert doc.language == "en"


@pytest.mark.parametrize("sample", ["000", "001", "002", "003", "004"])
def test_samples_are_english_and_authors_are_people(samples: dict[str, str], sample: str) -> None:
    doc = _sample_doc(samples[sample])
    assert doc.language == "en"  # 003 carries a Spanish subheading; the body decides
    assert all("@" not in a and "protected" not in a for a in doc.authors)
