"""Story terms, the story score and story assignment (transforms/stories.py), on tables of cases."""

from __future__ import annotations

from collections import Counter

import pytest

from newsdex.transforms.stories import (
    ENTITY_PREFIX,
    SAME_STORY,
    STORY_DAYS,
    Member,
    assign_stories,
    days_apart,
    explain,
    is_name,
    new_story_id,
    rare_terms,
    resolve,
    similarity,
    span_gap,
    story_group,
    story_terms,
    time_gap,
    vector,
)

FLOOD_A = "The river Argen broke through the Lindau dam on Monday; 400 residents of Reutin were evacuated."
FLOOD_B = "About 400 people were evacuated from Reutin in Lindau after the Argen dam collapsed on Monday."
DERBY = "A goal in the last minute gave the visitors a draw in the city derby on Sunday afternoon."
COMET = "Astronomers found water ice on a comet from the Oort cloud with the James Webb Space Telescope."


@pytest.mark.parametrize(
    ("title", "body", "present", "absent"),
    [
        # Stop words of several languages go; words are cut to five characters; numbers stay whole.
        ("Missiles in Cuba", "The missiles were moved.", ["missi", "cuba", "moved"], ["the", "in", "were"]),
        (None, "Die Regierung hat 2024 die Regierungen gewarnt", ["regie", "2024", "gewar"], ["die", "hat"]),
        # Accents and case fold away: Zürich and ZURICH are one term.
        ("ZURICH", "Zürich", ["zuric"], []),
        # Only the lead counts: a word past the first 150 words of the body does not.
        (None, "word " * 150 + "farawayword", ["word"], ["faraw"]),
    ],
)
def test_story_terms(title: str | None, body: str, present: list[str], absent: list[str]) -> None:
    terms = story_terms(title, body)
    assert terms == sorted(terms)
    for term in present:
        assert term in terms
    for term in absent:
        assert term not in terms


def test_term_counts_are_kept() -> None:
    assert Counter(story_terms("Argen", "Argen Argen flood"))["argen"] == 3


def test_people_and_organisations_are_name_terms_places_are_not() -> None:
    entities = {
        "person": ["Sergei Ryabkov", "Sergei Ryabkov"],
        "org": ["NATO"],
        "location": ["Cuba"],
        "misc": ["Cold War"],
    }
    terms = story_terms("Talks", "Talks stalled.", entities)
    names = [t for t in terms if is_name(t)]
    assert names == [ENTITY_PREFIX + "nato", ENTITY_PREFIX + "sergei ryabkov"]  # folded, once each
    assert terms == sorted(terms) and "talks" in terms
    # A word is never taken for a name (words are folded: no prefix character survives).
    assert not any(is_name(t) for t in story_terms("@NATO", "@Ryabkov said"))


def _corpus(*texts: str) -> tuple[list[list[str]], dict[str, int], int]:
    terms = [story_terms(None, t) for t in texts]
    df: Counter[str] = Counter()
    for t in terms:
        df.update(set(t))
    return terms, df, len(terms)


def test_same_event_scores_above_the_threshold_other_events_below() -> None:
    (a, b, c, d), df, n = _corpus(FLOOD_A, FLOOD_B, DERBY, COMET)
    va, vb, vc, vd = (vector(t, df, n) for t in (a, b, c, d))
    assert similarity(va, vb) >= SAME_STORY
    for other in (vc, vd):
        assert similarity(va, other) < SAME_STORY
    assert similarity(va, va) == pytest.approx(1.0)
    assert 0.0 <= similarity(vc, vd) <= 1.0


def test_names_count_only_when_both_documents_have_names() -> None:
    both = {"person": ["Claudia Alfons"]}
    a = story_terms(None, FLOOD_A, both)
    b = story_terms(None, FLOOD_B, both)
    b_unnamed = story_terms(None, FLOOD_B)  # e.g. a language without an NER model
    b_other = story_terms(None, FLOOD_B, {"person": ["Marco Bellini"]})
    _, df, n = _corpus(FLOOD_A, FLOOD_B, DERBY, COMET)
    for t in {*a, *b_other}:
        if is_name(t):
            df[t] = 1
    words = similarity(vector(story_terms(None, FLOOD_A), df, n), vector(b_unnamed, df, n))
    # No names on one side: missing evidence, the words alone decide (no penalty for A's names).
    assert similarity(vector(a, df, n), vector(b_unnamed, df, n)) == pytest.approx(words)
    # The same name on both sides pulls them together; different names push them apart.
    assert similarity(vector(a, df, n), vector(b, df, n)) > words
    assert similarity(vector(a, df, n), vector(b_other, df, n)) < words
    assert similarity(vector(a, df, n), vector(a, df, n)) == pytest.approx(1.0)


