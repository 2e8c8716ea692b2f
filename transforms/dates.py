"""Publication dates (parse, normalise, sanity-check) and calendar dates mentioned in article text."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from dateutil import parser as dateutil_parser

# Web news before 1995 is implausible as a publication date (the first news sites went online
# in 1993-94); a date more than two days after the fetch is a template or a parsing error.
EARLIEST_PUBLICATION = date(1995, 1, 1)
FUTURE_TOLERANCE = timedelta(days=2)
DAY_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:/|[^\d]|$)")

MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
# "October 16, 1962" / "Oct. 16 1962" / "16 October 1962" / "9 September" / "on 21 January"
MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,\s*|\s+)((?:1[6-9]|20)\d{{2}})\b")
DAY_MONTH_YEAR = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+((?:1[6-9]|20)\d{{2}}))?\b"
)
MONTH_DAY = re.compile(
    rf"\b(?:on|since|until|by|from|to|before|after)\s+{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!,?\s*\d{{4}})"
)
ISO_DATE = re.compile(r"\b((?:19|20)\d{2})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
WEEKDAY_MENTION = re.compile(r"\b(?:on|last)\s+(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")


def parse_datetime(value: str | None) -> datetime | date | None:
    """Return a timezone-aware UTC datetime, or a date for day-only values, or None if unparseable."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    if DAY_ONLY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    try:
        parsed = dateutil_parser.isoparse(value)
    except (ValueError, OverflowError):
        try:
            parsed = dateutil_parser.parse(value)
        except (ValueError, OverflowError, TypeError):
            return None
    if parsed.tzinfo is None:
        # A time of day without a zone: UTC is the documented assumption (docs/contract.md).
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_datetime(value: datetime | date) -> str:
    """Return ISO 8601: YYYY-MM-DDTHH:MM:SSZ for instants, YYYY-MM-DD for day-only dates."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def plausible(value: datetime | date, fetched: datetime) -> bool:
    """Return True unless the date is before web news existed or after the fetch (beyond a tolerance)."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_PUBLICATION <= day <= (fetched + FUTURE_TOLERANCE).date()


def normalise_date(value: str | None, fetched: datetime) -> str | None:
    """Return the value as an ISO 8601 UTC string if it parses and is plausible, else None."""
    parsed = parse_datetime(value)
    if parsed is None or not plausible(parsed, fetched):
        return None
    return format_datetime(parsed)


def date_from_url(url: str | None) -> str | None:
    """Return the YYYY-MM-DD date in a URL path (/2022/01/19/, /20220119/), if there is one."""
    if not url:
        return None
    match = URL_DATE.search(url)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        return None


def _month(name: str) -> int:
    return MONTHS[name.lower().rstrip(".")]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_mentioned_dates(text: str, published: str | None = None) -> list[str]:
    """Return the calendar dates mentioned in the text as sorted, unique ISO dates.

    Day-and-month mentions without a year ("on 21 January") take the publication year when they
    fall within six months of publication (otherwise the year is ambiguous and they are skipped);
    weekday mentions ("on Monday", "last Monday") resolve only against a publication date, to the
    latest such day on or before it (news reports what happened; "last" excludes the day itself).
    """
    pub = parse_datetime(published)
    pub_day = (pub.date() if isinstance(pub, datetime) else pub) if pub else None
    found: set[date] = set()
    spans: list[tuple[int, int]] = []

    def add(value: date | None, span: tuple[int, int]) -> None:
        if value and date(1000, 1, 1) <= value <= date(2200, 1, 1):
            found.add(value)
            spans.append(span)

    for m in MONTH_DAY_YEAR.finditer(text):
        add(_safe_date(int(m.group(3)), _month(m.group(1)), int(m.group(2))), m.span())
    for m in ISO_DATE.finditer(text):
        add(_safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))), m.span())
    for m in DAY_MONTH_YEAR.finditer(text):
        if any(s <= m.start() < e for s, e in spans):
            continue
        if m.group(3):
            add(_safe_date(int(m.group(3)), _month(m.group(2)), int(m.group(1))), m.span())
        elif pub_day:
            add(_resolve_year(pub_day, _month(m.group(2)), int(m.group(1))), m.span())
    if pub_day:
        for m in MONTH_DAY.finditer(text):
            if not any(s <= m.start() < e for s, e in spans):
                add(_resolve_year(pub_day, _month(m.group(1)), int(m.group(2))), m.span())
        for m in WEEKDAY_MENTION.finditer(text):
            back = (pub_day.weekday() - WEEKDAYS[m.group(1).lower()]) % 7
            if m.group(0).lower().startswith("last") and back == 0:
                back = 7
            found.add(pub_day - timedelta(days=back))
    return sorted(d.isoformat() for d in found)


def _resolve_year(pub_day: date, month: int, day: int) -> date | None:
    for year in (pub_day.year, pub_day.year - 1, pub_day.year + 1):
        candidate = _safe_date(year, month, day)
        if candidate and abs((candidate - pub_day).days) <= 183:
            return candidate
    return None


def pick_sort_date(published_at: str | None, fetched_at: str | None, indexed_at: str) -> str:
    """Return the date a document sits at on a time line: its publication date, else when it was
    first seen — the fetch time its input gives (WARC-Date, JSONL `fetched_at`) when plausible,
    else the time it is indexed.

    Every document gets one, so a viewer that filters by time (Kibana filters every view by the
    data view's time field) never hides an article the pipeline could not date.
    """
    if published_at:
        return published_at
    indexed = parse_datetime(indexed_at)
    fetched = parse_datetime(fetched_at)
    if fetched is not None and isinstance(indexed, datetime) and plausible(fetched, indexed):
        return format_datetime(fetched)
    return indexed_at


def keep_first_seen(sort_date: str, published_at: str | None, previous: str | None) -> str:
    """Return the sort date to index over an earlier version of the same document (a re-run, the
    same URL crawled again): an undated document keeps the earliest time it was seen.

    Both values are ISO 8601 UTC as written by this module, so they order as strings ("2022-01-19"
    sorts before any instant of that day).
    """
    if published_at or not previous:
        return sort_date
    return min(sort_date, previous)
