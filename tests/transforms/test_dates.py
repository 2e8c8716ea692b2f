from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsdex.transforms.dates import (
    date_from_url,
    find_mentioned_dates,
    keep_first_seen,
    normalise_date,
    pick_sort_date,
)

FETCHED = datetime(2022, 1, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-01-19T18:40+0000", "2022-01-19T18:40:00Z"),
        ("2022-01-19T20:40:00+02:00", "2022-01-19T18:40:00Z"),
        ("2022-01-19", "2022-01-19"),  # day-only stays a day: no invented time of day
        ("2022-01-19T18:40", "2022-01-19T18:40:00Z"),  # no zone: UTC assumed (documented)
        ("Wed, 19 Jan 2022 18:40:00 GMT", "2022-01-19T18:40:00Z"),
        ("2022-01-23", None),  # beyond the 2-day tolerance after the fetch
        ("1990-05-01", None),  # before web news
        ("garbage", None),
        ("2022-02-30", None),
        (None, None),
    ],
)
def test_normalise_date(value: str | None, expected: str | None) -> None:
    assert normalise_date(value, FETCHED) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://sputniknews.com/20220119/story-1092373342.html", "2022-01-19"),
        ("https://example.com/2021/03/04/story", "2021-03-04"),
        ("https://example.com/2021-13-04/story", None),
        ("https://example.com/story", None),
    ],
)
def test_date_from_url(url: str, expected: str | None) -> None:
    assert date_from_url(url) == expected


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("These tensions reached their peak on October 16, 1962, when", None, ["1962-10-16"]),
        ("On 9 September 1962, missiles were delivered.", None, ["1962-09-09"]),
        ("It lasted from 16 October 1962 to 28 October 1962.", None, ["1962-10-16", "1962-10-28"]),
        ("They meet in Geneva on 21 January, officials said.", "2022-01-19T18:40:00Z", ["2022-01-21"]),
        ("They meet in Geneva on 21 January, officials said.", None, []),  # year unknown: not resolved
        ("The deal was signed on December 30 in Paris.", "2022-01-05", ["2021-12-30"]),
        ("Peskov said on Monday that talks failed.", "2022-01-19T18:40:00Z", ["2022-01-17"]),
        ("Peskov said on Monday that talks failed.", None, []),  # weekday without a publication date
        ("Sales rose 30 percent in 2021.", None, []),
        ("A report dated 2020-02-30 and one dated 2020-03-01.", None, ["2020-03-01"]),
    ],
)
def test_find_mentioned_dates(text: str, published: str | None, expected: list[str]) -> None:
    assert find_mentioned_dates(text, published) == expected


INDEXED = "2026-03-02T09:00:00Z"


@pytest.mark.parametrize(
    ("published", "fetched", "expected"),
    [
        ("2022-01-19T18:40:00Z", "2022-01-20T00:00:00Z", "2022-01-19T18:40:00Z"),  # the publication date
        ("2022-01-19", None, "2022-01-19"),  # a day stays a day
        (None, "2022-01-20T07:15:00+01:00", "2022-01-20T06:15:00Z"),  # undated: the crawl time, in UTC
        (None, "Thu, 20 Jan 2022 06:15:00 GMT", "2022-01-20T06:15:00Z"),  # WARC/HTTP date style
        (None, "2022-01-20", "2022-01-20"),
        (None, None, INDEXED),  # nothing known: when this pipeline first saw it
        (None, "not a date", INDEXED),
        (None, "2031-01-01T00:00:00Z", INDEXED),  # a fetch time in the future is a broken clock
        (None, "1980-01-01", INDEXED),  # before web news: not a fetch time
    ],
)
def test_pick_sort_date(published: str | None, fetched: str | None, expected: str) -> None:
    assert pick_sort_date(published, fetched, INDEXED) == expected


@pytest.mark.parametrize(
    ("sort_date", "published", "previous", "expected"),
    [
        ("2026-03-02T09:00:00Z", None, "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),  # seen before
        ("2024-05-01T10:00:00Z", None, "2026-03-02T09:00:00Z", "2024-05-01T10:00:00Z"),
        ("2026-03-02T09:00:00Z", None, None, "2026-03-02T09:00:00Z"),  # first time
        ("2026-03-02T09:00:00Z", None, "2026-03-02", "2026-03-02"),  # a day sorts before its instants
        ("2022-01-19T18:40:00Z", "2022-01-19T18:40:00Z", "2020-01-01", "2022-01-19T18:40:00Z"),  # dated
    ],
)
def test_keep_first_seen(sort_date: str, published: str | None, previous: str | None, expected: str) -> None:
    assert keep_first_seen(sort_date, published, previous) == expected
