"""Golden tests for the line cleaner on the five samples, and tables for its line classifiers."""

from __future__ import annotations

import pytest

from newsdex.transforms.boilerplate import boilerplate_reason, clean_text, metadata_kind, split_glued

# Lines of each sample that are page furniture: none may survive in the body.
BOILERPLATE = {
    "000": [
        "READ MORE: Skin cancer breakthrough",
        "Leave a Reply",
        "This website uses cookies",
    ],
    "001": [
        "2022-01-19T18:40+0000",
        "/html/head/meta",
        "https://cdnn1.img.sputniknews.com",
        "https://sputniknews.com/20211211",
        "feedback@sputniknews.com",
        "1920 1080 true",
        "en_EN",
        "Ekaterina Blinova",
        "venezuela, world, us",
        "Kremlin Spokesman Dmitry Peskov did not rule out",  # og:description, kept as a field
    ],
    "002": [
        "- Advertisement -",
        "Write Ann M. Simmons",
        "Stay on top - Get the daily news in your inbox",
        "DMCA / Correction Notice",
        "Recent Articles",
        "Related Stories",
    ],
    "003": ["Share your love", "I also read:", "Read Also", "Maduro ratifies", "Article Source"],
    "004": ["- Advertisement -", "Subscribe to our newsletter", "Sign up here to get the latest news"],
}

# Starts of paragraphs that must all be in the body (first, middle, last; subheads; datelines).
BODY = {
    "000": [
        "A senior diplomat in the Kremlin described",
        "This marks a significant increase",
        "These tensions reached their peak on October 16, 1962",
        "“At the present time, we’re facing a crisis in European security.”",
        "Putin has denied he is ready for an invasion",
        "Kiev is actively seeking membership for NATO.",
    ],
    "001": [
        "Russia is exploring options to ensure its security",
        "Last week, Deputy Foreign Minister Sergei Ryabkov",
        "Cuban Missile Crisis 2.0?",
        "The Kremlin has long exercised self-restraint",
        '"From there, the [US] missiles could reach',
        "Are 'Spheres of Influence' Really a Thing of the Past?",
        "Although Russia's talks with the US, NATO and OSCE",
    ],
    "002": [
        "Deputy Foreign Minister Sergei Rybakov says Moscow",
        "“I don’t want to confirm anything",
        "Russia’s representative to the OSCE, Alexander Lukachevik",
        "The OSCE, which handles conventional but not nuclear security",
    ],
    "003": [
        "Russia raised the stakes in its confrontation",
        "EE.UU-Russia: ¿ruptura total?",
        "“The talks were started to get specific answers",
        "Dmitry Peskov criticized the proposals",
    ],
    "004": [
        "MOSCOW, Russia – Russian President Vladimir Putin said",
        "At that time, the world was on the brink of nuclear war",
        "Although Pyongyang has stopped testing ballistic missiles",
    ],
}

TITLES = {
    "000": "Putin sparks US nuke panic as 'military hardware' destine for Cuba: 'Drum of war sounding'",
    "001": "'Russian Missiles in Cuba & Venezuela': What's Behind Moscow's Hardball Rhetoric?",
    "002": "Russia Suggests Military Deployment to Venezuela, Cuba if Tensions With U.S. Remain High",
    "003": "Russia does not rule out deployments in Cuba and Venezuela and threatens a total break with the United States",
    "004": "Putin expects disagreements between Russia and US to not generate into new ‘Missile Crisis’",
}


@pytest.mark.parametrize("sample", sorted(BOILERPLATE))
def test_no_boilerplate_survives(samples: dict[str, str], sample: str) -> None:
    body = clean_text(samples[sample]).body
    for line in BOILERPLATE[sample]:
        assert line not in body, f"boilerplate kept in {sample}: {line!r}"


@pytest.mark.parametrize("sample", sorted(BODY))
def test_no_body_paragraph_lost(samples: dict[str, str], sample: str) -> None:
    paragraphs = clean_text(samples[sample]).body.split("\n\n")
    for start in BODY[sample]:
        assert any(p.startswith(start) for p in paragraphs), f"lost in {sample}: {start!r}"


