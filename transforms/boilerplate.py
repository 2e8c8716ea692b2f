"""Line-level boilerplate removal for flattened text dumps, and the flattened page metadata in them.

A flattened page arrives as every visible line: head metadata, title repeats, the article, and the
page furniture around it. Each line is classified from generic evidence — its shape (length,
punctuation, URL/path/number/e-mail/phone/timestamp), call-to-action vocabulary in several languages,
its position relative to the article core, the lines around it — and from corpus evidence: lines
that recur across many documents of one source (`template_keys`, learned by the pipeline and kept
in the run state). Metadata lines are parsed into hints instead of being thrown away.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import Any

from newsdex.transforms.text import line_key, squash, words

# --- line shapes -------------------------------------------------------------------------------
HEADER_LINE = re.compile(r"^date\s+(\d{4}-\d{2}-\d{2})\s+(https?://\S+)$", re.I)
URL_LINE = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
IMAGE_URL = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|svg)(?:[?#]\S*)?$|/img/|/images?/", re.I)
XPATH_LINE = re.compile(r"^(?:/{1,2}[\w@\[\]='\":.()-]+)+(?:\s+(?:/{1,2}[\w@\[\]='\":.()-]+)+)*$")
TIMESTAMP_LINE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$"
)
NUMERIC_LINE = re.compile(r"^[\d\s.,:;x×/+%-]+(?:\s+(?:true|false))*$", re.I)
LOCALE_LINE = re.compile(r"^[a-z]{2,3}[_-][A-Za-z]{2,3}$")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\[email(?:&#160;|\s)protected\]", re.I)
PHONE = re.compile(r"(?<![\w-])\+?\d[\d\s().-]{7,}\d(?![\w-])")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
WRITE_TO = re.compile(r"^(?:write|email|contact|reach)\s+(.+?)\s+at\s+", re.I)
BYLINE = re.compile(r"^(?:by|von|por|par|di|przez|автор:?|author:?|written by)\s+([^\d,;:]{3,80}?)\s*$", re.I)
NAME_LINE = re.compile(r"^(?:[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’.-]*\.?\s){1,3}[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’-]+$")
TAG_ITEM = re.compile(r"^[^\W\d_][\w '’&.-]{0,40}$", re.UNICODE)
SENTENCE_END = re.compile(r"[.!?…][\"”’')\]]*$")
# A paragraph break lost by the flattener: a sentence end glued to the next capitalised word
# ("doorstep.Last week", "II.\"Furthermore"); "U.S." and "Dr. X" do not match.
GLUED = re.compile(r"(?:[a-z0-9)%\]]|[A-Z]{2})[.!?]([\"”’]?)(?=[\"“]?[A-ZÀ-Þ][a-zà-ÿ])")
WRITE_TO_NAME = re.compile(
    r"(?:^(?i:write|email|contact|reach)\s+|\band\s+|,\s*)([A-Z][\w.'’ -]{2,60}?)\s+at\s+"
)

# --- call-to-action vocabulary (several languages) ----------------------------------------------
# A short line with one of these is page furniture; a long line needs several (a body sentence that
# merely mentions "cookies" or "subscribe" stays).
MARKERS = re.compile(
    r"\b(?:read more|read also|see also|also read|i also read|related (?:stories|articles|posts|news|content)"
    r"|recent (?:articles|posts|stories)|more (?:stories|news) from|most (?:read|popular)|trending now|you may also like"
    r"|recommended for you|lesen sie auch|mehr zum thema|lee también|lea también|lire aussi|à lire aussi|leggi anche"
    r"|czytaj (?:też|także|również)|читайте также|leia também"
    r"|share (?:this|your love|on)|teilen|compartir|partager|udostępnij|поделиться"
    r"|subscribe|sign up|newsletter|inbox|follow us|enter your e-?mail|e-?mail address will not be published|abonnieren|suscríbete|abonnez|subskrybuj|подписаться"
    r"|cookies?|consent|privacy policy|terms of (?:use|service)|all rights reserved|copyright|©|dmca|correction notice"
    r"|leave a (?:reply|comment)|post a comment|log ?in|skip to (?:content|main)|click here|tap here"
    r"|article source|image source|getty images|back to top|print this|email this|opens (?:in )?(?:a )?new (?:tab|window)"
    r"|datenschutz|impressum|kommentare|aviso legal|política de privacidad|mentions légales)\b",
    re.I,
)
# Words that are furniture only as (nearly) the whole line: "- Advertisement -", "Anzeige", "Share",
# "Comments". A headline such as "ADVERTISING - WPP PROFITS RISE" or a table row ending in "per
# share" is not.
LABEL_MARKERS = re.compile(
    r"^\W*(?:advertisement|advertising|sponsored(?: content)?|anzeige|werbung|publicidad|publicité|reklama"
    r"|реклама|pubblicità|share|tweet|comments?|\d+ comments?|photo|source)\W*$",
    re.I,
)
TEASER_PREFIX = re.compile(
    r"^(?:(?:read more|read also|read next|see also|also read|i also read|lesen sie auch|mehr zum thema"
    r"|lee también|lea también|lire aussi|à lire aussi|leggi anche|czytaj (?:też|także)|читайте также|leia também)\b"
    # One common word starts headlines too ("More rain expected", "Watch makers..."): a teaser only
    # with the separator that follows it in a link label.
    r"|(?:related|more|watch|listen|recommended)\s*[:|>»]|(?:related|more|watch|listen|recommended)\s+-\s)",
    re.I,
)
CONSENT_VOCAB = re.compile(
    r"cookies?|consent|continu(?:e|ing) to (?:use|browse)|accept|agree|privacy|personal data|partners"
    r"|sign up|subscribe|newsletter|inbox|special offers|latest news|unsubscribe|notifications"
    r"|terms of (?:use|service)|e-?mail address|valid e-?mail|premium content|your account|free of charge",
    re.I,
)
# A consent or sign-up box names what it is about; "the union agreed to accept the offer" does not.
CONSENT_CORE = re.compile(
    r"cookie|consent|privacy|personal data|sign up|subscribe|newsletter|inbox|unsubscribe|notifications"
    r"|terms of (?:use|service)|e-?mail address|premium content|your account",
    re.I,
)

# Photo captions end with the picture credit: "(AP Photo/Jane Doe)", "REUTERS/John Roe", "(FOX 5 DC)".
CAPTION_CREDIT = re.compile(
    r"(?:\((?:AP|AFP|Reuters|Getty|FOX|EPA|Bloomberg|Photo|Image|Credit|Pool)[^()]{0,80}\)|(?:REUTERS|AFP|EPA)/[^\s]+(?:\s[^\s]+)?"
    # "(Kremlin Press Office/Anadolu via Getty Images)", "(Jason Armond / Los Angeles Times)": a
    # photographer and an agency or paper, or a picture agency after "via".
    r"|\([^()]{0,80}\bvia (?:AP|AFP|Getty Images|Reuters|EPA|Bloomberg)\)"
    # (a place's two names, "(Handewitt / Hanved Parish)", are not a credit: the second part names
    # a paper, an agency or a photo desk)
    r"|\([A-Z][\w.'’-]+(?: [A-Z][\w.'’-]+){0,3} ?/ ?(?:[A-Z][\w.'’&-]* ){0,3}"
    r"(?:Press|Times|Post|News|Images|Photos?|Pool|Agency|Reuters|AFP|AP|EPA|Getty|Bloomberg|Journal|Herald|Tribune)\)"
    r"|(?:Photo|Image|Credit|Photograph|Foto|Bild):\s*[^.]{2,60}|Getty Images(?: for [^.]+)?)\.?\s*$"
)
# An agency's credit with the photographer's name ("REUTERS/Yuri Gripas/File Photo") is a caption's
# wherever it stands in the line: link labels may follow it ("Purchase Licensing Rights, opens new
# tab"); article prose never writes it.
# (A photographer's name after the slash: "Berlin (dpa/AFP) -" opens a story, "the EPA/DOT rule" is
# prose.)
CAPTION_INLINE_CREDIT = re.compile(r"(?<![\w/])(?:REUTERS|AFP|AP Photo|ANP|EFE)/[A-Z][a-zà-ÿ'’.-]+")
BODY_MIN_WORDS = 20
MARKER_SCORE = -2.0
SHORT_WORDS = 12


# Decides the lines of a flattened page the rules leave open: (lines, kinds, content, the lines the
# rules decide, the lines the segmentation keeps) -> the lines to keep.
LineDecider = Callable[[list[str], list["str | None"], list[int], set[int], set[int]], set[int]]


@dataclass(slots=True)
class CleanResult:
    """The article found in a text dump: body paragraphs, title, and parsed metadata hints."""

    body: str
    title: str | None
    hints: dict[str, Any] = field(default_factory=dict)
    dropped: list[tuple[str, str]] = field(default_factory=list)


def split_lines(text: str) -> list[str]:
    """Return the dump's lines, whitespace folded, glued paragraphs split, blank lines kept as ''."""
    out: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = squash(raw)
        if len(line) > 300 and len(GLUED.findall(line)) >= 2:
            out.extend(split_glued(line))
        else:
            out.append(line)
    return out