def test_rare_terms_skip_what_no_other_document_has() -> None:
    df = {"argen": 2, "dam": 40, "only": 0, "lindau": 3}
    assert rare_terms(["only", "dam", "argen", "lindau"], df, limit=2) == ["argen", "lindau"]
    assert rare_terms(["argen", "lindau"], df, limit=5, min_df=3) == ["lindau"]


@pytest.mark.parametrize(
    ("a", "b", "days"),
    [
        ("2024-05-06T10:00:00Z", "2024-05-08T10:00:00Z", 2.0),
        ("2024-05-06", "2024-05-06T12:00:00Z", 0.5),
        (None, "2024-05-06", None),
        ("not a date", "2024-05-06", None),
    ],
)
def test_days_apart(a: str | None, b: str | None, days: float | None) -> None:
    assert days_apart(a, b) == days


@pytest.mark.parametrize(
    ("a_seen", "a_published", "b_seen", "b_published", "gap"),
    [
        # Two publication dates: the days between them.
        (
            "2024-05-06T00:00:00Z",
            "2024-05-06T00:00:00Z",
            "2024-05-16T00:00:00Z",
            "2024-05-16T00:00:00Z",
            10.0,
        ),
        # An undated document seen years after a dated one can have been published beside it.
        ("2022-01-19T00:00:00Z", "2022-01-19T00:00:00Z", "2026-12-01T00:00:00Z", None, 0.0),
        ("2026-12-01T00:00:00Z", None, "2022-01-19T00:00:00Z", "2022-01-19T00:00:00Z", 0.0),
        # ... but not after it was seen: seen in 2022, it cannot report what happened in 2026.
        ("2022-01-19T00:00:00Z", None, "2026-01-19T00:00:00Z", "2026-01-19T00:00:00Z", 1461.0),
        # Two undated documents: nothing sets them apart.
        ("2022-01-19T00:00:00Z", None, "2026-12-01T00:00:00Z", None, 0.0),
        (None, None, "2024-05-06T00:00:00Z", "2024-05-06T00:00:00Z", 0.0),
    ],
)
def test_time_gap_treats_an_unknown_date_as_any_time_until_seen(
    a_seen: str | None, a_published: str | None, b_seen: str | None, b_published: str | None, gap: float
) -> None:
    assert time_gap(a_seen, a_published, b_seen, b_published) == pytest.approx(gap)
    assert time_gap(b_seen, b_published, a_seen, a_published) == pytest.approx(gap)


def _members(*texts: str, date: str = "2024-05-06", dated: bool = True) -> list[Member]:
    return [
        Member(f"d{i}", "", story_terms(None, t), date, date if dated else None) for i, t in enumerate(texts)
    ]


def test_a_batch_groups_reports_of_one_event_and_keeps_others_apart() -> None:
    batch = _members(FLOOD_A, DERBY, FLOOD_B, COMET)
    _, df, n = _corpus(FLOOD_A, DERBY, FLOOD_B, COMET)
    result = assign_stories(batch, {}, df, n)
    assert result.stories["d0"] == result.stories["d2"] == new_story_id("d0")
    assert len({result.stories["d0"], result.stories["d1"], result.stories["d3"]}) == 3
    assert result.merges == {}


def test_a_document_joins_an_indexed_story_within_the_days_only() -> None:
    _, df, n = _corpus(FLOOD_A, FLOOD_B, DERBY, COMET)
    indexed = Member("old", "s-existing", story_terms(None, FLOOD_A), "2024-05-05", "2024-05-05")
    near = assign_stories(_members(FLOOD_B), {"d0": [indexed]}, df, n)
    assert near.stories["d0"] == "s-existing"
    far = assign_stories(_members(FLOOD_B, date="2025-01-01"), {"d0": [indexed]}, df, n)
    assert far.stories["d0"] == new_story_id("d0")
    assert STORY_DAYS < 240


