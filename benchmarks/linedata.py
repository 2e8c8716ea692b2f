"""Labelled lines for the text cleaner's line model: real pages dumped as text in several styles,
each line labelled by whether it belongs to the page's article.

    python -m benchmarks.linedata [--eval-dir ../shared/eval] [--out build/linedata.jsonl]

Pages and their reference article (HTML in, article text known):
- `htmldate/` (800 pages, many languages) and `trafilatura/` (990 pages): the article as the
  HTML path extracts it (a silver reference); on `trafilatura/` the collection's own `with`
  snippets (must be in the article) and `without` snippets (must not) override it line by line;
- `fundus/` (40 English news pages with a hand-checked body) is kept out of training: it is the
  held-out page set on which the model is chosen and measured (`benchmarks.quality fundus`).

Dump styles, each page in every style (`dump_styles`):
- `naive`: head metadata, then every visible block, one per line (`benchmarks.dumps.naive_dump`);
- `flattened`: the page's metadata the way a flattened scrape shows it (sample 001's shape: a
  `date YYYY-MM-DD URL` header, title repeats, timestamps, one tag a line, an XPath, image
  addresses and sizes, a publisher contact line, related links, the author twice), around the
  visible blocks, some paragraph breaks lost;
- `furniture`: the visible blocks with cookie and newsletter boxes, share widgets, advertisement
  markers and "READ MORE" teasers (other pages' headlines) put in at seeded random places.

Clean texts with no page around them (wire stories, BBC, wikigold) never reach the model: the
cleaner keeps them whole before any model is asked (`benchmarks.quality cleantext` measures it).
Everything is seeded: the same evaluation data gives the same lines and labels on every machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.dumps import naive_dump
from benchmarks.quality import DEFAULT_EVAL, TOKEN, _map, _read_gz

SEED = 20261126
STYLES = ("naive", "flattened", "furniture")
COOKIE = [
    "This website uses cookies. By continuing to use this site, you accept our use of cookies.",
    "We use cookies and similar technologies to improve your experience. Accept all Manage preferences",
    "Wir verwenden Cookies, um Ihnen ein optimales Nutzungserlebnis zu bieten. Akzeptieren",
    "By clicking “Accept All Cookies”, you agree to the storing of cookies on your device.",
]
NEWSLETTER = [
    "Sign up for our daily newsletter",
    "Get the latest headlines delivered to your inbox every morning.",
    "Enter your email address",
    "Subscribe",
    "By signing up you agree to our privacy policy and terms of use.",
    "Newsletter abonnieren",
]
SHARE = ["Share", "Tweet", "Email", "Share this article", "Share on Facebook", "Copy link", "Comments"]
ADS = ["- Advertisement -", "Advertisement", "ADVERTISEMENT", "Anzeige", "Sponsored content"]
TEASER = ["READ MORE: {}", "Read more: {}", "Related: {}", "ALSO READ: {}", "Lesen Sie auch: {}", "{}"]
META_PATHS = [
    "/html/head/meta[@name='og:title']/@content /html/head/meta[@name='og:description']/@content",
    "//div[@class='article__body']//p",
]


def _rng(name: str, style: str) -> random.Random:
    digest = hashlib.sha256(f"{SEED}:{name}:{style}".encode()).hexdigest()
    return random.Random(int(digest[:16], 16))


def _head(page: str) -> dict[str, Any]:
    """Return the page's title, description, dates, tags, image, author and site name."""
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(page)
    meta: dict[str, Any] = {"tags": []}
    title = tree.findtext(".//title")
    meta["title"] = " ".join(title.split()) if title else None
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or "").lower()
        value = " ".join((el.get("content") or "").split())
        if not value:
            continue
        if key in ("article:tag", "keywords", "news_keywords"):
            meta["tags"].extend(t.strip() for t in value.split(",") if t.strip())
        elif key in ("og:description", "description"):
            meta.setdefault("description", value)
        elif key in ("article:published_time", "article:modified_time", "date", "pubdate"):
            meta.setdefault("dates", []).append(value)
        elif key == "og:image":
            meta.setdefault("image", value)
        elif key in ("author", "article:author"):
            meta.setdefault("author", value)
        elif key == "og:site_name":
            meta.setdefault("site", value)
    links = [a.get("href") or "" for a in tree.iter("a")]
    meta["links"] = [h for h in links if h.startswith("http") and h.count("/") >= 4][:40]
    return meta


