"""Shared passages (transforms/passages.py): passages, keys, near matches, links, on tables of cases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from newsdex.transforms.passages import (
    MIN_WORDS,
    Passage,
    Text,
    body_order,
    find_links,
    key_lines,
    keys_of,
    linked_documents,
    matched_words,
    merge_links,
    parse_paragraph,
    passage_keys,
    same_passage,
    split_lines,
    split_passages,
)
from newsdex.transforms.text import line_key

QUOTE = (
    "The minister said the new bridge over the river would open to traffic in the spring of next year, "
    "two years later than planned."
)
OTHER = "Residents of the valley have waited for a crossing since the old ferry stopped running in 1998."


def passage(text: str) -> Passage:
    return Passage(text, tuple(line_key(text).split()))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # A paragraph of one sentence is one passage; a short paragraph none.
        (QUOTE, [QUOTE]),
        ("Too short to be a passage at all.", []),
        # A paragraph of several sentences: the paragraph, and each sentence of 12 words or more.
        (f"{QUOTE} {OTHER} It rained.", [f"{QUOTE} {OTHER} It rained.", QUOTE, OTHER]),
        # Paragraphs are lines; the same text twice is one passage.
        (f"{QUOTE}\n\n{QUOTE}", [QUOTE]),
    ],
)
def test_split_passages(body: str, expected: list[str]) -> None:
    assert [p.text for p in split_passages(body)] == expected


@pytest.mark.parametrize(
    ("edited", "same"),
    [
        (QUOTE, True),
        (QUOTE.upper(), True),  # case
        (QUOTE.replace(",", "").replace(".", "!"), True),  # punctuation
        (QUOTE.replace("bridge", "tunnel"), True),  # one word
        # The attribution reworded, the 20 words quoted kept: reuse.
        (QUOTE.replace("The minister said", "As one official put it,"), True),
        # Every fourth word changed: not the same passage.
        (" ".join(w if i % 4 else "x" for i, w in enumerate(QUOTE.split())), False),
        ("Analysts said the new bridge over the river would open in the autumn.", False),  # a phrase
        (OTHER, False),
        # Contained: the quote inside a longer paragraph is the same passage.
        (f"Speaking on Monday, {QUOTE} She gave no reason for the delay.", True),
    ],
)
def test_same_passage_near_and_contained_but_not_a_phrase(edited: str, same: bool) -> None:
    assert same_passage(passage(QUOTE), passage(edited)) is same


def test_a_one_word_edit_keeps_a_lookup_key() -> None:
    base = set(keys_of(passage(QUOTE)))
    for word in line_key(QUOTE).split():
        edited = line_key(QUOTE).replace(word, "zzz", 1)
        assert base & set(keys_of(passage(edited))), word


def test_passage_keys_are_sorted_distinct_and_stable() -> None:
    keys = passage_keys(split_passages(f"{QUOTE}\n\n{OTHER}"))
    assert keys == sorted(set(keys)) and keys == passage_keys(split_passages(f"{QUOTE}\n\n{OTHER}"))
    assert passage_keys(split_passages("short one")) == []


def test_each_key_knows_its_lines_and_a_candidate_read_on_them_links_as_the_whole_does() -> None:
    body = f"Headline words only\n\n{OTHER}\n\n{QUOTE} It rained all day in the valley.\n\n{QUOTE}"
    every = split_passages(body)
    lines = key_lines(every)
    assert list(lines) == passage_keys(every)
    # Lines are body.split("\n") numbers: the passage paragraphs stand on lines 2 and 4 (line 6, the
    # quote again, is line 4's first sentence: a passage is kept once, where it first stands).
    assert {n for ns in lines.values() for n in ns} == {2, 4}
    assert [p.line for p in every] == [2, 4, 4]
    quoting = Text("b", "two.example", split_passages(f"As reported: {QUOTE.lower()}"))
    wanted = sorted({n for k in passage_keys(quoting.passages) for n in lines.get(k, [])})
    assert wanted == [4]
    part = split_lines(body, wanted)
    assert [p.text for p in part] == [p.text for p in every if p.line == 4]
    whole = find_links(quoting, [Text("a", "one.example", every)])
    assert whole and find_links(quoting, [Text("a", "one.example", part)]) == whole
    # Lines past the body's end are no lines; none asked, no passages.
    assert split_lines(body, [99]) == [] and split_lines(body, []) == []


def test_body_order_is_the_split_order_without_parsing() -> None:
    body = f"{OTHER}\n\n{QUOTE} {OTHER.upper()} It rained.\n\n{QUOTE}\n\nAnd {OTHER.lower()}"
    texts = [p.text for p in split_passages(body)]
    # OTHER; the paragraph and its first sentence (the second folds to OTHER's words, and line 4 to
    # the first sentence's: each is kept once); the last line.
    assert len(texts) == 4
    assert body_order(body, reversed(texts)) == texts
    assert body_order(body, [texts[3], "not in the body at all", texts[1]]) == [texts[1], texts[3]]


def test_find_links_skips_itself_and_its_own_source() -> None:
    doc = Text("a", "one.example", split_passages(f"{QUOTE}\n\n{OTHER}"))
    quoting = Text("b", "two.example", split_passages(f"Intro words here.\n\n{QUOTE.lower()}"))
    same_site = Text("c", "one.example", split_passages(QUOTE))
    assert find_links(doc, [doc, quoting, same_site]) == {"b": {QUOTE: [QUOTE.lower()]}}
    # Without a source (no URL), only the document itself is skipped.
    assert set(find_links(Text("a", None, doc.passages), [doc, same_site])) == {"c"}


def test_merge_links_one_entry_per_passage_and_idempotent() -> None:
    sentence = QUOTE
    paragraph = f"{QUOTE} {OTHER}"
    shared = merge_links([], [(paragraph, "x"), (sentence, "x"), (OTHER, "y")], [paragraph, sentence, OTHER])
    # The sentence links nothing its paragraph does not: folded into it; OTHER links y too: kept.
    assert shared == [{"text": paragraph, "documents": ["x"]}, {"text": OTHER, "documents": ["y"]}]
    assert merge_links(shared, [(paragraph, "x")], [paragraph, sentence, OTHER]) == shared
    assert linked_documents(shared) == 2
    assert MIN_WORDS == 12


def test_a_quote_inside_a_longer_sentence_shares_a_key_and_links() -> None:
    # Neither the start, the middle nor the end of the quoting sentence is the quote's: the
    # winnowed keys find it wherever it stands.
    inside = (
        f'Speaking in the chamber, she said that "{QUOTE[:-1]}", before leaving for the airport at night.'
    )
    source, quoting = split_passages(QUOTE), split_passages(inside)
    assert set(passage_keys(source)) & set(passage_keys(quoting))
    links = find_links(Text("b", "two.example", quoting), [Text("a", "one.example", source)])
    assert links == {"a": {inside: [QUOTE]}}


@pytest.mark.parametrize(
    ("short", "long_"),
    [
        (QUOTE, QUOTE),  # the same words
        (QUOTE, f"{OTHER} {QUOTE} It rained."),  # a sentence inside its paragraph
        (QUOTE, f"As reported, {QUOTE.lower()}"),  # a quote inside a longer sentence
        # The same letters, not the same words: "minister" inside "ministers" is no word in a row.
        (QUOTE, QUOTE.replace("minister", "ministers")),
        (QUOTE, QUOTE.replace("bridge", "tunnel")),  # one word edited: counted word by word
        (QUOTE, OTHER + " " + OTHER),  # nothing in common
    ],
)
def test_matched_words_shortcut_for_a_passage_inside_another_counts_as_the_word_count_does(
    short: str, long_: str
) -> None:
    a, b = passage(short), passage(long_)
    # `joined` that cannot be found sends the pair through the word-by-word count.
    slow = matched_words(replace(a, joined="\0"), replace(b, joined="\1"))
    assert matched_words(a, b) == slow


def test_a_paragraph_parsed_again_from_the_cache_gives_the_same_passages_on_its_own_lines() -> None:
    body = f"{QUOTE} {OTHER}\n\nIt rained.\n\n{OTHER}"
    parse_paragraph.cache_clear()
    first = split_passages(body)
    again = split_lines(
        f"Another opening line of the page, long enough to be one passage here.\n{body}", [1, 5]
    )
    assert parse_paragraph.cache_info().hits >= 1
    assert [(p.text, p.words, p.grams, p.paragraph) for p in first] == [
        (p.text, p.words, p.grams, p.paragraph) for p in again
    ]
    assert [p.line for p in again] == [p.line + 1 for p in first]