def test_an_undated_document_joins_across_the_window_until_it_was_seen() -> None:
    _, df, n = _corpus(FLOOD_A, FLOOD_B, DERBY, COMET)
    dated = Member("old", "s-existing", story_terms(None, FLOOD_A), "2024-05-05", "2024-05-05")
    # Seen (no publication date) months later: it can have been published beside the dated report.
    late = assign_stories(_members(FLOOD_B, date="2025-01-01", dated=False), {"d0": [dated]}, df, n)
    assert late.stories["d0"] == "s-existing"
    # Seen months before the dated report was published: it cannot report that event.
    early = assign_stories(_members(FLOOD_B, date="2023-09-01", dated=False), {"d0": [dated]}, df, n)
    assert early.stories["d0"] == new_story_id("d0")
    undated = Member("old", "s-existing", story_terms(None, FLOOD_A), "2023-01-01", None)
    both = assign_stories(_members(FLOOD_B, date="2025-01-01", dated=False), {"d0": [undated]}, df, n)
    assert both.stories["d0"] == "s-existing"


def test_a_document_matching_two_stories_merges_them_into_the_smaller_id() -> None:
    _, df, n = _corpus(FLOOD_A, FLOOD_B, DERBY, COMET)
    first = Member("x", "s-b", story_terms(None, FLOOD_A), "2024-05-06")
    second = Member("y", "s-a", story_terms(None, FLOOD_B), "2024-05-06")
    result = assign_stories(_members(FLOOD_A + " " + FLOOD_B), {"d0": [first, second]}, df, n)
    assert result.stories["d0"] == "s-a"
    assert result.merges == {"s-b": "s-a"}
    assert resolve("s-b", result.merges) == "s-a"


FLOOD_SPAN = ("2024-05-06T00:00:00Z", "2024-05-08T00:00:00Z", "2026-01-01T00:00:00Z")
WARNING_SPAN = (None, None, "2023-04-02T00:00:00Z")


@pytest.mark.parametrize(
    ("a", "b", "gap"),
    [
        # Dated members: days from the other's nearest dated member; inside its dates, 0.
        (FLOOD_SPAN, ("2024-05-07T00:00:00Z", "2024-05-07T00:00:00Z", None), 0.0),
        (FLOOD_SPAN, ("2024-05-20T00:00:00Z", "2024-05-20T00:00:00Z", None), 12.0),
        (FLOOD_SPAN, ("2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z", None), 5.0),
        # Undated members seen a year before the first dated one: the story cannot be theirs.
        (FLOOD_SPAN, WARNING_SPAN, 400.0),
        # Seen after: can be simultaneous. Two undated spans are never apart; unknown is no evidence.
        (FLOOD_SPAN, (None, None, "2025-01-01T00:00:00Z"), 0.0),
        (WARNING_SPAN, (None, None, "2026-01-01T00:00:00Z"), 0.0),
        (FLOOD_SPAN, None, 0.0),
    ],
)
def test_span_gap_is_the_fewest_days_two_stories_can_be_apart(a, b, gap: float) -> None:
    assert span_gap(a, b) == pytest.approx(gap)
    assert span_gap(b, a) == pytest.approx(gap)


def test_story_group_joins_only_stories_that_can_be_near_in_time() -> None:
    spans = {
        "s-flood": FLOOD_SPAN,
        "s-warning": WARNING_SPAN,
        "s-later": (None, None, "2025-06-01T00:00:00Z"),
    }
    assert story_group(["s-flood", "s-warning", "s-later"], spans) == ["s-flood", "s-later"]
    # Joined spans bound the rest: once the warning is in, the flood a year later cannot join.
    assert story_group(["s-later", "s-warning", "s-flood"], spans) == ["s-later", "s-warning"]


