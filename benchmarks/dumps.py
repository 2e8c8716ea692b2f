"""Text dumps of HTML pages the way a naive scraper writes them: head metadata first, then every
visible block of the page, one per line. Used to measure the text cleaner on pages with gold text."""

from __future__ import annotations

from lxml import html as lxml_html

BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "tr",
    "td",
    "th",
    "figcaption",
    "figure",
    "form",
    "dd",
    "dt",
    "address",
    "details",
    "summary",
    "body",
    "br",
    "hr",
    "time",
    "label",
    "button",
    "option",
    "select",
}
INVISIBLE = {"script", "style", "noscript", "template", "svg", "iframe", "head", "canvas", "object"}
HEAD_META = (
    "og:title",
    "og:description",
    "description",
    "article:published_time",
    "article:modified_time",
    "og:image",
    "article:tag",
    "keywords",
    "author",
    "article:author",
    "og:site_name",
    "og:locale",
)


def naive_dump(page: str, head: bool = True) -> str:
    """Return the page as a flattened text dump (one visible block per line, head metadata first
    unless `head` is False)."""
    tree = lxml_html.fromstring(page)
    lines: list[str] = []
    title = tree.findtext(".//title")
    if title and head:
        lines.append(title)
    for meta in tree.iter("meta") if head else ():
        key = meta.get("property") or meta.get("name") or ""
        if key.lower() in HEAD_META and meta.get("content"):
            lines.append(meta.get("content"))
    body = tree.find(".//body")
    current: list[str] = []

    def flush() -> None:
        text = " ".join("".join(current).split())
        if text:
            lines.append(text)
        current.clear()

    def walk(el: lxml_html.HtmlElement) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in INVISIBLE or not tag:
            if el.tail:
                current.append(el.tail)
            return
        block = tag in BLOCKS
        if block:
            flush()
        if el.text:
            current.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush()
        if el.tail:
            current.append(el.tail)

    if body is not None:
        walk(body)
        flush()
    return "\n\n".join(lines)
