from __future__ import annotations

import pytest

from newsdex.transforms.boilerplate import clean_text
from newsdex.transforms.dedup import (
    band_keys,
    canonical_order,
    dedupe_paragraphs,
    exact_key,
    find_duplicates,
    is_near_duplicate,
    lsh_params,
    merge_rival_canonicals,
    shingles,
    signature,
)


def _bodies(samples: dict[str, str]) -> dict[str, str]:
    return {k: clean_text(v).body for k, v in samples.items()}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("A.\n\nB.\n\nA.", "A.\n\nB."),
        ('He said “yes”.\n\nHe said "yes".', "He said “yes”."),
        ("One  two.\n\none two", "One  two."),
        ("Keep.\n\nDistinct.", "Keep.\n\nDistinct."),
    ],
)
def test_dedupe_paragraphs(body: str, expected: str) -> None:
    assert dedupe_paragraphs(body) == expected


def test_exact_key_ignores_case_spacing_punctuation() -> None:
    assert exact_key("Hello,  World!\n\nBye.") == exact_key("hello world bye")
    assert exact_key("Hello world") != exact_key("Hello there world")


def _perturb(body: str) -> dict[str, str]:
    paragraphs = body.split("\n\n")
    words = body.split()
    typo = " ".join(w[::-1] if i % 40 == 7 else w for i, w in enumerate(words))
    return {
        "identical": body,
        "new_headline_and_boilerplate": "Exclusive: a new headline\n\n"
        + body
        + "\n\nSubscribe to our newsletter for more.",
        "trimmed_to_75_percent": "\n\n".join(paragraphs[: max(1, int(len(paragraphs) * 0.75))]),
        "appended": body
        + "\n\nUpdate: officials later confirmed the talks would resume next week in Vienna.",
        "typos": typo,
        "reflowed": " ".join(paragraphs),
        "requoted": body.replace("“", '"').replace("”", '"').replace("’", "'"),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "identical",
        "new_headline_and_boilerplate",
        "trimmed_to_75_percent",
        "appended",
        "typos",
        "reflowed",
        "requoted",
    ],
)
def test_copies_are_near_duplicates(samples: dict[str, str], kind: str) -> None:
    for key, body in _bodies(samples).items():
        copy = _perturb(body)[kind]
        assert is_near_duplicate(shingles(body), shingles(copy)), f"{kind} copy of {key} missed"


def test_same_story_in_different_words_is_not_a_duplicate(samples: dict[str, str]) -> None:
    bodies = _bodies(samples)
    keys = sorted(bodies)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            assert not is_near_duplicate(shingles(bodies[a]), shingles(bodies[b])), (a, b)


def test_quoting_one_paragraph_is_not_a_copy(samples: dict[str, str]) -> None:
    bodies = _bodies(samples)
    quoted = bodies["001"].split("\n\n")[1]
    article = bodies["002"] + "\n\nAs another outlet reported: " + quoted
    assert not is_near_duplicate(shingles(bodies["001"]), shingles(article))


def test_lsh_finds_copies_and_clusters_them(samples: dict[str, str]) -> None:
    bodies = _bodies(samples)
    items = []
    for key, body in sorted(bodies.items()):
        items.append((key, shingles(body), band_keys(signature(shingles(body)))))
        copy = _perturb(body)["new_headline_and_boilerplate"]
        items.append((key + "-copy", shingles(copy), band_keys(signature(shingles(copy)))))
    dups = find_duplicates(items, lambda keys, own: [])
    assert dups == {k + "-copy": k for k in bodies}


def test_indexed_canonicals_win_over_batch_items(samples: dict[str, str]) -> None:
    body = _bodies(samples)["000"]
    sh = shingles(body)
    items = [("new", sh, band_keys(signature(sh)))]
    assert find_duplicates(items, lambda keys, own: [("old", sh)]) == {"new": "old"}


def test_band_keys_are_stable_strings() -> None:
    sh = shingles("the quick brown fox jumps over the lazy dog " * 5)
    bands, _ = lsh_params()
    keys = band_keys(signature(sh))
    assert len(keys) == bands
    assert keys == band_keys(signature(set(sh)))
    assert all(isinstance(k, str) and k[:2].isdigit() for k in keys)


def test_canonical_order_earliest_then_longest() -> None:
    docs = [("b", "2022-01-02", 10), ("a", "2022-01-01", 5), ("c", "2022-01-01", 50), ("d", None, 99)]
    ordered = sorted(docs, key=lambda d: canonical_order(d[1], d[2], d[0]))
    assert [d[0] for d in ordered] == ["c", "a", "b", "d"]


def _stored(doc_id: str, body: str, published: str | None) -> dict[str, object]:
    return {
        "id": doc_id,
        "body": body,
        "published_at": published,
        "exact_key": exact_key(body),
        "lsh_bands": band_keys(signature(shingles(body))),
    }


def test_rival_canonicals_from_concurrent_runs_are_merged_to_the_earliest(
    samples: dict[str, str],
) -> None:
    bodies = _bodies(samples)
    story, other = bodies["000"], bodies["003"]
    copy = _perturb(story)["new_headline_and_boilerplate"]
    mine = [_stored("mine-copy", copy, "2022-01-14T09:00:00Z"), _stored("mine-other", other, None)]
    indexed = [
        _stored("theirs-first", story, "2022-01-13T18:00:00Z"),
        _stored("theirs-exact", story.upper(), "2022-01-15T08:00:00Z"),
        *mine,  # the index holds this run's own documents too
    ]
    merged = merge_rival_canonicals(mine, indexed)
    assert merged == {"mine-copy": ("theirs-first", "near"), "theirs-exact": ("theirs-first", "exact")}
    # The rule does not depend on which run asks: the other run reaches the same answer.
    theirs = [d for d in indexed if str(d["id"]).startswith("theirs")]
    assert merge_rival_canonicals(theirs, indexed) == merged


def test_distinct_canonicals_are_left_alone(samples: dict[str, str]) -> None:
    bodies = _bodies(samples)
    docs = [_stored(k, v, None) for k, v in bodies.items()]
    assert merge_rival_canonicals(docs, docs) == {}
