from __future__ import annotations

import pytest

from newsdex.transforms.urls import normalise_url, registered_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://WWW.Example.COM:443/a/b?utm_source=x&id=3#frag", "https://www.example.com/a/b?id=3"),
        ("http://example.com:80/", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com/story?fbclid=abc&gclid=1&mc_cid=2", "https://example.com/story"),
        ("https://m.example.com/news/1", "https://example.com/news/1"),
        ("https://example.com/news/1/amp/", "https://example.com/news/1"),
        ("https://example.com/news/1.amp.html", "https://example.com/news/1.html"),
        ("https://example.com/news/1?amp=1", "https://example.com/news/1"),
        ("ftp://example.com/file", None),
        ("not a url", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_url(raw: str | None, expected: str | None) -> None:
    assert normalise_url(raw) == expected


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://cdnn1.img.sputniknews.com/img/1.jpg", "sputniknews.com"),
        ("https://www.bbc.co.uk/news/1", "bbc.co.uk"),
        ("https://news.example.com.au/a", "example.com.au"),
        ("sputniknews.com", "sputniknews.com"),
        (None, None),
    ],
)
def test_registered_domain(url: str | None, domain: str | None) -> None:
    assert registered_domain(url) == domain
