"""Clean text with no page furniture, to measure that the text path keeps it whole.

    python -m benchmarks.quality cleantext [--eval-dir ../shared/eval]

Three families, all plain text as a wire feed delivers it (headline line, then the story):
- wire stories built here in the Reuters style of CoNLL-2003: headline (often in capitals), an
  optional correction notice, a dateline line (`LONDON 1996-12-06`), short paragraphs, league
  tables (`Lazio 3 2 1 0 5 2 7`), cricket scoreboards, ranked results, price lists, one-liners;
- the BBC articles of `../shared/eval/bbc` (title line, paragraphs);
- the wikigold articles of `../shared/eval/ner` (detokenised paragraphs).

The wire stories come from fixed word lists and a seeded generator, so the set is the same on
every machine; nothing in them is copied from a held-out corpus.
"""

from __future__ import annotations

import random
from pathlib import Path

SEED = 20261126
CITIES = [
    "LONDON",
    "ROME",
    "MADRID",
    "PARIS",
    "BONN",
    "TOKYO",
    "SYDNEY",
    "JOHANNESBURG",
    "NEW YORK",
    "MOSCOW",
]
CLUBS = [
    "Lazio", "Roma", "Juventus", "Parma", "Inter", "Fiorentina", "Udinese", "Bologna", "Vicenza",
    "Sampdoria", "Atalanta", "Napoli", "Cagliari", "Perugia", "Piacenza", "Verona",
]  # fmt: skip
PLAYERS = [
    ("M.", "Atherton"), ("A.", "Stewart"), ("N.", "Hussain"), ("G.", "Thorpe"), ("J.", "Crawley"),
    ("R.", "Croft"), ("D.", "Gough"), ("A.", "Mullally"), ("C.", "Silverwood"), ("P.", "Tufnell"),
    ("N.", "Knight"),
]  # fmt: skip
BOWLERS = ["Strang", "Streak", "Whittall", "Olonga", "Flower", "Evans"]
DRIVERS = [
    ("Michael Schumacher", "Germany", "Ferrari"), ("Damon Hill", "Britain", "Williams"),
    ("Jacques Villeneuve", "Canada", "Williams"), ("Jean Alesi", "France", "Benetton"),
    ("Gerhard Berger", "Austria", "Benetton"), ("Mika Hakkinen", "Finland", "McLaren"),
    ("David Coulthard", "Britain", "McLaren"), ("Rubens Barrichello", "Brazil", "Jordan"),
]  # fmt: skip
COMMODITIES = ["Gold", "Silver", "Platinum", "Palladium", "Copper", "Aluminium", "Nickel", "Zinc"]
SUBJECTS = [
    "The central bank", "The finance ministry", "Shares in the company", "The opposition party",
    "Police", "The coach", "Traders", "The government", "Analysts", "The union",
]  # fmt: skip
VERBS = [
    "said on Friday that", "told reporters", "added that", "warned that", "expected that",
    "confirmed that", "denied that", "reported that",
]  # fmt: skip
CLAUSES = [
    "prices would rise in the first quarter", "the talks had broken down", "the side was unchanged",
    "profits fell 12 percent", "the vote would go ahead", "the strike would end next week",
    "demand remained weak", "the injured striker would return", "no decision had been taken",
    "the market had already priced in a cut",
]  # fmt: skip


def _sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(CLAUSES)}."


def _paragraphs(rng: random.Random, n: int) -> list[str]:
    return [" ".join(_sentence(rng) for _ in range(rng.randint(1, 2))) for _ in range(n)]


def _date(rng: random.Random) -> str:
    return f"1996-{rng.randint(8, 12):02d}-{rng.randint(1, 28):02d}"


def _league_table(rng: random.Random) -> list[str]:
    rows = []
    for club in rng.sample(CLUBS, rng.randint(6, 16)):
        w, d, lost = rng.randint(0, 9), rng.randint(0, 5), rng.randint(0, 6)
        rows.append(
            f"{club} {w + d + lost} {w} {d} {lost} {rng.randint(w, 25)} {rng.randint(lost, 20)} {3 * w + d}"
        )
    return rows


def _results(rng: random.Random) -> list[str]:
    clubs = rng.sample(CLUBS, 8)
    return [
        f"{a} {rng.randint(0, 4)} {b} {rng.randint(0, 4)}"
        for a, b in zip(clubs[::2], clubs[1::2], strict=True)
    ]