def split_glued(line: str) -> list[str]:
    """Return the paragraphs of a line whose paragraph breaks were lost (sentence end + capital)."""
    parts: list[str] = []
    start = 0
    for match in GLUED.finditer(line):
        cut = match.end()
        # A straight quote after the full stop closes the sentence when the segment has an odd
        # number of quotes before it; otherwise it opens the next paragraph.
        if match.group(1) == '"' and line.count('"', start, match.start(1)) % 2 == 0:
            cut = match.start(1)
        parts.append(line[start:cut].strip())
        start = cut
    parts.append(line[start:].strip())
    return [p for p in parts if p]


def metadata_kind(line: str) -> str | None:
    """Return the kind of flattened-metadata line this is (header, url, image, xpath, ...), or None."""
    if HEADER_LINE.match(line):
        return "header"
    if URL_LINE.match(line):
        return "image" if IMAGE_URL.search(line) else "link"
    if XPATH_LINE.match(line) and "/" in line[:2]:
        return "xpath"
    if TIMESTAMP_LINE.match(line):
        return "timestamp"
    if NUMERIC_LINE.match(line):
        return "number"
    if LOCALE_LINE.match(line):
        return "locale"
    n_words = len(words(line))
    if (EMAIL.search(line) or _phone(line)) and n_words <= 30:
        return "contact"
    if "," in line and _is_tag_list(line):
        return "tags"
    return None


def _phone(line: str) -> re.Match[str] | None:
    """Return the first phone number in the line: nine digits or more in groups of two or more (a
    results row such as "Lazio 14 3 5 6 5 8 14", a price list and an ISO date are not one)."""
    for match in PHONE.finditer(line):
        text = match.group(0)
        groups = re.findall(r"\d+", text)
        if (
            ISO_DATE.fullmatch(text)
            or sum(len(g) == 1 for g in groups) > 1
            or sum(len(g) for g in groups) < 9
            # Prices and scores ("490.80 41.24"): decimals separated by spaces, not one dialling style.
            or ("." in text and " " in text)
        ):
            continue
        return match
    return None


def _is_tag_list(line: str) -> bool:
    items = [i.strip() for i in line.split(",")]
    return (
        len(items) >= 3
        and all(TAG_ITEM.match(i) and len(i.split()) <= 5 for i in items)
        and sum(i == i.lower() for i in items) >= 0.6 * len(items)
        and not SENTENCE_END.search(line)
    )