def test_an_undated_member_does_not_carry_a_story_across_the_years() -> None:
    """An undated report joins a dated story; a warning seen a year before the event matches the
    undated report's words, but not the story's dates: it founds its own story, and nothing merges."""
    _, df, n = _corpus(FLOOD_A, FLOOD_B, DERBY, COMET)
    dated = Member("old", "s-existing", story_terms(None, FLOOD_A), "2024-05-05", "2024-05-05")
    batch = [
        Member("undated", "", story_terms(None, FLOOD_B), "2026-01-01", None),
        Member("warning", "", story_terms(None, FLOOD_B), "2023-04-02", None),
    ]
    spans = {"s-existing": ("2024-05-05", "2024-05-05", None)}
    result = assign_stories(batch, {"undated": [dated], "warning": []}, df, n, spans=spans)
    assert result.stories["undated"] == "s-existing"
    assert result.stories["warning"] == new_story_id("warning") and result.merges == {}
    # Without the story's span (its dates unknown to the index) the warning would join by the
    # undated member alone: the span is what keeps it out.
    loose = assign_stories(
        [Member("undated", "", story_terms(None, FLOOD_B), "2026-01-01", None), batch[1]],
        {
            "undated": [Member("old", "s-existing", story_terms(None, FLOOD_A), "2026-01-01", None)],
            "warning": [],
        },
        df,
        n,
    )
    assert loose.stories["warning"] == "s-existing"


def test_a_document_matching_stories_a_year_apart_joins_its_best_and_merges_nothing() -> None:
    _, df, n = _corpus(FLOOD_A, FLOOD_B, DERBY, COMET)
    flood = Member("x", "s-b", story_terms(None, FLOOD_A + " " + FLOOD_B), "2024-05-06", "2024-05-06")
    warning = Member("y", "s-a", story_terms(None, FLOOD_A), "2023-04-02", None)
    spans = {"s-b": ("2024-05-06", "2024-05-06", None), "s-a": (None, None, "2023-04-02")}
    doc = Member("d0", "", story_terms(None, FLOOD_A + " " + FLOOD_B), "2026-01-01", None)
    result = assign_stories([doc], {"d0": [flood, warning]}, df, n, spans=spans)
    assert result.stories["d0"] == "s-b" and result.merges == {}


def test_resolve_follows_chains_and_stops_on_cycles() -> None:
    assert resolve("a", {"a": "b", "b": "c"}) == "c"
    assert resolve("a", {"a": "b", "b": "a"}) in {"a", "b"}
    assert resolve("z", {"a": "b"}) == "z"


def test_explain_names_shared_entities_terms_and_days() -> None:
    a = {"entities": {"person": ["Claudia Alfons"], "location": ["Lindau"]}, "published_at": "2024-05-06"}
    b = {"entities": {"person": ["Claudia Alfons"], "location": ["Reutin"]}, "published_at": "2024-05-08"}
    name = ENTITY_PREFIX + "claudia alfons"
    why = explain(a, b, {"argen": 0.8, "dam": 0.6, name: 1.0}, {"argen": 0.5, "goal": 0.8, name: 1.0})
    assert why == {
        "shared_entities": {"person": ["Claudia Alfons"]},
        "shared_terms": ["argen"],  # names are listed as entities, not again as terms
        "days_apart": 2.0,
    }
    # Without a publication date on one side the days apart are unknown (not the days it was seen).
    undated = {**b, "published_at": None, "sort_date": "2026-01-01T00:00:00Z"}
    assert explain(a, undated, {}, {})["days_apart"] is None


def test_stop_words_are_spacys_lists_read_without_importing_spacy() -> None:
    """The flow's process never loads spaCy: its stop word lists are read file by file, and they
    are exactly what importing spaCy's language modules gives."""
    import importlib
    import subprocess
    import sys

    from newsdex.transforms.stories import STOPWORD_LANGUAGES, stop_words
    from newsdex.transforms.text import line_key

    expected = {
        line_key(w)
        for lang in STOPWORD_LANGUAGES
        for w in importlib.import_module(f"spacy.lang.{lang}.stop_words").STOP_WORDS
    }
    assert stop_words() == expected and {"the", "und", "les", "и"} <= expected
    code = (
        "import sys; from newsdex.transforms.stories import stop_words; "
        "assert len(stop_words()) > 1000; print('spacy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
