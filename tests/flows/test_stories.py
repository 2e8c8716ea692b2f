"""Stories end to end, as a user gets them: `newsdex run` on hand-made reports of one event (three
outlets, a copy, a later report in another run) and two unrelated reports, then `related`, `stories`,
`search --by-story` and `search --story` through the real command line, on the embedded index and
on Elasticsearch (osmem-server, or NEWSDEX_TEST_ES_URL): the same stories and answers on both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli import both_backends, newsdex, one_line_error, run_partitions, write_jsonl
from tests.flows.stories_corpus import COPY, FLOOD, LATER, OTHERS, SEEN_BEFORE, UNDATED

pytestmark = pytest.mark.slow

BACKENDS = ("embedded", "elasticsearch")


@pytest.fixture(scope="module")
def indexes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Both backends built by two runs (the first reports, then the later one); per backend (cwd, args, env)."""
    tmp = tmp_path_factory.mktemp("stories")
    first = write_jsonl(tmp / "first.jsonl", [*FLOOD, COPY, *OTHERS])
    later = write_jsonl(tmp / "later.jsonl", [LATER, UNDATED, SEEN_BEFORE])
    with both_backends(request, tmp, [[first], [later]]) as backends:
        yield backends | {"inputs": (first, later)}


def _cli(indexes: dict[str, Any], backend: str, *args: str) -> Any:
    cwd, base, env = indexes[backend]
    result = newsdex(*base, *args, cwd=cwd, env=env)
    quiet = args[0] != "export"  # export says how many it wrote on stderr
    assert result.returncode == 0 and (not quiet or not result.stderr), (backend, result.stderr)
    return json.loads(result.stdout) if "--json" in args else result.stdout


def _docs(indexes: dict[str, Any], backend: str) -> dict[str, dict[str, Any]]:
    out = _cli(indexes, backend, "export", "--output-jsonl", "-")
    return {d["url"]: d for d in map(json.loads, out.splitlines())}


@pytest.mark.parametrize("backend", BACKENDS)
def test_reports_of_one_event_share_a_story_and_others_do_not(indexes: dict[str, Any], backend: str) -> None:
    docs = _docs(indexes, backend)
    # The copy, the later run's report and the undated one (seen years after the event) joined too.
    flood = {docs[r["url"]]["story_id"] for r in [*FLOOD, COPY, LATER, UNDATED]}
    assert len(flood) == 1, flood
    (story,) = flood
    assert docs[UNDATED["url"]]["published_at"] is None
    # Undated too, but seen a year before the breach: it cannot report it, however alike its words.
    before = docs[SEEN_BEFORE["url"]]
    assert before["published_at"] is None and before["sort_date"].startswith("2023-04-02")
    others = [docs[r["url"]]["story_id"] for r in [*OTHERS, SEEN_BEFORE]]
    assert story not in others and len(set(others)) == 3
    assert docs[COPY["url"]]["duplicate_of"] == docs[FLOOD[0]["url"]]["id"]  # a copy, not a report
    for r in [*FLOOD[1:], LATER, UNDATED, SEEN_BEFORE]:
        assert docs[r["url"]]["duplicate_of"] is None  # other reports of the event are no copies


def test_both_backends_end_with_the_same_stories(indexes: dict[str, Any]) -> None:
    embedded, elastic = (_docs(indexes, b) for b in BACKENDS)
    assert {u: d["story_id"] for u, d in embedded.items()} == {u: d["story_id"] for u, d in elastic.items()}