def _scoreboard(rng: random.Random) -> list[str]:
    rows = [f"{rng.choice(['England', 'Zimbabwe', 'Pakistan'])} first innings"]
    total = 0
    for initial, name in rng.sample(PLAYERS, rng.randint(6, 11)):
        runs = rng.randint(0, 113)
        total += runs
        how = rng.choice(
            [f"c Campbell b {rng.choice(BOWLERS)}", f"b {rng.choice(BOWLERS)}", "not out", "run out",
             f"lbw b {rng.choice(BOWLERS)}"]
        )  # fmt: skip
        rows.append(f"{initial} {name} {how} {runs}")
    extras = rng.randint(2, 20)
    rows.append(f"Extras (lb-{extras - 2} nb-2) {extras}")
    rows.append(f"Total (for {rng.randint(3, 9)} wickets) {total + extras}")
    rows.append("Fall of wickets: " + " ".join(f"{i}-{rng.randint(10, 300)}" for i in range(1, 6)))
    rows.append(
        "Bowling: "
        + ", ".join(
            f"{b} {rng.randint(5, 30)}-{rng.randint(0, 8)}-{rng.randint(20, 90)}-{rng.randint(0, 5)}"
            for b in rng.sample(BOWLERS, 4)
        )
    )
    return rows


def _ranked(rng: random.Random) -> list[str]:
    rows = []
    for rank, (name, country, team) in enumerate(rng.sample(DRIVERS, rng.randint(4, 8)), start=1):
        rows.append(f"{rank}. {name} ({country}) {team} 1:{rng.randint(20, 29)}.{rng.randint(100, 999)}")
    return rows


def _prices(rng: random.Random) -> list[str]:
    return [
        f"{c} {rng.uniform(1, 900):.2f} {rng.uniform(1, 900):.2f}"
        for c in rng.sample(COMMODITIES, rng.randint(3, 8))
    ]


TABLES = {
    "league": _league_table,
    "results": _results,
    "scoreboard": _scoreboard,
    "ranked": _ranked,
    "prices": _prices,
}


def wire_story(rng: random.Random, n: int) -> str:
    """Return one Reuters-style story: headline, dateline, paragraphs and perhaps a table."""
    kind = rng.choice([*TABLES, "prose", "oneliner"])
    city = rng.choice(CITIES)
    topic = {"league": "SOCCER", "results": "SOCCER", "scoreboard": "CRICKET", "ranked": "MOTOR RACING"}
    head = f"{topic.get(kind, 'MARKETS')} - {rng.choice(CLUBS).upper()} {rng.choice(['WIN', 'LOSE', 'DRAW', 'RISE', 'FALL'])} {n}"
    if rng.random() < 0.4:
        head = head.title()
    lines = [head]
    if rng.random() < 0.15:
        lines.append(f"[ CORRECTED {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} GMT ]")
    lines.append(f"{city} {_date(rng)}")
    if kind == "oneliner":
        lines.append(_sentence(rng))
        return "\n".join(lines)
    lines.extend(_paragraphs(rng, rng.randint(1, 3)))
    if kind in TABLES:
        if rng.random() < 0.5:
            lines.append(
                rng.choice(
                    ["Standings after games played on Sunday:", "Results:", "Leading positions:", "Scores:"]
                )
            )
        lines.extend(TABLES[kind](rng))
        if rng.random() < 0.5:
            lines.extend(_paragraphs(rng, 1))
    else:
        lines.extend(_paragraphs(rng, rng.randint(2, 5)))
    return "\n".join(lines)


def wire_stories(count: int = 240, seed: int = SEED) -> list[tuple[str, str]]:
    """Return `count` (id, text) wire stories, the same on every machine."""
    rng = random.Random(seed)
    return [(f"wire-{i:03d}", wire_story(rng, i)) for i in range(count)]


def bbc_texts(eval_dir: Path) -> list[tuple[str, str]]:
    """Return the BBC articles as delivered: title line, then the paragraphs."""
    out = []
    for path in sorted((eval_dir / "bbc").glob("*/*.txt")):
        text = path.read_bytes().decode("utf-8", "replace").strip()
        out.append((f"bbc-{path.parent.name}/{path.stem}", text))
    return out


def wikigold_texts(eval_dir: Path) -> list[tuple[str, str]]:
    """Return the wikigold articles as plain paragraphs."""
    from benchmarks.ner import read_conll

    return [(a.id, a.text) for a in read_conll(eval_dir / "ner" / "wikigold.conll.txt")]


def clean_set(eval_dir: Path) -> list[tuple[str, str]]:
    """Return the whole clean set: wire stories, BBC, wikigold."""
    return wire_stories() + bbc_texts(eval_dir) + wikigold_texts(eval_dir)


FURNITURE = [
    "- Advertisement -",
    "Subscribe to our newsletter",
    "Read more: Markets close higher on bank shares",
    "Share this article",
    "This website uses cookies. By continuing to use this site, you accept our use of cookies.",
    "Copyright 1996 Wire Services. All rights reserved.",
]


def with_furniture(stories: list[tuple[str, str]], seed: int = SEED) -> list[tuple[str, str, str]]:
    """Return (id, text with 2-3 furniture lines put in at random places, the story alone): a clean
    story in a feed that adds sign-up and advertisement lines. The text cleaner must drop those and
    nothing else."""
    rng = random.Random(seed + 1)
    out = []
    for name, text in stories:
        lines = text.split("\n")
        for extra in rng.sample(FURNITURE, rng.randint(2, 3)):
            lines.insert(rng.randint(1, len(lines)), extra)
        out.append((name + "+furniture", "\n".join(lines), text))
    return out
