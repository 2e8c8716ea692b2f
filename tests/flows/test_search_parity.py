"""One search, two backends: the same `newsdex search` cases through the real command line against the
embedded index and Elasticsearch (osmem-server, or NEWSDEX_TEST_ES_URL), built by `newsdex run` from
the same inputs; both must give the same hits and the same facets, and what each case expects.

The inputs: the five samples and a hand-made set unlike them (a storm in a Brazilian port, told by
three sites and a copy, one in Spanish; a football report), with accents, a possessive, a hyphenated
word, words in other forms, dates in three months and five source domains.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from newsdex.connectors.hits import FACETS, parse_query
from tests.cli import both_backends, newsdex, one_line_error
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow

BACKENDS = ("embedded", "elasticsearch")

STORM = (
    "Storm floods Santos harbour as café owners count the cost\n\n"
    "A violent storm flooded the harbour of Santos on Tuesday night, forcing café owners along the "
    "sea-wall to close their doors while fishermen tried to save their boats. The mayor's office said "
    "the new sea-wall had held in most places and that nobody had been hurt.\n\n"
    "Engineers from Zürich who designed the barrier said the storms of recent years had been far "
    "stronger than any forecast made when the wall was planned, and that the city would need to raise "
    "it again before the next rainy season.\n\n"
    "Mayor Rogério Santos Silva promised compensation for the businesses that lost stock, but said the "
    "money would not arrive before the end of the month."
)
RECORDS = [
    {"url": "https://coastwatch.example/2023/03/14/storm-floods-santos", "text": STORM},
    {
        "url": "https://portdaily.example/2023/03/16/harbour-reopens",
        "text": (
            "Santos harbour reopens after the storm\n\n"
            "The harbour of Santos reopened on Thursday after two days of repairs, the port authority "
            "said. Cafe owners on the waterfront said trade was slow but that customers had started to "
            "come back.\n\n"
            "The engineers from Zurich who built the sea wall inspected it on Wednesday and found only "
            "minor damage. A spokesman for the port authority, Helena Costa, said ships were queueing "
            "outside the harbour and that the backlog would be cleared by the weekend."
        ),
    },
    {
        "url": "https://sportsdesk.example/2023/04/02/derby-draw",
        "text": (
            "Late goal earns a draw in the city derby\n\n"
            "A goal in the last minute of added time gave the visitors a draw in the city derby on "
            "Sunday, and the home fans left the stadium unsure whether to celebrate or not. The coach, "
            "Marta Oliveira, said her players had not deserved to lose and that the referee had made "
            "the right call.\n\n"
            "The result leaves both clubs in the middle of the table with six matches left to play, "
            "and neither side can now reach the places that lead to the continental cup."
        ),
    },
    # The storm story on another site: the same body under another headline (a copy).
    {
        "url": "https://mirror-news.example/2023/03/15/santos-storm",
        "text": "Santos counts the cost of the storm\n\n" + STORM.split("\n\n", 1)[1],
    },
    {
        "url": "https://diario.example/2023/03/17/tormenta-santos",
        "text": (
            "La tormenta deja daños en el puerto de Santos\n\n"
            "Una fuerte tormenta inundó el puerto de Santos el martes por la noche y obligó a cerrar "
            "los cafés del paseo marítimo. Los pescadores intentaron salvar sus barcos mientras el agua "
            "subía por las calles del centro.\n\n"
            "Los ingenieros que diseñaron el muro dijeron que las tormentas de los últimos años han sido "
            "mucho más fuertes de lo previsto y que la ciudad tendrá que reforzarlo antes de la próxima "
            "temporada de lluvias."
        ),
    },
]
CANONICALS = 9  # five samples, four hand-made stories (the fifth record is a copy)


@pytest.fixture(scope="module")
def indexes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Both backends indexed from the same inputs by `newsdex run`; per backend: (cwd, args, env)."""
    tmp = tmp_path_factory.mktemp("parity")
    corpus = tmp / "stories.jsonl"
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\n", encoding="utf-8")
    with both_backends(request, tmp, [[SAMPLES, corpus]]) as backends:
        yield backends


def _search(indexes: dict[str, Any], backend: str, *args: str, json_out: bool = True) -> Any:
    cwd, base, env = indexes[backend]
    result = newsdex(*base, "search", *(["--json"] if json_out else []), *args, cwd=cwd, env=env)
    assert result.returncode == 0 and not result.stderr, (backend, result.stderr)
    return json.loads(result.stdout) if json_out else result.stdout


