"""Shared passages end to end, as a user gets them: two `newsdex run`s, the first indexing an article,
the second one from another site that quotes a paragraph of it (lightly edited) and one from the first
site that repeats the site's standing line; then `export`, `search --json` and the facet, on the
embedded index and on Elasticsearch (osmem-server, or NEWSDEX_TEST_ES_URL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli import both_backends, newsdex, run_partitions, write_jsonl

pytestmark = pytest.mark.slow

BACKENDS = ("embedded", "elasticsearch")

STANDING = (
    "Get our morning briefing with the main stories of the day delivered to your inbox before breakfast."
)
QUOTED = (
    "The harbour authority said the new container terminal would handle twice the cargo of the old "
    "quay and create about 300 jobs by the end of the decade."
)
ORIGINAL = {
    "url": "https://portnews.example/2024/03/04/terminal",
    "text": (
        "Harbour approves container terminal\n\n"
        "The city council of Kestrel Bay approved the plans for a container terminal on Monday after a "
        "debate that lasted most of the afternoon.\n\n"
        f"{QUOTED}\n\n{STANDING}\n\n"
        "Work on the site is to begin in the autumn, once the dredging contract has been signed."
    ),
}
QUOTING = {
    "url": "https://valleyherald.example/2024/03/06/terminal-jobs",
    "text": (
        "Terminal jobs welcomed in the valley\n\n"
        "Employers in the valley towns welcomed the news from the coast this week, where a long "
        "awaited decision was finally taken.\n\n"
        # Lightly edited: case, punctuation, one word.
        + QUOTED.replace("The harbour authority said", "the harbour authority said")
        .replace(",", "")
        .replace("about 300", "some 300")
        + "\n\nUnions asked for the jobs to go to local workers first, and the council agreed to talk."
    ),
}
SAME_SITE = {
    "url": "https://portnews.example/2024/03/05/ferry",
    "text": (
        "Ferry timetable changes for the summer\n\n"
        "The island ferry will run every forty minutes from June, the operator announced, with an extra "
        "late boat on Fridays and Saturdays during the school holidays.\n\n"
        f"{STANDING}"
    ),
}
UNRELATED = {
    "url": "https://valleyherald.example/2024/03/06/choir",
    "text": (
        "Choir wins regional prize\n\n"
        "The youth choir of Alder Green won the regional competition on Saturday with a programme of "
        "folk songs arranged by its conductor, who founded the choir twenty years ago.\n\n"
        # A short common phrase (under 12 words) is not a shared passage.
        "The conductor said the choir would handle twice the cargo of songs next year."
    ),
}


@pytest.fixture(scope="module")
def indexes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("passages")
    first = write_jsonl(tmp / "first.jsonl", [ORIGINAL])
    later = write_jsonl(tmp / "later.jsonl", [QUOTING, SAME_SITE, UNRELATED])
    with both_backends(request, tmp, [[first], [later]]) as backends:
        yield backends | {"inputs": (first, later)}


def _cli(indexes: dict[str, Any], backend: str, *args: str) -> Any:
    cwd, base, env = indexes[backend]
    result = newsdex(*base, *args, cwd=cwd, env=env)
    assert result.returncode == 0, (backend, result.stderr)
    return result.stdout


def _docs(indexes: dict[str, Any], backend: str) -> dict[str, dict[str, Any]]:
    out = _cli(indexes, backend, "export", "--output-jsonl", "-")
    return {d["url"]: d for d in map(json.loads, out.splitlines())}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_later_quote_links_both_documents(indexes: dict[str, Any], backend: str) -> None:
    docs = _docs(indexes, backend)
    original, quoting = docs[ORIGINAL["url"]], docs[QUOTING["url"]]
    # The earlier document, indexed by the first run, got the link the second run found.
    assert original["shared_passages"] == [{"text": QUOTED, "documents": [quoting["id"]]}]
    assert len(quoting["shared_passages"]) == 1
    assert quoting["shared_passages"][0]["documents"] == [original["id"]]
    assert "some 300 jobs" in quoting["shared_passages"][0]["text"]
    assert original["passage_links"] == quoting["passage_links"] == 1
    # The site's own standing line and a short common phrase are no links.
    for url in (SAME_SITE["url"], UNRELATED["url"]):
        assert docs[url]["shared_passages"] == [] and docs[url]["passage_links"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_search_shows_the_links_and_counts_them_in_a_facet(indexes: dict[str, Any], backend: str) -> None:
    result = json.loads(_cli(indexes, backend, "search", "terminal", "--json"))
    links = {h["url"]: h["passage_links"] for h in result["hits"]}
    assert links[ORIGINAL["url"]] == links[QUOTING["url"]] == 1
    shared = {h["url"]: h["shared_passages"] for h in result["hits"]}
    assert [e["text"] for e in shared[ORIGINAL["url"]]] == [QUOTED]
    every = json.loads(_cli(indexes, backend, "search", "--json"))
    assert every["facets"]["shared_passages"] == [["1", 2]]
    table = _cli(indexes, backend, "search", "terminal")
    assert table.count("shares passages with 1 other document(s)") == 2


def test_running_the_same_input_again_changes_nothing(indexes: dict[str, Any]) -> None:
    for backend in BACKENDS:
        before = _docs(indexes, backend)
        cwd, base, env = indexes[backend]
        for inbox in indexes["inputs"]:
            result = newsdex(*base, "run", "--quiet", "--force", str(inbox), cwd=cwd, env=env)
            assert result.returncode == 0, result.stderr
        after = _docs(indexes, backend)
        assert {u: d["shared_passages"] for u, d in after.items()} == {
            u: d["shared_passages"] for u, d in before.items()
        }


def test_two_partitions_running_at_once_end_with_the_links_of_one_run(tmp_path: Path) -> None:
    records = [ORIGINAL, QUOTING, SAME_SITE, UNRELATED]
    corpus = write_jsonl(tmp_path / "all.jsonl", records)
    single = newsdex("--data-dir", str(tmp_path / "one"), "run", "--quiet", str(corpus), cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    # Each run its own Prefect home, as two workers on two machines would have.
    run_partitions(tmp_path / "two", corpus, tmp_path, "--workers", "1", "--batch-size", "1")
    exports = []
    for name in ("one", "two"):
        result = newsdex("--data-dir", str(tmp_path / name), "export", "--output-jsonl", "-", cwd=tmp_path)
        exports.append({d["url"]: d for d in map(json.loads, result.stdout.splitlines())})
    assert len(exports[1]) == len(records)
    ids = [{d["id"]: url for url, d in export.items()} for export in exports]

    def links(n: int) -> dict[str, list[tuple[str, list[str]]]]:
        return {
            url: [(e["text"], sorted(ids[n][i] for i in e["documents"])) for e in d["shared_passages"]]
            for url, d in exports[n].items()
        }

    assert links(0) == links(1)
    assert links(1)[ORIGINAL["url"]] == [(QUOTED, [QUOTING["url"]])]
