"""Golden tests for the line cleaner on the five samples, and tables for its line classifiers."""

from __future__ import annotations

import pytest

from newsdex.transforms.boilerplate import (
    boilerplate_reason,
    clean_text,
    furniture_reason,
    metadata_kind,
    split_glued,
)

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
        # Link labels and a sign-up form's fields; a sentence about e-mail addresses stays.
        ("About Reuters, opens new tab", True),
        ("Enter your email address", True),
        ("Your email address will not be published. Required fields are marked *", True),
        ("Never give out your email address to callers, police warned.", False),
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


# --- clean text passes through whole (issue 14) -------------------------------------------------
# Wire stories in the CoNLL-2003 Reuters style, written for these tests: headline, dateline line,
# short paragraphs, tables, scoreboards, ranked lists. No line of them is page furniture.
WIRE = {
    "league_table": (
        "SOCCER - LAZIO HOLD ROMA IN CAPITAL DERBY\n"
        "ROME 1996-12-06\n"
        "Lazio and Roma drew 1-1 on Sunday.\n"
        "Standings after Sunday's games:\n"
        "Lazio 12 7 3 2 20 9 24\n"
        "Roma 12 6 4 2 18 11 22\n"
        "Parma 12 5 4 3 15 12 19\n"
        "Juventus 11 5 3 3 14 10 18",
        "SOCCER - LAZIO HOLD ROMA IN CAPITAL DERBY",
    ),
    "scoreboard": (
        "CRICKET - ENGLAND V ZIMBABWE SCOREBOARD\n"
        "[ CORRECTED 14:06 GMT ]\n"
        "BULAWAYO 1996-12-22\n"
        "Scoreboard on the first day of the first test:\n"
        "England first innings\n"
        "N. Knight c Campbell b Streak 56\n"
        "A. Stewart not out 101\n"
        "N. Hussain lbw b Strang 12\n"
        "Extras (lb-3 nb-2) 5\n"
        "Total (for 2 wickets) 174\n"
        "Fall of wickets: 1-48 2-95\n"
        "Bowling: Streak 14-3-42-1, Strang 12-2-40-1",
        "CRICKET - ENGLAND V ZIMBABWE SCOREBOARD",
    ),
    "ranked_list": (
        "Motor racing - Schumacher takes pole in Suzuka\n"
        "SUZUKA, Japan 1996-10-12\n"
        "Leading qualifiers for Sunday's Japanese Grand Prix:\n"
        "1. Michael Schumacher (Germany) Ferrari 1:38.909\n"
        "2. Damon Hill (Britain) Williams 1:39.053\n"
        "3. Jacques Villeneuve (Canada) Williams 1:39.127",
        "Motor racing - Schumacher takes pole in Suzuka",
    ),
    "prices": (
        "London gold fixed higher\n"
        "LONDON 1996-08-22\n"
        "Gold 387.50 386.80\n"
        "Silver 5.21 5.19\n"
        "Platinum 398.00 397.50",
        "London gold fixed higher",
    ),
    "section_label_and_byline": (
        "WORLD NEWS\n"
        "Ministers agree budget deal after all-night talks\n"
        "By Anna Schmidt\n"
        "BRUSSELS, Dec 6 (Reuters) -\n"
        "European Union finance ministers agreed to accept the budget early on Friday.\n"
        "The deal runs to 2000.",
        "Ministers agree budget deal after all-night talks",
    ),
    "one_liner": ("Tokyo stocks close lower on profit-taking", "Tokyo stocks close lower on profit-taking"),
    "german": (
        "Bundesbank läßt Leitzinsen unverändert\n"
        "FRANKFURT 1996-12-05\n"
        "Die Bundesbank hat ihre Leitzinsen am Donnerstag nicht verändert.\n"
        "Diskontsatz 2,50\n"
        "Lombardsatz 4,50",
        "Bundesbank läßt Leitzinsen unverändert",
    ),
    "more_headline": (
        "MORE RAIN EXPECTED AS RIVERS RISE IN SPAIN\nMADRID 1996-12-19\nRain fell for a third day.",
        "MORE RAIN EXPECTED AS RIVERS RISE IN SPAIN",
    ),
    "advertising_headline": (
        "ADVERTISING - WPP PROFITS RISE\nLONDON 1996-09-03\nNet profit per share\n1996 12.4p\n1995 10.1p",
        "ADVERTISING - WPP PROFITS RISE",
    ),
}


@pytest.mark.parametrize("name", sorted(WIRE))
def test_clean_wire_text_comes_out_whole(name: str) -> None:
    text, title = WIRE[name]
    result = clean_text(text)
    assert result.title == title
    assert result.dropped == []
    lines = [line for line in text.split("\n") if line != title] or [title]
    assert result.body.split("\n\n") == lines