def _blocks(page: str) -> list[str]:
    """Return the page's visible blocks, one per line (the naive dump without its head lines)."""
    return [line for line in naive_dump(page, head=False).split("\n\n") if line]


def dump_styles(name: str, page: str, url: str | None, others: list[str]) -> dict[str, tuple[str, set[str]]]:
    """Return each style's dump of a page and the lines put in as furniture (known negatives)."""
    out: dict[str, tuple[str, set[str]]] = {"naive": (naive_dump(page), set())}
    blocks = _blocks(page)
    meta = _head(page)
    # Flattened: sample 001's shape.
    rng = _rng(name, "flattened")
    day = next((d[:10] for d in meta.get("dates", []) if re.match(r"\d{4}-\d{2}-\d{2}", d)), "2024-01-01")
    head: list[str] = []
    if url:
        head.append(f"date {day} {url}")
    if meta["title"]:
        head += [meta["title"], meta["title"]]
    if meta.get("description"):
        head.append(meta["description"])
    stamp = f"{day}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}+0000"
    head += [stamp] * rng.randint(1, 3)
    head += [t.lower() for t in meta["tags"][:12]]
    head.append(rng.choice(META_PATHS))
    if meta.get("image"):
        head.append(meta["image"])
    body = list(blocks)
    if len(body) > 3 and rng.random() < 0.5:
        # Lost paragraph breaks: a run of paragraphs glued into one line, as in sample 001.
        start = rng.randrange(len(body) - 2)
        run = body[start : start + rng.randint(2, 6)]
        body[start : start + len(run)] = ["".join(run)]
    host = urlsplit(url).hostname if url else None
    site = meta.get("site") or host or "News"
    contact = f"{site} feedback@{host or 'example.org'} +{rng.randint(10, 99)}4956456601"
    tail = meta["links"][: rng.randint(0, 6)] + [t.lower() for t in meta["tags"][:3]] + [contact, day[:4]]
    if meta.get("author"):
        tail += [meta["author"], meta["author"]]
    tail += ["en_EN", "1920 1080 true", "1920 1440 true", contact]
    if meta["tags"]:
        tail.append(", ".join(t.lower() for t in meta["tags"][:12]))
    out["flattened"] = ("\n\n".join(head + body + tail), set())
    # Furniture put in between the blocks.
    rng = _rng(name, "furniture")
    lines = list(blocks)
    added: set[str] = set()

    def put(line: str, at: int) -> None:
        lines.insert(at, line)
        added.add(line)

    if rng.random() < 0.6:
        put(rng.choice(COOKIE), rng.choice([0, len(lines)]))
    for _ in range(rng.randint(1, 3)):
        put(rng.choice(ADS), rng.randint(0, len(lines)))
    for _ in range(rng.randint(1, 3)):
        if others:
            put(rng.choice(TEASER).format(rng.choice(others)), rng.randint(0, len(lines)))
    at = rng.randint(0, len(lines))
    for line in rng.sample(SHARE, rng.randint(1, 4)):
        put(line, at)
    if rng.random() < 0.7:
        at = rng.randint(len(lines) // 2, len(lines))
        for line in NEWSLETTER[: rng.randint(2, len(NEWSLETTER))]:
            put(line, at)
            at += 1
    out["furniture"] = ("\n\n".join(lines), added)
    return out


def _grams(tokens: list[str], n: int = 3) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def label_lines(
    lines: list[str],
    reference: str,
    added: Collection[str] = (),
    with_: Collection[str] = (),
    without: Collection[str] = (),
) -> list[int | None]:
    """Return 1 (article), 0 (not article) or None (unsure) for each line against the reference.

    A line of three words or more is article when half its word trigrams are in the reference, not
    when under a fifth are; a shorter line when it is a whole paragraph of the reference. Snippets
    the collection gives (`with`, `without`) and lines put in as furniture decide first.
    """
    ref_tokens = [t.casefold() for t in TOKEN.findall(reference)]
    ref_grams = _grams(ref_tokens)
    ref_paragraphs = {tuple(t.casefold() for t in TOKEN.findall(p)) for p in reference.split("\n")}
    ref_words = set(ref_tokens)
    norm_with = [" ".join(w.split()) for w in with_]
    norm_without = [" ".join(w.split()) for w in without]
    out: list[int | None] = []
    for line in lines:
        if not line:
            out.append(None)
            continue
        if line in added:
            out.append(0)
            continue
        if any(w and w in line for w in norm_with):
            out.append(1)
            continue
        if any(w and (w in line or line in w) for w in norm_without):
            out.append(0)
            continue
        tokens = [t.casefold() for t in TOKEN.findall(line)]
        if not tokens:
            out.append(0)
        elif len(tokens) >= 3:
            share = sum(g in ref_grams for g in _grams(tokens)) / max(1, len(tokens) - 2)
            out.append(1 if share >= 0.5 else 0 if share < 0.2 else None)
        elif tuple(tokens) in ref_paragraphs:
            out.append(1)
        else:
            out.append(None if all(t in ref_words for t in tokens) else 0)
    return out


def _silver(args: tuple[str, str | None]) -> str:
    from newsdex.transforms.html import ExtractionRejected, extract_html

    page, url = args
    try:
        return extract_html(page, url, reject_non_articles=False).body
    except ExtractionRejected:
        return ""  # no article found: the page has no reference


def _page_path(folder: Path, file: str) -> Path | None:
    return next((p for p in (folder / d / (file + ".gz") for d in ("cache", "eval")) if p.exists()), None)


def training_pages(eval_dir: Path) -> list[dict[str, Any]]:
    """Return the training pages: name, path, URL, and the collection's snippets where it has them."""
    pages: list[dict[str, Any]] = []
    data = json.loads((eval_dir / "trafilatura" / "evaldata.json").read_text())
    dates = json.loads((eval_dir / "htmldate" / "eval_default.json").read_text())
    for folder, items in (("trafilatura", data), ("htmldate", dates)):
        for url in sorted(items):
            item = items[url]
            path = _page_path(eval_dir / folder, item["file"])
            if path is not None:
                pages.append(
                    {"name": f"{folder}/{item['file']}", "path": path, "url": url,
                     "with": item.get("with", []), "without": item.get("without", [])}
                )  # fmt: skip
    return pages


def _page_rows(args: tuple[dict[str, Any], list[str]]) -> list[dict[str, Any]]:
    from newsdex.transforms.boilerplate import split_lines

    page_info, others = args
    page = _read_gz(page_info["path"])
    if not page.strip():
        return []
    reference = _silver((page, page_info["url"]))
    if not reference.strip() and not page_info["with"]:
        return []  # no article known on this page: nothing to learn from it
    try:
        styles = dump_styles(page_info["name"], page, page_info["url"], others)
    except Exception:
        return []
    rows = []
    for style, (dump, added) in styles.items():
        lines = split_lines(dump)
        labels = label_lines(lines, reference, added, page_info["with"], page_info["without"])
        rows.append({"page": page_info["name"], "style": style, "lines": lines, "labels": labels})
    return rows


def build(eval_dir: Path, workers: int) -> list[dict[str, Any]]:
    """Return one row per page and style: its dump's lines and their labels, in a fixed order."""
    pages = training_pages(eval_dir)
    titles = []
    for info in pages[::7]:
        title = re.search(r"<title[^>]*>([^<]{15,120})</title>", _read_gz(info["path"])[:20000], re.I)
        if title:
            titles.append(" ".join(title.group(1).split()))
    rows: list[dict[str, Any]] = []
    for page_rows in _map(_page_rows, [(p, titles) for p in pages], workers):
        rows.extend(page_rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--out", type=Path, default=Path("build/linedata.jsonl"))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    rows = build(args.eval_dir, args.workers)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    n_lines = sum(sum(label is not None for label in r["labels"]) for r in rows)
    print(f"{len(rows)} dumps, {n_lines} labelled lines -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
