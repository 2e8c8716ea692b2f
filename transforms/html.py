"""Main-text and metadata extraction from HTML pages with trafilatura (and htmldate for dates)."""

from __future__ import annotations

import re
from configparser import ConfigParser
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import htmldate
import trafilatura
from ftfy import fix_encoding
from lxml import html as lxml_html
from trafilatura.settings import use_config

from newsdex.transforms.boilerplate import boilerplate_reason
from newsdex.transforms.text import line_key, words

# Section, tag and listing paths: pages there are link hubs, not articles.
LISTING_PATH = re.compile(
    r"^/(?:$|index\.\w+$|(?:tags?|topics?|category|categories|section|sections|author|authors|archive|search|page)(?:/|$))",
    re.I,
)
MIN_ARTICLE_WORDS = 40
MOJIBAKE = re.compile("[ÃÂÐÑâ][\u0080-\u00bf]")
MOJIBAKE_MIN = 20
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
HTML_LANG = re.compile(r"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)
JSONLD_TYPE = re.compile(
    r'"@type"\s*:\s*"(NewsArticle|Article|BlogPosting|ReportageNewsArticle|AnalysisNewsArticle)"'
)


class ExtractionRejected(ValueError):
    """The page yields no article; `reason` is the rejection reason."""

    def __init__(self, reason: str, detail: str, hints: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.hints = hints


@dataclass(slots=True)
class HtmlResult:
    """The article text of a page and the metadata found in it."""

    body: str
    title: str | None
    hints: dict[str, Any] = field(default_factory=dict)


def trafilatura_config(max_tree_size: int) -> ConfigParser:
    """Return a trafilatura configuration with our caps (its own timeout is off: ours is per process)."""
    config = use_config()
    config["DEFAULT"]["MAX_TREE_SIZE"] = str(max_tree_size)
    config["DEFAULT"]["EXTRACTION_TIMEOUT"] = "0"
    return config


DEFAULT_CONFIG = trafilatura_config(200_000)


def extract_html(
    html: str, url: str | None = None, config: ConfigParser = DEFAULT_CONFIG, reject_non_articles: bool = True
) -> HtmlResult:
    """Return the article body and metadata hints of an HTML page; raise ExtractionRejected if none.

    Settings were chosen by measurement (docs/quality.md): trafilatura defaults with comments off,
    then our marker filter over its paragraphs, which removes consent/newsletter/teaser lines that
    trafilatura sometimes keeps.
    """
    if len(MOJIBAKE.findall(html[:200_000])) >= MOJIBAKE_MIN:
        # UTF-8 once decoded as latin-1 upstream: repair before trafilatura, which drops the C1
        # control characters such text carries and makes it unrecoverable.
        html = fix_encoding(html)
    try:
        # lxml refuses str input that carries an XML encoding declaration (XHTML pages); the text
        # is already decoded, so the declaration has nothing left to say.
        tree = lxml_html.fromstring(XML_DECLARATION.sub("", html[:500], count=1) + html[500:])
    except (ValueError, lxml_html.etree.ParserError) as err:
        raise ExtractionRejected("unparseable_html", f"lxml cannot parse the page: {err}") from err
    if tree is None:
        raise ExtractionRejected("unparseable_html", "no document element")
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        config=config,
        date_extraction_params={"extensive_search": True, "original_date": True},
    )
    if doc is None:
        raise ExtractionRejected(
            "empty_after_cleaning", "trafilatura found no main text", _fallback_hints(tree, html, url)
        )
    paragraphs = [p.strip() for p in (doc.text or "").split("\n") if p.strip()]
    kept = [p for p in paragraphs if not boilerplate_reason(p)]
    title = doc.title
    if title:
        kept = [p for p in kept if line_key(p) != line_key(title)] or kept
    body = "\n\n".join(kept)
    hints: dict[str, Any] = {
        "title": doc.title,
        "authors": [a.strip() for a in re.split(r";|\|", doc.author or "") if a.strip()],
        "published": doc.date,
        "description": doc.description,
        "publisher": doc.sitename,
        "tags": [*(doc.tags or []), *(doc.categories or [])],
        "image_url": doc.image,
        "canonical_url": doc.url,
        "html_lang": _html_lang(html),
    }
    modified = _modified_date(tree, url)
    if modified and modified != doc.date:
        hints["modified"] = modified
    n_words = len(words(body))
    path = urlsplit(url or doc.url or "").path
    is_article = bool(JSONLD_TYPE.search(html[:500_000])) or doc.pagetype == "article"
    if n_words == 0:
        raise ExtractionRejected("empty_after_cleaning", "no text left after boilerplate removal", hints)
    if reject_non_articles and not is_article:
        if LISTING_PATH.match(path or "/") and (url or doc.url) and n_words < 300:
            raise ExtractionRejected(
                "not_an_article", f"listing/section page ({path or '/'}) with {n_words} words of text", hints
            )
        if n_words < MIN_ARTICLE_WORDS:
            raise ExtractionRejected(
                "not_an_article", f"only {n_words} words of main text and no article markup", hints
            )
    return HtmlResult(body=body, title=doc.title, hints=hints)


def _html_lang(html: str) -> str | None:
    match = HTML_LANG.search(html[:5000])
    return match.group(1).lower() if match else None


def _modified_date(tree: Any, url: str | None) -> str | None:
    try:
        return htmldate.find_date(tree, url=url, original_date=False, extensive_search=False)
    except (ValueError, TypeError):
        return None


def _fallback_hints(tree: Any, html: str, url: str | None) -> dict[str, Any]:
    """Return the metadata a page without main text still has (for the rejects file and evaluation)."""
    title = tree.findtext(".//title")
    try:
        published = htmldate.find_date(tree, url=url, original_date=True)
    except (ValueError, TypeError):
        published = None
    return {"title": title.strip() if title else None, "published": published, "html_lang": _html_lang(html)}
