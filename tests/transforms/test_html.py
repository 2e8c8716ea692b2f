from __future__ import annotations

import pytest

from newsdex.transforms.html import ExtractionRejected, extract_html

PARAGRAPHS = "".join(
    f"<p>Paragraph {i}: the city council voted on the new budget after a debate that lasted {i} hours.</p>"
    for i in range(12)
)
ARTICLE = f"<html lang='en'><head><title>Budget passes | City News</title></head><body><nav><a href='/'>Home</a></nav><article><h1>Budget passes</h1>{PARAGRAPHS}<p>Subscribe to our newsletter</p></article><footer>© City News</footer></body></html>"


def test_article_body_without_furniture() -> None:
    result = extract_html(ARTICLE, "https://citynews.example/2022/01/19/budget")
    assert "Paragraph 0: the city council voted" in result.body and "Paragraph 11" in result.body
    assert "Subscribe" not in result.body and "Home" not in result.body
    assert result.hints["html_lang"] == "en"


def test_xhtml_with_an_encoding_declaration_parses() -> None:
    page = '<?xml version="1.0" encoding="utf-8"?>\n' + ARTICLE
    assert "Paragraph 3" in extract_html(page, "https://citynews.example/a").body


@pytest.mark.parametrize(
    ("page", "url", "reason"),
    [
        (
            "<html><body><ul>"
            + "".join(f"<li><a href='/s/{i}'>Story {i}</a></li>" for i in range(50))
            + "</ul></body></html>",
            "https://citynews.example/tag/politics/",
            "not_an_article",
        ),
        ("<html><body><p>Short note.</p></body></html>", "https://citynews.example/x", "not_an_article"),
        ("<html><body></body></html>", None, "empty_after_cleaning"),
    ],
)
def test_pages_without_an_article_are_rejected(page: str, url: str | None, reason: str) -> None:
    with pytest.raises(ExtractionRejected) as err:
        extract_html(page, url)
    assert err.value.reason == reason