@lru_cache(maxsize=65_536)
def boilerplate_reason(line: str) -> str | None:
    """Return why a line is page furniture (teaser, marker, caption, consent, or a line in capitals
    in a page), or None if it may be body."""
    reason = furniture_reason(line)
    if reason is None and 4 <= len(words(line)) <= 40 and is_all_caps(line):
        # Whole lines in capitals are teaser links and section banners in a page; in a wire story
        # the headline is one, so this is never evidence on its own (clean text keeps them).
        return "all_caps"
    return reason


def is_all_caps(line: str) -> bool:
    """Return True for a line written in capitals."""
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 15 and sum(c.isupper() for c in letters) >= 0.85 * len(letters)


@lru_cache(maxsize=65_536)
def furniture_reason(line: str) -> str | None:
    """Return the vocabulary evidence that a line is page furniture (teaser, marker, caption,
    consent), or None: the only line-level evidence the cleaner drops clean text on."""
    n_words = len(words(line))
    if (
        TEASER_PREFIX.match(line)
        and (n_words <= 25 or ":" in line[:20])
        and not SENTENCE_END.search(line[:-1] or line)
    ):
        return "teaser"
    if n_words <= SHORT_WORDS and (MARKERS.search(line) or LABEL_MARKERS.match(line)):
        return "marker"
    if n_words > 80:
        # A caption, consent banner or sign-up box is never this long; a paragraph this long is
        # prose (an article flattened to one line may end with its photo's credit: it stays).
        return None
    if CAPTION_CREDIT.search(line) or CAPTION_INLINE_CREDIT.search(line):
        return "caption"
    consent = {m.group(0).lower() for m in CONSENT_VOCAB.finditer(line)}
    if (len(consent) >= 3 or (len(consent) >= 2 and n_words <= 30)) and CONSENT_CORE.search(line):
        return "consent_or_signup"
    return None


def is_body_like(line: str) -> bool:
    """Return True for a line that reads like article prose (long, or a full sentence)."""
    n_words = len(words(line))
    return n_words >= BODY_MIN_WORDS or (n_words >= 8 and bool(SENTENCE_END.search(line)))


# Flattened-page lines that are furniture wherever they stand: a bare URL, an image address, an
# XPath, the dump's own header. Numbers, dates, locales, contacts and comma lists are evidence only
# inside a page dump (a wire story's table row or dateline is not furniture).
PAGE_KINDS = frozenset({"header", "link", "image", "xpath"})
# Furniture lines it takes (besides a flattened <head>) to call a text a page dump, whose lines
# outside the article core are then dropped by position.
DUMP_MIN_EVIDENCE = 2
# A repeated line with this many words (not numbers) is the flattener's copy (title repeats, duplicated blocks); a repeated
# short line is a table label ("Bowling:") and stays.
REPEAT_MIN_WORDS = 8
# A flattened whole page: its navigation menus and teaser lists give this many link-label lines
# (short lines that are not sentences, table rows, list items, datelines or headings with a colon)
# with furniture lines, or twice as many without.
PAGE_MIN_LINK_LINES = 20
TITLE_MAX_CHARS = 300
# A dump starts with the page's head (title, description, their repeats): its first lines.
HEAD_TOP_LINES = 6
TITLE_LOOKAHEAD = 4
CORRECTION = re.compile(
    r"^\s*[\[(]\s*(?:corrected|corrects?|correction|refiled|refiles?|repeats?|rpt|updated?|updates?|adds?|fixes?"
    r"|changes?|recasts?|clarif\w+)\b.*[\])]\s*$"
    r"|^(?:CORRECTED|CORRECTION|UPDATED?(?:\s+\d+)?|REFILED|RPT|REPEAT)\b"
    r"|^(?:updated|corrected|published|posted|last updated|aktualisiert|mis à jour|actualizado)\s*:?\s*[\d(]",
    re.I,
)
MONTH_OR_DAY = (
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july|august"
    r"|september|october|november|december|mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday|gmt|utc|bst|est|edt|cet|cest|am|pm|a\.m|p\.m|at|on|of"
)
CALENDAR_WORD = re.compile(
    r"^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july"
    r"|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\.?$",
    re.I,
)
CLOCK = re.compile(r"\d:\d\d")
DATE_WORD = re.compile(rf"^(?:\d[\d:./-]*|{MONTH_OR_DAY})\.?$", re.I)
# "LONDON 1996-12-06", "ROME, Dec 6", "NEW YORK, 6 December 1996 (Reuters) -": a dateline on its own line.
# The place is in capitals ("LONDON", "NEW YORK", "SUZUKA, Japan"): a date alone ("February 29,
# 2024") is a page's timestamp, not a dateline.
DATELINE = re.compile(
    r"^[A-ZÀ-Þ][A-ZÀ-Þ.'’-]+(?:\s[A-ZÀ-Þ][A-ZÀ-Þ.'’-]+){0,3}(?:,\s*[A-ZÀ-Þ][\w.'’-]+(?:\s[A-ZÀ-Þ][\w.'’-]+)?)?"
    r",?\s+(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}"
    rf"|(?:\d{{1,2}}\s+)?(?i:{MONTH_OR_DAY})\.?(?:\s+\d{{1,2}})?(?:,?\s+\d{{4}})?)"
    r"(?:\s*\([\w .]+\))?\s*[-–—]*\s*$"
)


def is_title_line(line: str) -> bool:
    """Return True unless the line is a correction notice, a timestamp, a dateline or a number."""
    if len(line) > TITLE_MAX_CHARS or CORRECTION.search(line) or DATELINE.match(line):
        return False
    tokens = line.replace(",", " ").split()
    if tokens and all(DATE_WORD.match(t.strip("()[]")) for t in tokens):
        return False  # a timestamp or date in any of its spellings
    return metadata_kind(line) is None