def test_clean_text_drops_only_the_lines_with_evidence() -> None:
    text = WIRE["league_table"][0] + "\nRead more: Roma sack their coach\nLazio 12 7 3 2 20 9 24"
    result = clean_text(text)
    assert result.dropped == [("Read more: Roma sack their coach", "teaser")]
    # A repeated short line (a table row, a label) is not a flattener's copy: it stays.
    assert result.body.count("Lazio 12 7 3 2 20 9 24") == 2
    assert "Juventus 11 5 3 3 14 10 18" in result.body


# An article flattened to one line (no line breaks kept) that ends with its photo's credit.
ONE_LINE_ARTICLE = (
    "Harbour fire forces night evacuation A fire broke out in a boat repair shed near the old harbour "
    "late on Saturday and about eighty residents of the surrounding streets were taken to a sports hall "
    "until the early morning, the mayor said on Sunday. Firefighters needed four hours to bring the flames "
    "under control; three engines, two ladder trucks and forty firefighters were called in. Nobody was "
    "hurt, but two families cannot go back to their flats until the roof over the shed has been made "
    "safe. The cause of the fire is not yet known and the police have opened an inquiry, a spokeswoman "
    "said, adding that the shed had been empty since the owner retired last year. Residents said they "
    "had warned the council about the state of the building several times. Photo: Harbour Fire Service"
)


def test_a_short_caption_is_furniture_but_a_one_line_article_ending_with_a_credit_stays() -> None:
    assert boilerplate_reason("Firefighters at the scene on Saturday night. Photo: Harbour Fire Service")
    result = clean_text(ONE_LINE_ARTICLE)
    assert not result.dropped
    assert "eighty residents" in f"{result.title or ''} {result.body}"
    assert "warned the council" in result.body


def test_text_of_furniture_only_is_empty_and_text_with_one_real_line_is_not() -> None:
    assert clean_text("Subscribe to our newsletter\nThis website uses cookies\n- Advertisement -").body == ""
    assert clean_text("Subscribe to our newsletter\nLazio 3 Roma 1").body == "Lazio 3 Roma 1"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "[ CORRECTED 14:06 GMT ]\nRain stops play at Lord's\nLONDON 1996-06-21\nNo play was possible.",
            "Rain stops play at Lord's",
        ),
        ("UPDATE 2-Shares slide in Tokyo\nTOKYO 1996-06-21\nShares fell.", None),
        ("1996-06-21 14:06 GMT\nShares slide in Tokyo\nShares fell.", "Shares slide in Tokyo"),
        ("Friday, June 21, 1996\nShares slide in Tokyo\nShares fell.", "Shares slide in Tokyo"),
        ("TOKYO 1996-06-21\nShares slide in Tokyo\nShares fell.", "Shares slide in Tokyo"),
        ("LONDON, June 21 (Reuters) -\nShares slide in Tokyo\nShares fell.", "Shares slide in Tokyo"),
        ("Business\nShares slide in Tokyo\nShares fell.", "Shares slide in Tokyo"),
        ("SOCCER\nLAZIO HOLD ROMA\nThe derby ended 1-1.", "LAZIO HOLD ROMA"),
        # A headline that names a furniture topic without a call to action is still the headline.
        (
            "Copyright dispute goes to court\nLONDON 1996-12-06\nThe case opened.",
            "Copyright dispute goes to court",
        ),
        (
            "EU tightens cookie consent rules\nBRUSSELS 1996-12-06\nThe rules apply.",
            "EU tightens cookie consent rules",
        ),
        # A short real headline with nothing headline-like after it stays the title.
        ("Title line\nA paragraph long enough to be article text, with several words in it.", "Title line"),
    ],
)
def test_title_is_the_headline_not_a_notice_timestamp_dateline_or_label(text: str, title: str | None) -> None:
    result = clean_text(text)
    if title is None:
        assert result.title is not None and not result.title.startswith("UPDATE")
    else:
        assert result.title == title
    # Whatever is not the title stays in the body.
    for line in text.split("\n"):
        assert line == result.title or line in result.body.split("\n\n")


