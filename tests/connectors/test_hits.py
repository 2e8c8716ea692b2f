"""The query language and the search argument checks both backends share (connectors/hits.py)."""

from __future__ import annotations

from typing import Any

import pytest

from newsdex.connectors.hits import MAX_LIMIT, Query, SearchError, parse_day, parse_query, search_request


@pytest.mark.parametrize(
    ("query", "groups", "excluded"),
    [
        ("Ryabkov", [["Ryabkov"]], []),
        ("Ryabkov Cuba", [["Ryabkov"], ["Cuba"]], []),
        ('"Operation Anadyr" Cuba', [["Operation Anadyr"], ["Cuba"]], []),
        ("Khrushchev OR Peskov", [["Khrushchev", "Peskov"]], []),
        ("Putin Khrushchev OR Peskov OR Lavrov", [["Putin"], ["Khrushchev", "Peskov", "Lavrov"]], []),
        ('"Bay of Pigs" OR Anadyr', [["Bay of Pigs", "Anadyr"]], []),
        # Lower-case operators are words; so is an operator with nothing to act on.
        ("Khrushchev or Peskov", [["Khrushchev"], ["or"], ["Peskov"]], []),
        ("and or not", [["and"], ["or"], ["not"]], []),
        ("OR", [["OR"]], []),
        ("Cuba OR", [["Cuba"], ["OR"]], []),
        ("NOT", [["NOT"]], []),
        ("AND Cuba", [["AND"], ["Cuba"]], []),
        # AND in capitals between terms changes nothing.
        ("Ryabkov AND Cuba", [["Ryabkov"], ["Cuba"]], []),
        # Exclusions.
        ("Ryabkov -Peskov", [["Ryabkov"]], ["Peskov"]),
        ('Ryabkov -"Dmitry Peskov"', [["Ryabkov"]], ["Dmitry Peskov"]),
        ("Ryabkov NOT Peskov", [["Ryabkov"]], ["Peskov"]),
        ("NOT Peskov", [], ["Peskov"]),
        ("Cuba OR -Peskov", [["Cuba"], ["OR"]], ["Peskov"]),
        # NEAR is no operator; brackets separate words.
        ("NEAR(Ryabkov Cuba)", [["NEAR"], ["Ryabkov"], ["Cuba"]], []),
        ("(Cuba OR Venezuela) missiles", [["Cuba", "Venezuela"], ["missiles"]], []),
        # Punctuation-only terms match nothing and are dropped; an unclosed quote runs to the end.
        ('NATO-Russia AND "', [["NATO-Russia"]], []),
        ('- -- "" ( )', [], []),
        ('"Operation Anadyr', [["Operation Anadyr"]], []),
        ("Cuba Cuba", [["Cuba"]], []),
        # A possessive asks for its word; inside a phrase it is kept.
        ("Putin's -Biden’s", [["Putin"]], ["Biden"]),
        ('"the mayor\'s office"', [["the mayor's office"]], []),
        ("", [], []),
    ],
)
def test_parse_query(query: str, groups: list[list[str]], excluded: list[str]) -> None:
    assert parse_query(query) == Query(tuple(tuple(g) for g in groups), tuple(excluded))


@pytest.mark.parametrize(
    ("value", "end", "day"),
    [
        ("2022-01-19", False, "2022-01-19"),
        ("2022-01-19", True, "2022-01-19"),
        ("2022-02", False, "2022-02-01"),
        ("2022-02", True, "2022-02-28"),
        ("2024-02", True, "2024-02-29"),
        ("2022", False, "2022-01-01"),
        ("2022", True, "2022-12-31"),
        (" 2022-01-19 ", False, "2022-01-19"),
    ],
)
def test_parse_day(value: str, end: bool, day: str) -> None:
    assert parse_day(value, "--from", end) == day


@pytest.mark.parametrize(
    "value", ["2022-13-45", "2022-02-30", "yesterday", "2022-01-19T00:00:00Z", "19/01/2022", "22-01-19", ""]
)
def test_parse_day_refuses_what_is_not_a_day(value: str) -> None:
    with pytest.raises(SearchError, match="--from"):
        parse_day(value, "--from")


@pytest.mark.parametrize(
    ("filters", "limit", "message"),
    [
        ({}, -1, "--limit"),
        ({}, MAX_LIMIT + 1, "--limit"),
        ({"date_from": "2022-02-01", "date_to": "2022-01-31"}, 10, "after --to"),
        ({"lang": "english"}, 10, "--lang"),
        ({"person": [""]}, 10, "--person"),
        ({"source": " "}, 10, "--source"),
        ({"date_to": "tomorrow"}, 10, "--to"),
        ({"mentioned_from": "1962-13"}, 10, "--mentioned-from"),
        ({"mentioned_to": "soon"}, 10, "--mentioned-to"),
        ({"mentioned_from": "1963", "mentioned_to": "1962"}, 10, "after --mentioned-to"),
    ],
)
def test_search_request_refuses_unusable_arguments(filters: dict[str, Any], limit: int, message: str) -> None:
    with pytest.raises(SearchError, match=message):
        search_request("Cuba", filters, limit)


def test_search_request_normalises_what_it_keeps() -> None:
    request = search_request(
        "Cuba",
        {"person": "Dmitry  Peskov", "lang": "EN", "date_from": "2022-01", "date_to": "2022-01"},
        0,
    )
    assert request.person == ("Dmitry Peskov",) and request.lang == "en" and request.limit == 0
    assert (request.date_from, request.date_to) == ("2022-01-01", "2022-01-31")
    assert request.entities() == [("person", "Dmitry Peskov")]


@pytest.mark.parametrize(("offset", "limit"), [(-1, 10), (MAX_LIMIT - 9, 10), (True, 10), ("5", 10)])
def test_search_request_refuses_an_offset_outside_the_result_window(offset: Any, limit: int) -> None:
    with pytest.raises(SearchError, match="--offset"):
        search_request("Cuba", {}, limit, offset=offset)


def test_search_request_keeps_offset_and_mentioned_days() -> None:
    request = search_request(
        "", {"mentioned_from": "1962", "mentioned_to": "1962-10"}, 10, offset=MAX_LIMIT - 10
    )
    assert request.offset == MAX_LIMIT - 10
    assert (request.mentioned_from, request.mentioned_to) == ("1962-01-01", "1962-10-31")