def is_section_label(line: str) -> bool:
    """Return True for a one- or two-word label line ("SOCCER", "World News", "Obituary:")."""
    return len(words(line)) <= 2 and not any(c.isdigit() for c in line) and not SENTENCE_END.search(line)


def pick_title(lines: list[str], candidates: list[int]) -> int | None:
    """Return the index of the headline among the first candidate lines, or None.

    The headline is the first line that is not a correction notice, timestamp, dateline or section
    label; a label counts only when no better line follows it in the next few.
    """
    head = [i for i in candidates[:TITLE_LOOKAHEAD] if is_title_line(lines[i])]
    for n, i in enumerate(head):
        following = head[n + 1] if n + 1 < len(head) else None
        if is_section_label(lines[i]) and following is not None and _is_headline(lines[following]):
            continue
        return i
    return None


def _is_headline(line: str) -> bool:
    """Return True for a line shaped like a headline: a few words, not a sentence of prose."""
    n_words = len(words(line))
    return 3 <= n_words <= 25 and not line.endswith((".", ":"))


def clean_text(
    text: str,
    template_keys: frozenset[str] = frozenset(),
    keep_all: bool = False,
    line_decider: LineDecider | None = None,
) -> CleanResult:
    """Return the article body, title and metadata hints found in a text.

    A line is dropped only on positive evidence: furniture vocabulary, flattened-page lines (URLs,
    XPaths, head metadata), a learned source template, a repeat. Lines outside the article core
    are dropped by position only in a text that is a page dump (a flattened <head>, or furniture
    lines); clean text (a wire story, an article's paragraphs) comes out whole. `keep_all` (a feed
    declared clean) drops nothing: the headline becomes the title, every other line the body.
    In a whole flattened page the lines the rules leave open (not metadata, furniture vocabulary,
    a template or a repeat) are decided by position against the article core; `line_decider`
    decides them instead (the learned line model of benchmarks/linemodel.py, which lost to the
    segmentation on held-out pages: docs/quality.md).
    """
    lines = split_lines(text)
    content = [i for i, line in enumerate(lines) if line]
    if keep_all:
        return _clean_kept_whole(lines, content)
    kinds: list[str | None] = [metadata_kind(line) if line else None for line in lines]
    evidence: dict[int, str] = {}
    for i in content:
        reason = f"metadata:{kinds[i]}" if kinds[i] in PAGE_KINDS else furniture_reason(lines[i])
        if reason is None and line_key(lines[i]) in template_keys:
            reason = "source_template"
        if reason:
            evidence[i] = reason
    if content and evidence.get(content[0]) == "marker" and _reads_as_headline(lines[content[0]]):
        # "Copyright dispute goes to court", "EU tightens cookie consent rules": a story's first line
        # that only names a furniture topic, without a call to action, is its headline.
        del evidence[content[0]]
    head_end = page_head_end(lines, kinds, content)
    # A whole flattened page: its <head> block, or its menus and teaser lists (many link-label lines;
    # a story's tables, ranked lists and datelines are not link labels).
    link_lines = sum(1 for i in content if kinds[i] is None and is_link_like(lines[i]))
    page = (
        head_end >= 0
        or link_lines >= 2 * PAGE_MIN_LINK_LINES
        # A list of names one per line in a story is link-shaped too: with fewer lines, the page
        # also shows furniture.
        or (link_lines >= PAGE_MIN_LINK_LINES and len(evidence) >= DUMP_MIN_EVIDENCE)
    )
    if not page and len(evidence) < DUMP_MIN_EVIDENCE:
        return _clean_plain(lines, kinds, content, evidence)
    return _clean_dump(lines, kinds, content, head_end, template_keys, page, line_decider)


CALL_TO_ACTION = re.compile(
    r"^\W*(?:subscribe|sign up|follow|share|leave|click|tap|read|log ?in|skip|back to|print|email|accept|manage"
    r"|abonn|suscr|lesen|lee|lire|leggi|czytaj|читайте)|\b(?:our|us|your|here|now|today)\b|©|\ball rights\b",
    re.I,
)


def _reads_as_headline(line: str) -> bool:
    """Return True for a line of four words or more with no call to action in it."""
    return len(words(line)) >= 4 and not CALL_TO_ACTION.search(line) and not LABEL_MARKERS.match(line)


def _clean_kept_whole(lines: list[str], content: list[int]) -> CleanResult:
    title_at = pick_title(lines, content)
    hints: dict[str, Any] = {}
    title = lines[title_at] if title_at is not None else None
    lead = title is not None and _is_lead_sentence(title)
    paragraphs = [lines[i] for i in content if i != title_at or lead]
    _collect_inline_hints(paragraphs, hints)
    return CleanResult(body="\n\n".join(paragraphs or ([title] if title else [])), title=title, hints=hints)


def _clean_plain(
    lines: list[str], kinds: list[str | None], content: list[int], evidence: dict[int, str]
) -> CleanResult:
    """Clean text with no sign of a page around it: drop only lines with evidence, keep the rest."""
    hints: dict[str, Any] = {}
    dropped: list[tuple[str, str]] = []
    title_at = pick_title(lines, [i for i in content if i not in evidence])
    title = lines[title_at] if title_at is not None else None
    seen: set[str] = {line_key(title)} if title and not _is_lead_sentence(title) else set()
    paragraphs: list[str] = []
    for i in content:
        line = lines[i]
        if i in evidence:
            if kinds[i] is not None:
                _collect_metadata(kinds[i] or "", line, hints)
            dropped.append((line, evidence[i]))
            continue
        if i == title_at and not _is_lead_sentence(line):
            continue
        key = line_key(line)
        if key in seen and (_letter_words(line) >= REPEAT_MIN_WORDS or key == line_key(title or "")):
            dropped.append((line, "repeated"))
            continue
        seen.add(key)
        paragraphs.append(line)
    _collect_inline_hints(paragraphs, hints)
    if not paragraphs and title:
        paragraphs = [title]  # a one-line text: its line is the headline and the whole story
    return CleanResult(body="\n\n".join(paragraphs), title=title, hints=hints, dropped=dropped)