@pytest.mark.parametrize(
    ("text", "furniture"),
    [
        (
            "Bahn-Streik legt Fernverkehr lahm\nAnzeige\nBerlin (dpa) - Der Streik hat den Fernverkehr lahmgelegt.\n"
            "Lesen Sie auch: Tarifverhandlungen gescheitert\nNur jeder fünfte Zug fuhr.\nBundesliga, 25. Spieltag\n"
            "Bayern 3 Dortmund 1\nLeipzig 2 Freiburg 2\nNewsletter abonnieren",
            {"Anzeige", "Lesen Sie auch: Tarifverhandlungen gescheitert", "Newsletter abonnieren"},
        ),
        (
            "El Gobierno aprueba el presupuesto\nPublicidad\nMADRID, 4 oct (EFE) - El Consejo aprobó el proyecto.\n"
            "Lee también: La oposición critica las cuentas\nGasto social 45,2\nDefensa 11,3\nCompartir",
            {"Publicidad", "Lee también: La oposición critica las cuentas", "Compartir"},
        ),
        (
            WIRE["scoreboard"][0] + "\n- Advertisement -\nSubscribe to our newsletter\nShare this article",
            {"- Advertisement -", "Subscribe to our newsletter", "Share this article"},
        ),
    ],
)
def test_story_with_a_few_furniture_lines_loses_those_lines_only(text: str, furniture: set[str]) -> None:
    result = clean_text(text)
    assert {line for line, _ in result.dropped} == furniture
    kept = [line for line in text.split("\n") if line not in furniture and line != result.title]
    assert result.body.split("\n\n") == kept


def test_a_long_list_of_names_in_a_story_is_not_a_page_menu() -> None:
    first = "Alan Brian Carol David Emma Frank Grace Henry Irene Jack Karen Liam Mona Neil Olga Paul Rita Sam"
    last = "Smith Jones White Brown Green Black Hall Young King Wright Scott Adams Baker Clark Evans Hill Moore Nash"
    names = [f"{a} {b}" for a, b in zip(first.split(" "), last.split(" "), strict=True)] + [
        "Tina Owen",
        "Uma Price",
    ]
    text = (
        "Birthday honours list published\nLONDON 1996-06-14\n"
        "The following were appointed to the Order of the British Empire, the palace said.\n"
        + "\n".join(names)
        + "\nThe awards will be presented in the autumn."
    )
    result = clean_text(text)
    assert result.dropped == []
    assert result.body.split("\n\n") == text.split("\n")[1:]


@pytest.mark.parametrize(
    ("line", "caption"),
    [
        (
            "Members of the assembly listen to the speech in Moscow. (Kremlin Press Office/Anadolu via Getty Images)",
            True,
        ),
        ("The minister speaks at a news conference in Paris. (Gonzalo Fuentes/Pool via AP)", True),
        ("(Rich Pedroncelli / Associated Press)", True),
        ("The commissioner speaks in Sacramento. (Jason Armond / Los Angeles Times)", True),
        # A place's two names, a party split, a score: not picture credits.
        ("The county combined Bov Parish and Frøslev municipality (Handewitt / Hanved Parish).", False),
        ("The vote was split (Labour/Conservative) along party lines in the north.", False),
        ("The derby ended in a draw after extra time (1/1).", False),
        # An agency's credit with the photographer's name anywhere in the line, link labels after it.
        (
            "The IMF logo is seen outside its headquarters in Washington, U.S., September 4, 2018. "
            "REUTERS/Yuri Gripas/File Photo Purchase Licensing Rights, opens new tab",
            True,
        ),
        # A dateline with two agencies, an agency's name in a poll's, another slash: prose.
        ("Berlin (dpa/AFP) - Die Bundesregierung hat am Montag ein neues Klimagesetz beschlossen.", False),
        ("A Reuters/Ipsos poll found that support for the plan fell to 41 percent in March.", False),
        ("The EPA/Energy Star label will change next year, the agency said on Tuesday.", False),
    ],
)
def test_picture_credits_mark_captions_and_nothing_else(line: str, caption: bool) -> None:
    assert (furniture_reason(line) == "caption") is caption
    # In clean text a caption is the only line that goes.
    text = f"Harbour fire forces night evacuation\n\n{ONE_LINE_ARTICLE[37:400]}\n\n{line}"
    dropped = [reason for _, reason in clean_text(text).dropped]
    assert dropped == (["caption"] if caption else [])


# A flattened news page (head lines at the top, menus, the article, teasers and the site's footer),
# built by hand in the shape of the pages that taught each rule below.
PAGE_HEAD = [
    "Harbour fire forces night evacuation | Coast Times",
    "Harbour fire forces night evacuation",
    "Hundreds of residents left their homes overnight as a warehouse fire spread along the quay.",
    "https://img.coasttimes.example/fire.jpg",
    "2024-03-04T12:45:52Z",
    "2024-03-04T13:10:00Z",
]
MENU = ["World", "Business", "Sport", "Culture", "Weather", "Video", "Podcasts", "Newsletters"]
BLURB = (
    "Coast Times is an independent regional newspaper founded in 1901, reporting on the towns and "
    "harbours of the north coast every day of the year."
)
ARTICLE = [
    "Hundreds of residents left their homes overnight as a warehouse fire spread along the quay.",
    "Fire crews from three towns fought the blaze for six hours before bringing it under control, the "
    "county fire service said on Tuesday morning.",
    "No one was injured, but the harbour master closed the port to shipping until the damaged quay wall "
    "has been inspected by engineers.",
    "Residents were allowed back at dawn, and the council opened the school hall for those whose homes "
    "still smelled of smoke.",
]