@pytest.mark.parametrize("sample", sorted(TITLES))
def test_title_found_once_and_not_in_body(samples: dict[str, str], sample: str) -> None:
    result = clean_text(samples[sample])
    assert result.title == TITLES[sample]
    assert TITLES[sample] not in result.body


def test_every_body_paragraph_comes_from_the_input(samples: dict[str, str]) -> None:
    for text in samples.values():
        squashed = " ".join(text.split())
        for paragraph in clean_text(text).body.split("\n\n"):
            assert paragraph in squashed


def test_sputnik_metadata_becomes_fields(samples: dict[str, str]) -> None:
    hints = clean_text(samples["001"]).hints
    assert hints["header_date"] == "2022-01-19"
    assert hints["url"].startswith("https://sputniknews.com/20220119/russian-missiles-in-cuba")
    assert hints["timestamps"] == ["2022-01-19T18:40+0000", "2022-01-19T18:40+0000", "2022-01-19T18:53+0000"]
    assert hints["image_url"].startswith("https://cdnn1.img.sputniknews.com/img/102494/54/1024945440")
    assert hints["authors"] == ["Ekaterina Blinova"]
    assert hints["publisher"] == "Sputnik International"
    assert hints["locale"] == "en_EN"
    assert hints["description"].startswith("Kremlin Spokesman Dmitry Peskov did not rule out")
    assert {"venezuela", "latin america", "cuban missile crisis of 1962", "russian missiles"} <= set(
        hints["tags"]
    )
    assert len(hints["related_urls"]) == 4


def test_byline_with_obfuscated_emails_gives_authors(samples: dict[str, str]) -> None:
    assert clean_text(samples["002"]).hints["authors"] == ["Ann M. Simmons", "Lawrence Norman"]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("date 2022-01-19 https://example.com/a.html", "header"),
        ("https://example.com/news/1.html", "link"),
        ("https://cdn.example.com/img/1/photo.jpg", "image"),
        ("/html/head/meta[@name='og:title']/@content", "xpath"),
        ("2022-01-19T18:40+0000", "timestamp"),
        ("2021-03-04", "timestamp"),
        ("1920 1080 true", "number"),
        ("2022", "number"),
        ("en_EN", "locale"),
        ("Acme News desk@acme.example +44 20 7946 0958", "contact"),
        ("politics, world, europe, energy", "tags"),
        ("The minister said prices, wages, and rents rose.", None),
        ("Kiev is actively seeking membership for NATO.", None),
    ],
)
def test_metadata_kind(line: str, kind: str | None) -> None:
    assert metadata_kind(line) == kind


@pytest.mark.parametrize(
    ("line", "furniture"),
    [
        ("- Advertisement -", True),
        ("Anzeige", True),
        ("Publicidad", True),
        ("READ MORE: Team creates revolutionary test", True),
        ("Lesen Sie auch: Die Bahn streikt wieder", True),
        ("Читайте также: новости дня", True),
        ("Share your love", True),
        ("Subscribe to our newsletter", True),
        ("This website uses cookies. By continuing to use this site, you accept our use of cookies.", True),
        # A body sentence that merely contains a trigger word stays.
        (
            "The regulator fined the company for setting tracking cookies without asking users first, officials said.",
            False,
        ),
        (
            "Readers who subscribe to the paper's print edition fell by a third over the decade, the report found.",
            False,
        ),
        (
            "The advertisement, which ran during the final, drew complaints from viewers in several countries.",
            False,
        ),
    ],
)
def test_boilerplate_reason(line: str, furniture: bool) -> None:
    assert (boilerplate_reason(line) is not None) is furniture


def test_glued_paragraphs_are_split_but_abbreviations_are_not() -> None:
    line = 'He met the U.S. envoy in Geneva.Talks ended early."It failed," he said.Dr. Smith agreed.'
    assert split_glued(line) == [
        "He met the U.S. envoy in Geneva.",
        "Talks ended early.",
        '"It failed," he said.',
        "Dr. Smith agreed.",
    ]


def test_repeated_paragraph_is_kept_once() -> None:
    text = "Title line\n\n" + "\n\n".join(
        ["A paragraph long enough to be article text, with several words in it."] * 3
    )
    assert clean_text(text).body.count("A paragraph long enough") == 1