def _is_lead_sentence(line: str) -> bool:
    """Return True for a first line that is a sentence (ends with a full stop, 8+ words): the title,
    and also the article's first paragraph, so it stays in the body (an encyclopaedia article's
    opening sentence, a wire headline written as a sentence)."""
    return line.rstrip().endswith(".") and len(words(line)) >= 8


def _letter_words(line: str) -> int:
    return sum(1 for w in words(line) if not w.isdigit() and any(c.isalpha() for c in w))


def _collect_inline_hints(paragraphs: list[str], hints: dict[str, Any]) -> None:
    """Collect authors from byline lines and dates from date lines, which stay in the body."""
    for line in paragraphs:
        byline = BYLINE.match(line)
        if byline and len(words(line)) <= 8:
            hints.setdefault("authors", []).append(byline.group(1))
        elif TIMESTAMP_LINE.match(line):
            hints.setdefault("timestamps", []).append(line)


def _clean_dump(
    lines: list[str],
    kinds: list[str | None],
    content: list[int],
    head_end: int,
    template_keys: frozenset[str],
    page: bool,
    line_decider: LineDecider | None = None,
) -> CleanResult:
    """Clean a flattened page (or a story with a few furniture lines, `page` False): parse its head
    metadata, find the article core, drop the furniture."""
    keep: set[int] | None = None
    if page and line_decider is not None:
        ruled = {
            i
            for i in content
            if kinds[i] is not None or furniture_reason(lines[i]) or line_key(lines[i]) in template_keys
        }
        keep = line_decider(
            lines, kinds, content, ruled, rules_kept(lines, kinds, content, head_end, template_keys)
        )
    hints: dict[str, Any] = {}
    dropped: list[tuple[str, str]] = []
    after_head = [i for i in content if i > head_end]
    # The headline's forms from the top of the dump; its repeats in the body (below the top) anchor
    # the article.
    headline_forms = headline_keys(lines, content) if page else set()
    top = set(content[:HEAD_TOP_LINES])
    body_lines = [i for i in after_head if i not in top]
    core = article_core(lines, kinds, after_head)
    if core is not None and page:
        core = anchored_core(lines, kinds, body_lines, core, headline_forms)
    if core is None:
        # No stretch reads like prose (a table, a list, one line): nothing bounds an article, so
        # position is no evidence and every line without furniture evidence stays (the headline
        # as the title).
        plain = [i for i in after_head if kinds[i] is None and not furniture_reason(lines[i])]
        headline = pick_title(lines, plain)
        plain = [i for i in plain if i != headline] or plain
        core = (plain[0], plain[-1]) if plain else None
    first, last = bridge_markers(lines, kinds, after_head, core) if core else (None, None)
    title: str | None = None
    description: str | None = None
    description_key: str | None = None
    seen: set[str] = set()
    name_lines: dict[str, int] = {}
    paragraphs: list[str] = []
    list_run = _short_line_runs(lines, kinds)
    title_at = pick_title(
        lines,
        [
            i
            for i in content
            if kinds[i] is None
            and not furniture_reason(lines[i])
            and line_key(lines[i]) not in template_keys
            and not (BYLINE.match(lines[i]) and len(words(lines[i])) <= 8)
            and (first is None or i < first)
        ],
    )
    if first is not None and last is not None:
        # The headline ends the widening upwards (it may end in a number: "Lazio beat Roma 3-1").
        first, last = extend_over_data(
            lines, kinds, after_head, (first, last), -1 if title_at is None else title_at
        )
        first, last = trim_repeated_tail(lines, after_head, (first, last))

    lead = (
        standfirst(lines, kinds, body_lines, first, headline_forms) if page and first in body_lines else None
    )
    next_line = dict(pairwise(content))
    # The tail after a "Related stories" / "Most read" / "Leave a reply" heading (the heading alone on
    # its line, not an inline "Read also: <link>") is furniture whatever its lines look like.
    opener = next(
        (
            i
            for i in content
            if last is not None and i > last and BLOCK_OPENER.search(lines[i]) and len(words(lines[i])) <= 4
        ),
        None,
    )
    for i in content:
        line, kind = lines[i], kinds[i]
        key = line_key(line)
        in_core = (first is not None and last is not None and first <= i <= last) or i == lead
        if kind is not None and not (kind == "number" and in_core and i > head_end):
            # A number line inside the article is a table row or a list number, not metadata.
            _collect_metadata(kind, line, hints)
            dropped.append((line, f"metadata:{kind}"))
            continue
        if key in seen and not (key == description_key and in_core and i > head_end):
            # (The head's description is often the article's first paragraph too: in the article
            # it is article text, not the flattener's copy.)
            dropped.append((line, "repeated"))
            continue
        reason = furniture_reason(line)
        if reason is None and key in template_keys:
            reason = "source_template"
        if (
            reason is None
            and keep is None
            and (page or not in_core)
            and i != title_at
            and boilerplate_reason(line)
        ):
            # A banner or teaser link; in a story with a few sign-up lines, a capitals subhead.
            reason = "all_caps"
        if reason:
            dropped.append((line, reason))
            continue
        byline = BYLINE.match(line)
        if byline and len(words(line)) <= 8:
            hints.setdefault("authors", []).append(byline.group(1))
            dropped.append((line, "byline"))
            continue
        in_head = (first is None or i < first) and i != lead
        in_tail = last is not None and i > last
        if i == title_at:
            title = line
            seen.add(key)
            continue
        if i <= head_end and description is None and SENTENCE_END.search(line) and title is not None:
            description, description_key = line, key
            seen.add(key)
            continue
        if keep is not None:
            drop = None if i in keep else "line_model"
        elif (in_head or in_tail) and (
            # A whole flattened page (its <head>, or its menus, are in the text): the article core
            # bounds the article.
            page
            # Otherwise only what is shaped like furniture (not a heading over a table), or what
            # follows a teaser-block heading.
            or (is_link_like(line) and not is_data_line(lines[next_line.get(i, i)]))
            or (in_tail and opener is not None and i > opener)
        ):
            drop = "outside_article"
        else:
            drop = "link_list" if page and i in list_run else None
        if drop:
            if drop != "link_list" and NAME_LINE.match(line):
                name_lines[line] = name_lines.get(line, 0) + 1
            elif (
                drop != "link_list"
                and line == line.lower()
                and TAG_ITEM.match(line)
                and len(line.split()) <= 4
            ):
                hints.setdefault("tags", []).append(line)
            dropped.append((line, drop))
            continue
        seen.add(key)
        paragraphs.append(line)

    # A person's name repeated in the page's furniture is its author line (flattened byline/meta).
    authors = [name for name, count in name_lines.items() if count >= 2]
    if authors:
        hints.setdefault("authors", []).extend(authors)
    if description:
        hints["description"] = description
    if title and title in paragraphs:
        paragraphs.remove(title)
    if not paragraphs and title:
        paragraphs = [title]  # the headline is not furniture: a page with nothing else keeps it
    return CleanResult(body="\n\n".join(paragraphs), title=title, hints=hints, dropped=dropped)