def _page(*middle: list[str], tail: list[str] | None = None) -> str:
    lines = [*PAGE_HEAD, *MENU, BLURB, *MENU]
    for part in middle:
        lines += part
    return "\n".join(lines + (tail or []) + ["Privacy Policy", "Cookie Settings"])


def test_a_page_dump_keeps_the_lead_that_is_also_its_description_and_drops_the_site_blurb() -> None:
    # The blurb stands in the menu and again under the article, where it reads like a last
    # paragraph; the lead is the page's description too, and is article text.
    text = _page(["Harbour fire forces night evacuation", "By Ann Lee", "Share"], ARTICLE, tail=[BLURB])
    body = clean_text(text).body.split("\n\n")
    assert body == ARTICLE


def test_a_sign_up_box_inside_the_article_does_not_cut_it_and_its_own_line_goes() -> None:
    box = ["Sign up for our daily newsletter", "Enter your email address", "Subscribe"]
    text = _page(["Harbour fire forces night evacuation"], ARTICLE[:2], box, ARTICLE[2:])
    assert clean_text(text).body.split("\n\n") == ARTICLE
    # One short sentence alone behind the box is the box's own line.
    text = _page(
        ["Harbour fire forces night evacuation"],
        ARTICLE,
        ["Subscribe now to our print edition.", "For the latest news download our app for iOS and Android."],
        ["Leave a comment", "Comment *"],
    )
    assert clean_text(text).body.split("\n\n") == ARTICLE


def test_a_wire_sign_off_ends_the_article() -> None:
    signoff = "Reporting by Ann Lee; Editing by Tom Hart"
    text = _page(["Harbour fire forces night evacuation"], ARTICLE, [signoff], tail=["Read Next", *MENU])
    assert clean_text(text).body.split("\n\n") == [*ARTICLE, signoff]


def test_the_article_under_the_headline_beats_a_prose_widget_elsewhere() -> None:
    # Reader questions under the article, each with a prose answer, outscore a short article in the
    # segmentation; the headline in the page body says where the article is.
    widget = ["Readers ask"]
    for n in range(6):
        widget += [
            f"Why does question number {n} matter?",
            f"Because answer number {n} explains at some length what readers wanted to know about the "
            "council's plans for the harbour, the roads and the schools this year.",
        ]
    text = _page(["Harbour fire forces night evacuation", "By Ann Lee"], ARTICLE, MENU + MENU, widget)
    assert clean_text(text).body.split("\n\n") == ARTICLE
    # Without the headline in the body, the widget wins: the anchor is what decides.
    text = _page(["By Ann Lee"], ARTICLE, MENU + MENU, widget)
    assert clean_text(text).body.split("\n\n") != ARTICLE


def test_the_standfirst_under_the_headline_is_kept_apart_from_the_core() -> None:
    standfirst = "Crews fought the blaze for six hours; the port stays closed until engineers have been."
    text = _page(
        ["Harbour fire forces night evacuation", standfirst, "By Ann Lee", "4 March 2024", "Share", "Print"],
        ARTICLE[1:],
    )
    assert clean_text(text).body.split("\n\n") == [standfirst, *ARTICLE[1:]]


def test_a_page_of_lists_under_its_headline_keeps_its_lines() -> None:
    # No stretch reads like prose (a results list under the headline): nothing bounds an article, so
    # every line without furniture evidence stays.
    results = [f"{n}. Runner Number{n} {10 + n}:0{n}" for n in range(1, 6)]
    text = "\n".join([*PAGE_HEAD, *MENU, "Harbour fire forces night evacuation", *results, "Privacy Policy"])
    assert clean_text(text).body.split("\n\n")[-5:] == results


def test_a_table_flattened_one_cell_a_line_does_not_cut_the_article() -> None:
    # A statistics grid between two parts of the article, one cell a line, weighs like one line.
    grid = [
        "Season",
        "2021",
        "2022",
        "2023",
        "Points",
        "12",
        "15",
        "9",
        "Wins",
        "1",
        "3",
        "0",
        "Rank",
        "7",
        "4",
        "9",
    ]
    text = _page(
        ["Harbour fire forces night evacuation"], ARTICLE[:2], grid, ARTICLE[2:], tail=[*MENU, *MENU]
    )
    body = clean_text(text).body.split("\n\n")
    assert body[:2] == ARTICLE[:2] and body[-2:] == ARTICLE[2:]
    assert {"2021", "15", "9"} <= set(body)  # the numbers of the table stay