def test_running_the_same_input_again_changes_nothing(indexes: dict[str, Any]) -> None:
    for backend in BACKENDS:
        before = _docs(indexes, backend)
        cwd, base, env = indexes[backend]
        for inbox in indexes["inputs"]:
            result = newsdex(*base, "run", "--quiet", str(inbox), cwd=cwd, env=env)
            assert result.returncode == 0, result.stderr
        after = _docs(indexes, backend)
        assert {u: d["story_id"] for u, d in after.items()} == {u: d["story_id"] for u, d in before.items()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_related_lists_the_other_reports_first_with_a_score_and_why(
    indexes: dict[str, Any], backend: str
) -> None:
    docs = _docs(indexes, backend)
    first = docs[FLOOD[0]["url"]]
    out = _cli(indexes, backend, "related", first["id"], "--limit", "5", "--json")
    assert out["id"] == first["id"] and out["related"]
    ids = [r["id"] for r in out["related"]]
    assert first["id"] not in ids and docs[COPY["url"]]["id"] not in ids  # not itself, not its copy
    reports = {docs[r["url"]]["id"] for r in [*FLOOD[1:], LATER, UNDATED]}
    assert reports <= set(ids)
    # `related` is not bound by dates: the warning seen before the event is related, in its own story.
    warning = next(r for r in out["related"] if r["id"] == docs[SEEN_BEFORE["url"]]["id"])
    assert warning["story_id"] != first["story_id"]
    scores = [r["score"] for r in out["related"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    best = out["related"][0]
    assert best["story_id"] == first["story_id"]
    assert set(best["why"]) == {"shared_entities", "shared_terms", "days_apart"}
    other = next(d for d in docs.values() if d["id"] == best["id"])
    shared = set(best["why"]["shared_terms"])
    assert shared and shared <= set(first["story_terms"]) & set(other["story_terms"])
    assert "Claudia Alfons" in best["why"]["shared_entities"]["person"]
    assert not any(t.startswith("@") for t in best["why"]["shared_terms"])  # names listed as entities
    by_id = {r["id"]: r for r in out["related"]}
    assert by_id[docs[LATER["url"]]["id"]]["why"]["days_apart"] == 2  # both dated: days apart
    assert by_id[docs[UNDATED["url"]]["id"]]["why"]["days_apart"] is None  # one undated: unknown
    for other in out["related"]:
        if other["id"] in {docs[r["url"]]["id"] for r in OTHERS}:
            assert other["score"] < best["score"] / 2
    text = _cli(indexes, backend, "related", first["id"], "--limit", "2")
    assert "[same story]" in text and "Argen" in text


def test_related_answers_the_same_on_both_backends(indexes: dict[str, Any]) -> None:
    first = _docs(indexes, "embedded")[FLOOD[1]["url"]]["id"]
    answers = [_cli(indexes, b, "related", first, "--json") for b in BACKENDS]
    assert [(r["id"], r["score"]) for r in answers[0]["related"]] == [
        (r["id"], r["score"]) for r in answers[1]["related"]
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_stories_lists_the_largest_stories_of_a_period(indexes: dict[str, Any], backend: str) -> None:
    docs = _docs(indexes, backend)
    out = _cli(indexes, backend, "stories", "--json")["stories"]
    top = out[0]
    assert top["story_id"] == docs[FLOOD[0]["url"]]["story_id"]
    # Three reports, the copy, the later one, the undated one; five outlets (the later one is from
    # the first's); last seen when the undated one was (this run).
    assert top["documents"] == 6 and len(top["outlets"]) == 5
    assert top["first_seen"][:10] == "2024-05-06" and top["last_seen"][:4] >= "2025"
    assert any("Claudia Alfons" in e for e in top["top_entities"])
    assert len(out) == 4
    # The derby was played on the 5th, the warning seen in 2023: a period from the 7th to the end of
    # 2024 leaves them out, keeps the flood.
    later = _cli(indexes, backend, "stories", "--from", "2024-05-07", "--to", "2024-12-31", "--json")
    assert [s["story_id"] for s in later["stories"]] == [top["story_id"]]
    assert _cli(indexes, backend, "stories", "--to", "2024-05-05", "--json")["stories"][0]["documents"] == 1
    assert "6 document(s), 5 outlet(s), 2024-05-06 .. " in _cli(indexes, backend, "stories")


@pytest.mark.parametrize("backend", BACKENDS)
def test_search_by_story_shows_one_hit_per_story(indexes: dict[str, Any], backend: str) -> None:
    docs = _docs(indexes, backend)
    out = _cli(indexes, backend, "search", "Lindau OR derby", "--by-story", "--json")
    stories = [h["story_id"] for h in out["hits"]]
    assert len(stories) == len(set(stories)) == 3  # the flood, the derby, the warning before the flood
    assert out["stories"] == 3  # Elasticsearch: collapsed and counted by the server
    flood = next(h for h in out["hits"] if h["story_id"] == docs[FLOOD[0]["url"]]["story_id"])
    assert flood["story"]["documents"] == 6 and flood["story"]["outlets"] == 5
    assert {o["source"] for o in flood["story"]["others"]} >= {"dailyalpine.example", "bodensee-post.example"}
    one = _cli(indexes, backend, "search", "--story", flood["story_id"], "--include-duplicates", "--json")
    assert one["total"] == 6 and {h["story_id"] for h in one["hits"]} == {flood["story_id"]}
    assert _cli(indexes, backend, "search", "derby", "--story", flood["story_id"], "--json")["total"] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_story_commands_say_what_is_wrong_in_one_line(indexes: dict[str, Any], backend: str) -> None:
    cwd, base, env = indexes[backend]
    one_line_error(newsdex(*base, "related", "no-such-id", cwd=cwd, env=env), 2, "no-such-id")
    one_line_error(newsdex(*base, "stories", "--from", "2024-13", cwd=cwd, env=env), 2, "--from")
    result = newsdex(*base, "stories", "--limit", "0", cwd=cwd, env=env)
    assert result.returncode == 2 and "--limit" in result.stderr


def _groups(docs: list[dict[str, Any]]) -> set[frozenset[str]]:
    by_story: dict[str, set[str]] = {}
    for doc in docs:
        by_story.setdefault(doc["story_id"], set()).add(doc["url"])
    return {frozenset(urls) for urls in by_story.values()}


def test_two_partitions_running_at_once_end_with_the_stories_of_one_run(tmp_path: Path) -> None:
    records = [*FLOOD, COPY, *OTHERS, LATER, UNDATED, SEEN_BEFORE]
    corpus = write_jsonl(tmp_path / "all.jsonl", records)
    single = newsdex("--data-dir", str(tmp_path / "one"), "run", "--quiet", str(corpus), cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    # Each run its own Prefect home, as two workers on two machines would have.
    run_partitions(tmp_path / "two", corpus, tmp_path, "--workers", "1")
    exports = []
    for name in ("one", "two"):
        result = newsdex("--data-dir", str(tmp_path / name), "export", "--output-jsonl", "-", cwd=tmp_path)
        exports.append([json.loads(line) for line in result.stdout.splitlines()])
    assert len(exports[1]) == len(records)
    assert _groups(exports[0]) == _groups(exports[1])
    assert len(_groups(exports[1])) == 4
    # Whatever id the partitions' story ended with, every id either of them gave resolves to it.
    cwd = tmp_path
    for doc in exports[1]:
        out = newsdex(
            "--data-dir", str(tmp_path / "two"), "search", "--story", doc["story_id"], "--json", cwd=cwd
        )
        assert json.loads(out.stdout)["total"] >= 1


def test_a_merged_story_id_still_resolves(tmp_path: Path) -> None:
    from newsdex.connectors.embedded import EmbeddedIndex
    from newsdex.transforms.record import Document

    docs = [
        Document(
            input={"path": "x"}, id=f"d{i}", title=r["text"].split("\n")[0], body=r["text"], url=r["url"]
        )
        for i, r in enumerate(FLOOD[:2])
    ]
    docs[0].story_id, docs[1].story_id = "s-a", "s-b"
    index = EmbeddedIndex(tmp_path / "data")
    try:
        index.write(docs)
        index.merge_stories({"s-b": "s-a"}, "2024-05-07T00:00:00Z")
    finally:
        index.close()
    base = ["--data-dir", str(tmp_path / "data")]
    out = json.loads(newsdex(*base, "search", "--story", "s-b", "--json", cwd=tmp_path).stdout)
    assert out["total"] == 2 and {h["story_id"] for h in out["hits"]} == {"s-a"}
    related = json.loads(newsdex(*base, "related", "d1", "--json", cwd=tmp_path).stdout)
    assert related["story_id"] == "s-a"