def rules_kept(
    lines: list[str],
    kinds: list[str | None],
    content: list[int],
    head_end: int,
    template_keys: frozenset[str],
) -> set[int]:
    """Return the content lines the rules alone keep in a flattened page (segmentation by position
    against the article core): one of the line model's features."""
    kept = set(_clean_dump(lines, kinds, content, head_end, template_keys, True).body.split("\n\n"))
    return {i for i in content if lines[i] in kept}


def page_head_end(lines: list[str], kinds: list[str | None], content: list[int]) -> int:
    """Return the index of the last line of the flattened <head> block at the top, or -1."""
    body_like = [
        i for i in content if kinds[i] is None and not boilerplate_reason(lines[i]) and is_body_like(lines[i])
    ]
    return _metadata_head_end(lines, kinds, content, body_like)


def line_score(line: str, kind: str | None) -> float:
    """Return how much a line looks like article prose (positive) or page furniture (negative)."""
    if kind is not None:
        # Numbers and punctuation-only lines also separate list items and letters inside articles.
        return -0.5 if kind == "number" else -3.0
    if boilerplate_reason(line):
        # Mildly negative: advertisement markers and teasers sit inside articles as well as around them.
        return MARKER_SCORE
    n_words = len(words(line))
    if SENTENCE_END.search(line) and n_words >= 5:
        return (min(n_words, 120) - 4) / 10
    return (min(n_words, 120) * 0.5 - 8) / 10


# A table flattened one cell a line (a results grid, statistics) inside an article: a run of short
# cells, many of them numbers. The run as a whole weighs this much at most, whatever its length, so
# it does not cut the article in two.
TABLE_RUN_SCORE = -1.5
TABLE_CELL_WORDS = 4
TABLE_MIN_CELLS = 6
TABLE_NUMBER_SHARE = 0.4


def _is_cell(line: str, kind: str | None) -> bool:
    return kind == "number" or (
        kind is None and len(words(line)) <= TABLE_CELL_WORDS and not SENTENCE_END.search(line)
    )


def line_scores(lines: list[str], kinds: list[str | None], content: list[int]) -> list[float]:
    """Return the prose score of each content line (`line_score`), a table's run of cells capped at
    TABLE_RUN_SCORE in all."""
    scores = [line_score(lines[i], kinds[i]) for i in content]
    n = 0
    while n < len(content):
        if not _is_cell(lines[content[n]], kinds[content[n]]):
            n += 1
            continue
        end = n
        while end < len(content) and _is_cell(lines[content[end]], kinds[content[end]]):
            end += 1
        cells = content[n:end]
        numbers = sum(1 for i in cells if kinds[i] == "number" or is_data_line(lines[i]))
        total = sum(scores[n:end])
        if (
            len(cells) >= TABLE_MIN_CELLS
            and numbers >= TABLE_NUMBER_SHARE * len(cells)
            and total < TABLE_RUN_SCORE
        ):
            for m in range(n, end):
                scores[m] = TABLE_RUN_SCORE / len(cells)
        n = end
    return scores


def article_core(lines: list[str], kinds: list[str | None], content: list[int]) -> tuple[int, int] | None:
    """Return the first and last line index of the article: the run of lines with the highest total score.

    Maximum-subsequence segmentation (Pasternack & Roth, WWW 2009, applied to lines): prose scores
    positive, furniture negative, and the article is the contiguous stretch that sums highest, so
    an isolated long sentence in a footer does not stretch it.
    """
    best, best_span = 0.0, None
    total, start = 0.0, None
    for i, score in zip(content, line_scores(lines, kinds, content), strict=True):
        if start is None or total <= 0:
            total, start = score, i
        else:
            total += score
        if total > best:
            best, best_span = total, (start, i)
    return best_span


HEADLINE_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|::|»|·)\s+")
# The stretch after the headline is the article unless another stretch scores this many times more.
ANCHOR_YIELDS_TO = 3.0


def headline_keys(lines: list[str], content: list[int]) -> set[str]:
    """Return the folded forms of the page's headline as its head shows it at the top of the dump
    (the <title> or og:title line, with and without the site name after a separator)."""
    keys: set[str] = set()
    for i in content[:HEAD_TOP_LINES]:
        line = lines[i]
        n_words = len(words(line))
        if n_words < 3 or n_words > 40 or metadata_kind(line) or _is_lead_sentence(line):
            continue
        keys.add(line_key(line))
        parts = HEADLINE_SEPARATOR.split(line)
        if len(parts) > 1:
            for cut in range(1, len(parts)):
                head = " ".join(parts[:cut])
                if len(words(head)) >= 3:
                    keys.add(line_key(head))
    return keys