# (arguments, expected total). Cases with words are ranked: their hits are compared as sets (the two
# engines' scores differ); the others are ordered by publication date, newest first, on both.
CASES: list[tuple[list[str], int]] = [
    (["Ryabkov"], 4),
    # Operators: OR in capitals, exclusion, NOT; lower-case and/or/not and NEAR are words.
    (["Khrushchev OR Peskov"], 3),
    (["Khrushchev or Peskov"], 0),
    (["and or not"], 3),
    (["NEAR(Ryabkov Cuba)"], 1),
    (["Ryabkov -Peskov"], 2),
    (["Ryabkov NOT Peskov"], 2),
    (["NOT Ryabkov"], CANONICALS - 4),
    (["storm OR derby -Zurich"], 1),
    # Phrases, and a word with punctuation inside matched as a phrase of its parts.
    (['"Operation Anadyr"'], 1),
    (['"Anadyr Operation"'], 0),
    (["sea-wall"], 2),
    # Word forms, case, accents and possessives.
    (["missile"], 4),
    (["MISSILES"], 4),
    (["cafe"], 3),
    (["Zürich"], 2),
    (["zurich harbour"], 2),
    (["mayor's"], 1),
    # Copies.
    (["storm"], 2),
    (["storm", "--include-duplicates"], 3),
    # Facet filters match case-insensitively.
    (["--person", "dmitry peskov"], 2),
    (["--person", "SERGEI RYABKOV", "--org", "nato"], 4),
    (["--person", "rogério santos silva", "--include-duplicates"], 2),
    (["harbour", "--source", "COASTWATCH.example"], 1),
    (["--lang", "ES"], 1),
    (["Putin", "--lang", "es"], 0),
    # Publication days, months and years.
    (["--from", "2023-03", "--to", "2023-03"], 3),
    (["--from", "2023-03-15", "--include-duplicates"], 4),
    (["--to", "2022"], 1),
    (["Blinken", "--from", "2022-01-01", "--to", "2022-01-31"], 1),
    ([], CANONICALS),
    (["storm", "--limit", "0"], 2),
]


@pytest.mark.parametrize(("args", "total"), CASES, ids=[" ".join(a) or "(everything)" for a, _ in CASES])
def test_same_search_on_both_backends(indexes: dict[str, Any], args: list[str], total: int) -> None:
    every = [] if "--limit" in args else ["--limit", "50"]
    embedded, elastic = (_search(indexes, backend, *args, *every) for backend in BACKENDS)
    for result in (embedded, elastic):
        assert result["total"] == total
        assert list(result["facets"]) == list(FACETS)
        assert [h["rank"] for h in result["hits"]] == list(range(1, len(result["hits"]) + 1))
    assert embedded["facets"] == elastic["facets"]
    ranked = bool(args) and not args[0].startswith("--") and bool(parse_query(args[0]).groups)
    ids = [[h["id"] for h in r["hits"]] for r in (embedded, elastic)]
    if ranked:
        assert sorted(ids[0]) == sorted(ids[1])
        for result in (embedded, elastic):
            scores = [h["score"] for h in result["hits"]]
            assert not scores or (scores[0] == 1.0 and all(0 < s <= 1 for s in scores))
    else:
        assert ids[0] == ids[1]
        assert all(h["score"] is None for r in (embedded, elastic) for h in r["hits"])


def test_facets_come_in_the_same_order_in_text_output(indexes: dict[str, Any]) -> None:
    names = "|".join(FACETS)
    facet_line = re.compile(rf"^\s*({names}): (.*)$", re.M)
    texts = [_search(indexes, backend, "storm OR Ryabkov", json_out=False) for backend in BACKENDS]
    facets = [facet_line.findall(text) for text in texts]
    # These documents share no passage: that facet is empty, and an empty facet is not printed.
    assert [name for name, _ in facets[0]] == [f for f in FACETS if f != "shared_passages"]
    assert facets[0] == facets[1]
    # Relative scores, the best hit at 100%, instead of engine-specific numbers.
    for text in texts:
        assert re.search(r"^\s+1\. 100%  ", text, re.M), text


BAD_ARGUMENTS = [
    (["--from", "2022-13-45"], "--from"),
    (["--from", "yesterday"], "--from"),
    (["--from", "2022-01-19T00:00:00Z"], "--from"),
    (["--to", "2022-02-30"], "--to"),
    (["--from", "2022-02", "--to", "2022-01"], "after --to"),
    (["--limit", "-1"], "--limit"),
    (["--limit", "10001"], "--limit"),
    (["--limit", "ten"], "--limit"),
    (["--lang", "english"], "--lang"),
    (["--person", ""], "--person"),
]


@pytest.mark.parametrize(("args", "word"), BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_bad_search_arguments_are_the_same_usage_error_on_both_backends(
    indexes: dict[str, Any], args: list[str], word: str
) -> None:
    lines = []
    for backend in BACKENDS:
        cwd, base, env = indexes[backend]
        result = newsdex(*base, "search", "Ryabkov", *args, cwd=cwd, env=env)
        lines.append(one_line_error(result, 2, word))
        assert not result.stdout
    assert lines[0] == lines[1]