def anchored_core(
    lines: list[str], kinds: list[str | None], content: list[int], core: tuple[int, int], keys: set[str]
) -> tuple[int, int]:
    """Return the article core found after the headline's place in the page body, when the page
    shows its headline there and prose follows it; else `core`.

    A news page puts its headline right above the article; a prose-heavy widget elsewhere
    (reader questions, a gallery's captions, product blurbs in the footer) can outscore a short
    article in the maximum-subsequence segmentation, but it does not follow the headline. The
    anchored stretch gives way only to one that scores ANCHOR_YIELDS_TO times more. `keys` are the
    headline's forms (`headline_keys`); `content` is the page after its head.
    """
    if not keys or core[0] not in content or core[1] not in content:
        return core
    anchors = [n for n, i in enumerate(content) if line_key(lines[i]) in keys]
    if not anchors:
        return core

    scores = line_scores(lines, kinds, content)
    pos = {i: n for n, i in enumerate(content)}
    best_total = sum(scores[pos[core[0]] : pos[core[1]] + 1])
    # (A headline repeated below the best stretch, in a footer or a teaser list, anchors nothing.)
    for n in (n for n in anchors if n < pos[core[0]]):
        # The stretches after the headline, in page order (each run of lines whose running total
        # stays positive, at its best span): the first that scores enough is the article.
        running, span, span_total = 0.0, None, 0.0
        start = None
        for m in range(n + 1, len(content) + 1):
            if m == len(content) or (start is not None and running <= 0):
                if span is not None and span_total * ANCHOR_YIELDS_TO >= best_total:
                    return span
                if m == len(content):
                    break
                running, start, span, span_total = 0.0, None, None, 0.0
            if start is None:
                if scores[m] <= 0:
                    continue
                start = m
            running += scores[m]
            if running > span_total:
                span, span_total = (content[start], content[m]), running
    return core


# The standfirst stands right under the headline (a kicker or date line may come between), and the
# article follows within this many lines (byline, date, share buttons, picture and caption).
STANDFIRST_GAP = 2
STANDFIRST_WINDOW = 15


def standfirst(
    lines: list[str], kinds: list[str | None], content: list[int], first: int, keys: set[str]
) -> int | None:
    """Return the line of the article's standfirst (lead) when it stands apart from the article core:
    the prose line right under the headline in the page body, with the core starting soon after.
    `keys` are the headline's forms; `content` is the page after its head."""
    pos = {i: n for n, i in enumerate(content)}
    for n, i in enumerate(content):
        if line_key(lines[i]) not in keys or not 0 < pos[first] - n <= STANDFIRST_WINDOW:
            continue
        for m in range(n + 1, min(n + 1 + STANDFIRST_GAP, pos[first])):
            line = lines[content[m]]
            if kinds[content[m]] is None and is_body_like(line) and not boilerplate_reason(line):
                return content[m]
    return None


def bridge_markers(
    lines: list[str], kinds: list[str | None], content: list[int], core: tuple[int, int]
) -> tuple[int, int]:
    """Return the core widened over prose paragraphs that only advertisement/teaser lines cut off.

    Beyond the furniture, a paragraph of BODY_MIN_WORDS words, or a shorter sentence with prose
    after it, is article (a sign-up box put inside the story); one short sentence alone there is the
    box's own line ("For the latest stories download our app.").
    """
    first, last = core
    pos = {i: n for n, i in enumerate(content)}

    def prose(n: int) -> bool:
        return 0 <= n < len(content) and kinds[content[n]] is None and is_body_like(lines[content[n]])

    for step in (-1, 1):
        n = pos[first if step < 0 else last] + step
        while 0 <= n < len(content):
            line = lines[content[n]]
            if kinds[content[n]] is None and boilerplate_reason(line):
                n += step
                continue
            if prose(n) and (len(words(line)) >= BODY_MIN_WORDS or prose(n + step)):
                if step < 0:
                    first = content[n]
                else:
                    last = content[n]
                n += step
                continue
            break
    return first, last


BLOCK_OPENER = re.compile(
    r"^\W*(?:related|recent|more|most|trending|you may also|recommended|leave a reply|comments?|popular"
    r"|lesen sie auch|mehr zum thema|weitere|à lire aussi|lire aussi|lee también|leggi anche|читайте также)\b",
    re.I,
)


def is_link_like(line: str) -> bool:
    """Return True for a line shaped like a link label (navigation, teaser, tag, name): short, not a
    sentence, not a table row or list item, not a label that opens what follows."""
    return (
        len(words(line)) <= SHORT_WORDS
        and not SENTENCE_END.search(line)
        and not line.endswith(":")
        and not is_data_line(line)
        and not CORRECTION.search(line)
        and not SIGNOFF.match(line)
    )


NUMBER_TOKEN = re.compile(r"^[+-]?\d[\d.,:/-]*[%p]?$")
LIST_ITEM = re.compile(r"^(?:\d{1,3}[.)]|[-•*–])\s+\S")


def is_data_line(line: str) -> bool:
    """Return True for a table row, a ranked-list item or a dateline: lines that belong to the
    text around them although they do not read like prose."""
    tokens = line.split()
    if _is_date_text(line):
        return False  # "March 4, 2024 12:45 PM UTC Updated": a page's timestamp
    numbers = sum(1 for t in tokens if NUMBER_TOKEN.match(t.strip("()[],;")))
    return bool(
        (numbers >= 2 and numbers >= 0.25 * len(tokens))
        or (len(tokens) >= 2 and NUMBER_TOKEN.match(tokens[-1]))
        or LIST_ITEM.match(line)
        or DATELINE.match(line)
    )


def _is_date_text(line: str) -> bool:
    """Return True for a line that is mostly a date or time with a month, weekday or clock time."""
    tokens = [t.strip("()[],;") for t in line.split()]
    dated = [t for t in tokens if t and DATE_WORD.match(t)]
    has_calendar = any(CALENDAR_WORD.match(t) for t in tokens) or any(CLOCK.search(t) for t in tokens)
    return bool(tokens) and has_calendar and len(dated) >= 0.6 * len(tokens) and not DATELINE.match(line)


# A wire story's sign-off, the article's last line: "[Reporting by X; Editing by Y]", "Writing by X",
# "(Additional reporting by X)", "Rédigé par X", "Mit Material von dpa".
SIGNOFF = re.compile(
    r"^[\[(]?\s*(?:additional |further )?(?:reporting|writing|editing|compiled|edited|written|reported"
    r"|research|rédigé|édité|redacción|bearbeitet|recherche)\s+(?:by|par|por|von)\s+\S",
    re.I,
)


def extend_over_data(
    lines: list[str], kinds: list[str | None], content: list[int], core: tuple[int, int], title_at: int = -1
) -> tuple[int, int]:
    """Return the core widened over the tables, ranked lists and datelines next to it (and a label
    line ending in a colon that opens one): prose scoring cuts them off, nothing marks them furniture."""
    first, last = core
    pos = {i: n for n, i in enumerate(content)}

    def joins(n: int) -> bool:
        i = content[n]
        if furniture_reason(lines[i]) or kinds[i] not in (None, "number"):
            return False
        return is_data_line(lines[i]) or kinds[i] == "number"

    n = pos[last] + 1
    while n < len(content) and (
        joins(n) or (lines[content[n]].endswith(":") and n + 1 < len(content) and joins(n + 1))
    ):
        last = content[n]
        n += 1
    if n < len(content) and SIGNOFF.match(lines[content[n]]) and len(words(lines[content[n]])) <= 30:
        last = content[n]
    n = pos[first] - 1
    while n >= 0 and content[n] > title_at and joins(n):
        first = content[n]
        n -= 1
    return first, last


def trim_repeated_tail(lines: list[str], content: list[int], core: tuple[int, int]) -> tuple[int, int]:
    """Return the core without the lines at its end that the page also shows outside it.

    A site's blurb or standing line ("The Associated Press is an independent global news
    organization...") stands in the page's menu and again under the article, where it reads like
    the article's last paragraph; a line of the article itself is not repeated in the furniture.
    (Only the end, and not for a line the page's head shows at the top: the description is often
    an article paragraph too.)
    """
    first, last = core
    top = set(content[:HEAD_TOP_LINES])
    where: dict[str, list[int]] = {}
    for i in content:
        where.setdefault(line_key(lines[i]), []).append(i)

    def repeated_outside(i: int) -> bool:
        others = [j for j in where.get(line_key(lines[i]), []) if j != i]
        return (
            _letter_words(lines[i]) >= REPEAT_MIN_WORDS
            and i not in top
            and not any(j in top for j in others)
            and any(j < first or j > last for j in others)
        )

    inside = [i for i in content if first <= i <= last]
    while len(inside) > 1 and repeated_outside(inside[-1]):
        inside.pop()
    return inside[0], inside[-1]


def _metadata_head_end(
    lines: list[str], kinds: list[str | None], content: list[int], body_like: list[int]
) -> int:
    """Return the index of the last line of a flattened <head> block at the top, or -1 if none.

    The block is a run at the top holding at least three metadata lines and at most three text
    lines (title repeats, description) before its last metadata line.
    """
    end, meta, text = -1, 0, 0
    for i in content:
        if body_like and i >= body_like[0] and kinds[i] is None and text >= 3:
            break
        if kinds[i] is not None:
            meta += 1
            end = i
        else:
            text += 1
            if text > 4:
                break
    # Numbers, dates and contacts alone open wire stories too (a dateline, a table): a flattened
    # head also holds a line only a page has (its URL, an XPath, an image address, the dump header).
    page_line = any(kinds[i] in PAGE_KINDS for i in content if i <= end)
    return end if meta >= 3 and page_line else -1


def _short_line_runs(lines: list[str], kinds: list[str | None]) -> set[int]:
    """Return the indices of runs of 3+ short unpunctuated lines (teaser and link lists)."""
    out: set[int] = set()
    run: list[int] = []
    for i, line in enumerate(lines):
        if not line:
            continue
        short = kinds[i] is None and is_link_like(line)
        if short:
            run.append(i)
            continue
        if len(run) >= 3:
            out.update(run)
        run = []
    if len(run) >= 3:
        out.update(run)
    return out


def _collect_metadata(kind: str, line: str, hints: dict[str, Any]) -> None:
    if kind == "header":
        match = HEADER_LINE.match(line)
        assert match is not None
        hints.setdefault("header_date", match.group(1))
        hints.setdefault("url", match.group(2))
    elif kind == "timestamp":
        hints.setdefault("timestamps", []).append(line)
    elif kind == "image":
        hints.setdefault("image_url", line)
    elif kind == "link":
        hints.setdefault("related_urls", []).append(line)
    elif kind == "locale":
        hints.setdefault("locale", line)
    elif kind == "tags":
        hints.setdefault("tags", []).extend(i.strip() for i in line.split(",") if i.strip())
    elif kind == "contact":
        if WRITE_TO.match(line):
            hints.setdefault("authors", []).extend(squash(n) for n in WRITE_TO_NAME.findall(line))
            return
        publisher = squash(line[: min(m.start() for m in (EMAIL.search(line), _phone(line)) if m)]).strip(
            " ,;:-|"
        )
        if publisher and len(words(publisher)) <= 6:
            hints.setdefault("publisher", publisher)
