"""The Elasticsearch sink against a real server process speaking the Elasticsearch REST API.

By default an osmem-server (in-memory, OpenSearch-compatible) clone per test; with
NEWSDEX_TEST_ES_URL set, the same tests run against that cluster (each under its own index prefix,
deleted afterwards).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsdex.connectors.elastic import ConfigError, ElasticIndex, client_from_env, load_template
from newsdex.flows.cli import EXIT_OK, EXIT_REJECTIONS, main
from newsdex.transforms.record import Document
from tests.conftest import SAMPLES, finished_batches
from tests.races import check_one_canonical, document, racing_runs, reconcile

NODE_CLASS = "tests.esnode:JsonNode"
REAL_CLUSTER = os.environ.get("NEWSDEX_TEST_ES_URL")


@pytest.fixture
def es_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Point NEWSDEX_ES_* at a fresh, empty server for this test; return url and prefix."""
    prefix = f"newsdex-t{uuid.uuid4().hex[:8]}"
    if REAL_CLUSTER:
        url = REAL_CLUSTER
    else:
        monkeypatch.setenv("NEWSDEX_ES_NODE_CLASS", NODE_CLASS)
        url = request.getfixturevalue("osmem_clone").url
    monkeypatch.setenv("NEWSDEX_ES_INDEX", prefix)
    yield {"url": url, "prefix": prefix}
    if REAL_CLUSTER:
        client = client_from_env(url)
        client.indices.delete(index=f"{prefix}-v*", ignore_unavailable=True)
        client.indices.delete_index_template(name=prefix, ignore=[404])


def _index(env: dict[str, str]) -> ElasticIndex:
    index = ElasticIndex(client_from_env(env["url"]), env["prefix"])
    index.setup()
    return index


def _cli(env: dict[str, str], data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "--es-url", env["url"], *args])


def _search(
    env: dict[str, str], data_dir: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> dict[str, Any]:
    capsys.readouterr()
    assert _cli(env, data_dir, "search", "--json", *args) == EXIT_OK
    return json.loads(capsys.readouterr().out)


def test_setup_is_idempotent_and_puts_aliases(es_env: dict[str, str]) -> None:
    index = _index(es_env)
    assert index.setup() == f"{es_env['prefix']}-v1"
    assert index.current_index() == f"{es_env['prefix']}-v1"
    template = index.es.indices.get_index_template(name=es_env["prefix"])["index_templates"][0][
        "index_template"
    ]
    assert template["template"]["mappings"]["dynamic"] == "strict"
    assert set(template["template"]["mappings"]["properties"]) == set(
        load_template()["template"]["mappings"]["properties"]
    )


def test_samples_run_and_search_parity_with_embedded(
    es_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    es_dir, local_dir = tmp_path / "es", tmp_path / "local"
    assert (
        _cli(es_env, es_dir, "run", "--quiet", str(SAMPLES), "--report", str(tmp_path / "r.json")) == EXIT_OK
    )
    report = json.loads((tmp_path / "r.json").read_text())
    assert (
        report["backend"] == "elasticsearch"
        and report["outcomes"]["indexed_new"] == 5
        and report["reconciles"]
    )
    assert main(["--data-dir", str(local_dir), "run", "--quiet", str(SAMPLES)]) == EXIT_OK
    for query in (
        ["Ryabkov"],
        ['"Operation Anadyr"'],
        ["missiles", "--source", "sputniknews.com"],
        ["--person", "Dmitry Peskov"],
        ["Blinken", "--from", "2022-01-01", "--to", "2022-01-31"],
    ):
        remote = _search(es_env, es_dir, capsys, *query)
        capsys.readouterr()
        assert main(["--data-dir", str(local_dir), "search", "--json", *query]) == EXIT_OK
        local = json.loads(capsys.readouterr().out)
        assert remote["total"] == local["total"], query
        assert {h["id"] for h in remote["hits"]} == {h["id"] for h in local["hits"]}, query
    facets = _search(es_env, es_dir, capsys, "Ryabkov")["facets"]
    assert dict(facets["person"])["Sergei Ryabkov"] == 4
    assert dict(facets["language"]) == {"en": 4}
    # A second run changes nothing.
    assert (
        _cli(es_env, es_dir, "run", "--quiet", str(SAMPLES), "--report", str(tmp_path / "r2.json")) == EXIT_OK
    )
    assert json.loads((tmp_path / "r2.json").read_text())["outcomes"]["already_done"] == 5
    assert _search(es_env, es_dir, capsys, "--include-duplicates")["total"] == 5


def test_bad_document_is_rejected_with_the_servers_reason(es_env: dict[str, str]) -> None:
    index = _index(es_env)
    good = Document(input={"path": "a"}, id="good", body="Some text.", published_at="2022-01-19")
    bad = Document(input={"path": "b"}, id="bad", body="Other text.", published_at="not a date")
    result = index.write([good, bad])
    assert result["indexed"] == 1
    [rejection] = result["rejected"]
    assert rejection.input == {"path": "b"} and rejection.stage == "index"
    assert "400" in rejection.detail


def test_copies_are_counted_and_hidden(
    es_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = (SAMPLES / "000_46639030fa0cfdb9.txt").read_text()
    body = original.split("\n\n", 1)[1]
    rows = [
        {"url": "https://first.example/story", "text": original, "fetched_at": "2022-01-14T10:00:00Z"},
        {"url": "https://second.example/copy", "text": "Another headline\n\n" + body},
        {"url": "https://third.example/same", "text": original},
    ]
    path = tmp_path / "copies.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    # One document per batch: dedup must see the earlier batches' writes before any refresh, and
    # each copy's original is still being written in the background when the copy is deduplicated.
    report = tmp_path / "report.json"
    assert (
        _cli(
            es_env, tmp_path / "d", "run", "--quiet", "--batch-size", "1", "--report", str(report), str(path)
        )
        == EXIT_OK
    )
    written = json.loads(report.read_text())
    assert written["outcomes"]["indexed_new"] == 3 and written["reconciles"]
    assert written["background_seconds_by_stage"]["index"] > 0
    assert _search(es_env, tmp_path / "d", capsys, "Ryabkov")["total"] == 1
    everything = _search(es_env, tmp_path / "d", capsys, "Ryabkov", "--include-duplicates")
    assert everything["total"] == 3
    canonical = next(h for h in everything["hits"] if not h["duplicate_of"])
    assert canonical["copies"] == 2


def test_reindex_swaps_aliases_atomically(es_env: dict[str, str], tmp_path: Path) -> None:
    assert _cli(es_env, tmp_path / "d", "run", "--quiet", str(SAMPLES)) == EXIT_OK
    index = _index(es_env)
    old, new = index.reindex()
    assert (old, new) == (f"{es_env['prefix']}-v1", f"{es_env['prefix']}-v2")
    assert index.current_index() == new
    assert index.es.count(index=es_env["prefix"])["count"] == 5


def test_an_index_from_before_sort_date_is_upgraded_by_setup(
    es_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old_template = load_template()
    del old_template["template"]["mappings"]["properties"]["sort_date"]
    with monkeypatch.context() as patch:
        patch.setattr("newsdex.connectors.elastic.load_template", lambda: old_template)
        index = _index(es_env)  # the index as the earlier version created it: strict, no sort_date
    first, second = racing_runs()
    dated, undated = first[0], second[0]
    undated.published_at = None
    for doc in (dated, undated):
        source = {**doc.to_dict(), "ingested_at": "2024-03-01T10:00:00Z"}
        del source["sort_date"]
        index.es.index(index=index.write_alias, id=doc.id, document=source, refresh=True)
    index = _index(es_env)  # this version's setup: the field added, old documents filled
    got = index.get([dated.id, undated.id])
    assert got[dated.id]["sort_date"] == dated.published_at
    assert got[undated.id]["sort_date"] == "2024-03-01T10:00:00Z"
    undated.sort_date = "2026-01-01T00:00:00Z"  # seen again: the strict mapping takes it, first seen kept
    assert index.write([undated]) == {"indexed": 0, "replaced": 1, "rejected": []}
    assert index.get([undated.id])[undated.id]["sort_date"] == "2024-03-01T10:00:00Z"


def test_credentials_over_plain_http_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDEX_ES_API_KEY", "secret")
    with pytest.raises(ConfigError, match="plain http"):
        client_from_env("http://localhost:9200")
    monkeypatch.delenv("NEWSDEX_ES_API_KEY")
    monkeypatch.setenv("NEWSDEX_ES_USERNAME", "elastic")
    with pytest.raises(ConfigError, match="NEWSDEX_ES_PASSWORD"):
        client_from_env("https://localhost:9200")


@pytest.mark.skipif(bool(REAL_CLUSTER), reason="stops and resumes a local server process")
def test_server_going_away_mid_run_loses_nothing_and_rerun_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal
    import threading
    import time

    from osmem_server import OsmemServer

    rows = [
        json.dumps(
            {
                "url": f"https://news.example/s-{i}",
                "text": f"Story {i}\n\nItem {i}. "
                + "The council met today and debated the budget at length. " * 6,
            }
        )
        for i in range(80)
    ]
    corpus = tmp_path / "in.jsonl"
    corpus.write_text("\n".join(rows) + "\n")
    data_dir = tmp_path / "data"
    monkeypatch.setenv("NEWSDEX_ES_NODE_CLASS", NODE_CLASS)
    monkeypatch.setenv("NEWSDEX_ES_TIMEOUT", "1")
    server = OsmemServer.start(japanese=False)
    try:
        stopped = threading.Event()

        def stop_after_first_batch() -> None:
            deadline = time.monotonic() + 120
            while finished_batches(data_dir) < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            server.process.send_signal(signal.SIGSTOP)  # the server stops answering mid-run
            stopped.set()

        watcher = threading.Thread(target=stop_after_first_batch, daemon=True)
        watcher.start()
        first = main(
            [
                "--data-dir",
                str(data_dir),
                "--es-url",
                server.url,
                "run",
                "--quiet",
                "--batch-size",
                "5",
                "--workers",
                "1",
                str(corpus),
                "--report",
                str(tmp_path / "r1.json"),
            ]
        )
        watcher.join(5)
        assert stopped.is_set()
        assert first == 1  # the run failed, and said so
        report = json.loads((tmp_path / "r1.json").read_text())
        assert report["status"] == "failed" and "unavailable" in report["error"].lower()
        done = finished_batches(data_dir)
        assert 1 <= done < 16  # finished batches are recorded; the rest is left for the retry
        server.process.send_signal(signal.SIGCONT)
        second = main(
            [
                "--data-dir",
                str(data_dir),
                "--es-url",
                server.url,
                "run",
                "--quiet",
                "--batch-size",
                "5",
                str(corpus),
                "--report",
                str(tmp_path / "r2.json"),
            ]
        )
        assert second == 0
        rerun = json.loads((tmp_path / "r2.json").read_text())["outcomes"]
        assert rerun["already_done"] == 5 * done
        client = client_from_env(server.url)
        client.indices.refresh(index="newsdex")
        assert client.count(index="newsdex")["count"] == 80
    finally:
        server.process.send_signal(signal.SIGCONT)
        server.process.kill()


def test_rival_canonicals_of_concurrent_runs_are_merged(es_env: dict[str, str]) -> None:
    first, second = racing_runs()
    index = _index(es_env)
    index.write(first)
    index.write(second)  # a second writer that checked the index before the first one had written
    assert reconcile(index, second) == 1
    index.finish()
    check_one_canonical(index, first, second)
    assert reconcile(index, first) == 0


def _story(url: str, published: str, extra: str = "") -> Document:
    """A document of the sample story (optionally with a paragraph added)."""
    text = (SAMPLES / "000_46639030fa0cfdb9.txt").read_text(encoding="utf-8")
    if extra:  # after the first paragraph of the story, where no cleaner takes it for furniture
        parts = text.split("\n\n")
        text = "\n\n".join([*parts[:3], extra, *parts[3:]])
    return document(text, url, published)


NOTE = "This article was first published by another news agency and is republished here."


def _dedup(docs: list[Document], index: ElasticIndex) -> list[Document]:
    from newsdex.flows import stages

    return stages.dedup_batch(docs, index.existing_exact, index.band_candidates)[0]


def test_a_batch_in_flight_is_seen_by_the_next_batch_and_finished_in_order(es_env: dict[str, str]) -> None:
    import threading
    import time

    from newsdex.flows.writer import SinkWriter

    index = _index(es_env)
    gate = threading.Event()
    calls: list[str] = []

    def slow_write(docs: list[Document]) -> dict[str, Any]:
        calls.append("write")
        assert gate.wait(30)
        return index.write(docs)

    writer = SinkWriter(index, slow_write)
    done: list[tuple[dict[str, Any], set[str]]] = []
    first = _dedup([_story("https://first.example/story", "2022-01-13T18:00:00Z")], index)
    writer.submit(first, lambda counts, refused: done.append((counts, refused)))
    # The write waits until the next batch's lookups are done, and that batch's dedup already sees
    # the first batch (its near copy and its exact copy).
    second = _dedup(
        [
            _story("https://second.example/copy", "2022-01-14T09:00:00Z", NOTE),
            _story("https://third.example/same", "2022-01-15T09:00:00Z"),
        ],
        index,
    )
    assert calls == [] and writer.holds(d.duplicate_of for d in second)
    # Started, the write runs while the flow goes on; nothing is booked before the server answers.
    writer.start()
    deadline = time.monotonic() + 30
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls == ["write"] and done == []
    assert [d.duplicate_of for d in second] == [first[0].id, first[0].id]
    assert [d.duplicate_kind for d in second] == ["near", "exact"]
    gate.set()
    assert writer.join() == set()
    assert done == [({"indexed": 1, "replaced": 0, "rejected": []}, set())]
    assert not writer.holds([first[0].id])
    writer.submit(second, lambda counts, refused: done.append((counts, refused)))
    writer.join()
    writer.close()
    assert done[1][0]["indexed"] == 2
    assert writer.background > 0 and writer.waited >= 0
    index.finish()
    assert index.get([first[0].id])[first[0].id]["copies"]["count"] == 2


def test_a_refused_document_in_flight_is_forgotten_and_failures_reach_the_flow(
    es_env: dict[str, str],
) -> None:
    from newsdex.connectors.elastic import SinkUnavailable
    from newsdex.flows.writer import SinkWriter

    index = _index(es_env)
    bad = _story("https://first.example/story", "not a date")  # the server refuses it (400)
    writer = SinkWriter(index, index.write)
    booked: list[set[str]] = []
    writer.submit(_dedup([bad], index), lambda counts, refused: booked.append(refused))
    assert writer.join() == {bad.id} and booked == [{bad.id}]
    # An exact copy in a later batch is not a copy of a document the index does not have.
    again = _dedup([_story("https://third.example/same", "2022-01-15T09:00:00Z")], index)
    assert again[0].duplicate_of is None

    def failing(docs: list[Document]) -> dict[str, Any]:
        raise SinkUnavailable("Elasticsearch unavailable: ConnectionTimeout")

    writer = SinkWriter(index, failing)
    writer.submit(again, lambda counts, refused: booked.append(refused))
    with pytest.raises(SinkUnavailable):
        writer.join()
    assert len(booked) == 1  # the failed batch is not booked (not marked done)
    writer.close()


def test_dedup_memory_of_a_run_is_bounded(es_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ElasticIndex, "run_memory_docs", 1)
    index = _index(es_env)
    first = _dedup([_story("https://first.example/story", "2022-01-13T18:00:00Z")], index)
    index.remember(first)
    index.write(first)
    other = Document(input={"path": "o"}, id="other", body="An unrelated story about the weather.")
    index.remember(_dedup([other], index))  # memory full: a refresh, then only this batch is kept
    assert set(index._run_bodies) == {"other"}
    # The first batch is found by search now, as near and as exact copy.
    later = _dedup(
        [
            _story("https://second.example/copy", "2022-01-14T09:00:00Z", NOTE),
            _story("https://third.example/same", "2022-01-15T09:00:00Z"),
        ],
        index,
    )
    assert [d.duplicate_of for d in later] == [first[0].id, first[0].id]


def test_a_copy_of_a_document_the_server_refuses_becomes_the_canonical(
    es_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdex.flows import pipeline

    original = (SAMPLES / "000_46639030fa0cfdb9.txt").read_text(encoding="utf-8")
    rows = [
        {"url": "https://first.example/story", "text": original, "fetched_at": "2022-01-14T10:00:00Z"},
        {"url": "https://third.example/same", "text": original, "fetched_at": "2022-01-15T10:00:00Z"},
    ]
    path = tmp_path / "copies.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    class RefusingFirst(ElasticIndex):
        """Fault injection: the first story reaches the real server with a date it refuses (400)."""

        def write(self, docs: list[Document]) -> dict[str, Any]:
            for doc in docs:
                if doc.url == "https://first.example/story":
                    doc.published_at = "not a date"
            return super().write(docs)

    monkeypatch.setattr(pipeline, "open_index", lambda settings: RefusingFirst.from_settings(settings))
    report = tmp_path / "report.json"
    # One document per batch: the copy is deduplicated while the first story's write is queued.
    code = _cli(
        es_env, tmp_path / "d", "run", "--quiet", "--batch-size", "1", "--report", str(report), str(path)
    )
    data = json.loads(report.read_text())
    assert code == EXIT_REJECTIONS and data["reconciles"]
    assert data["outcomes"]["rejected"] == 1 and data["outcomes"]["indexed_new"] == 1
    assert data["duplicates_by_kind"] == {}  # the copy is not left pointing at a missing document
    index = _index(es_env)
    index.refresh()
    [hit] = index.es.search(index=es_env["prefix"], query={"match_all": {}})["hits"]["hits"]
    assert hit["_source"]["url"] == "https://third.example/same" and hit["_source"]["duplicate_of"] is None


def test_search_collapses_on_story_id_on_the_server(es_env: dict[str, str]) -> None:
    from newsdex.connectors.stories import search_by_story

    docs = []
    for n, (story, words) in enumerate(
        [
            ("s-flood", "flood river dam"),
            ("s-flood", "flood river levee"),
            ("s-flood", "flood town"),
            ("s-derby", "derby river match"),
            ("s-fair", "fair town river"),
        ]
    ):
        doc = Document(input={"path": "x", "line": n}, id=f"d{n}", url=f"https://e{n}.example/a", body=words)
        doc.title, doc.source_domain, doc.story_id = words.title(), f"e{n}.example", story
        docs.append(doc)
    index = _index(es_env)
    index.write(docs)
    index.finish()
    index.refresh()
    # The server sends one hit per story (not all four and a grouping here): `limit` stories, and
    # `groups` counts the stories of all the hits.
    collapsed = index.search("river", {}, limit=2, collapse="story_id")
    assert collapsed["total"] == 4 and collapsed["groups"] == 3  # "flood town" has no "river"
    assert len(collapsed["hits"]) == 2 and len({h["story_id"] for h in collapsed["hits"]}) == 2
    every = index.search("river", {}, limit=10, collapse="story_id")
    assert sorted(h["story_id"] for h in every["hits"]) == ["s-derby", "s-fair", "s-flood"]
    # The story's hit is its best-ranked member, the one the uncollapsed search ranks first.
    plain = index.search("river", {}, limit=10)["hits"]
    first = next(h["id"] for h in plain if h["story_id"] == "s-flood")
    assert next(h["id"] for h in every["hits"] if h["story_id"] == "s-flood") == first
    by_story = search_by_story(index, "river", {}, 10)
    assert by_story["stories"] == 3 and [h["id"] for h in by_story["hits"]] == [
        h["id"] for h in every["hits"]
    ]
    flood = next(h for h in by_story["hits"] if h["story_id"] == "s-flood")
    assert flood["story"]["documents"] == 3 and flood["story"]["outlets"] == 3
    index.close()


def test_story_spans_are_the_members_dates_on_both_backends(es_env: dict[str, str], tmp_path: Path) -> None:
    """A story's span (transforms/stories.py `Span`): its canonicals' first and last publication
    date and the earliest time an undated one was seen; a copy's dates are not the story's."""
    from newsdex.connectors.embedded import EmbeddedIndex

    rows = [  # id, story, publication date, sort date (seen, when undated), copy of
        ("d0", "s-flood", "2024-05-06T10:00:00Z", "2024-05-06T10:00:00Z", None),
        ("d1", "s-flood", "2024-05-08T00:00:00Z", "2024-05-08T00:00:00Z", None),
        ("d2", "s-flood", None, "2026-01-01T00:00:00Z", None),
        ("d3", "s-flood", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "d0"),
        ("d4", "s-warning", None, "2023-04-02T00:00:00Z", None),
    ]
    docs = []
    for doc_id, story, published, seen, copy_of in rows:
        doc = Document(
            input={"path": "x"}, id=doc_id, url=f"https://{doc_id}.example/a", body=f"Flood {doc_id}."
        )
        doc.story_id, doc.published_at, doc.sort_date, doc.duplicate_of = story, published, seen, copy_of
        doc.story_terms = [] if copy_of else ["flood", doc_id]
        docs.append(doc)
    expected = {
        "s-flood": ("2024-05-06T10:00:00Z", "2024-05-08T00:00:00Z", "2026-01-01T00:00:00Z"),
        "s-warning": (None, None, "2023-04-02T00:00:00Z"),
    }
    elastic = _index(es_env)
    elastic.write(docs)
    elastic.finish()
    elastic.refresh()
    embedded = EmbeddedIndex(tmp_path)
    try:
        embedded.write(docs)
        for index in (elastic, embedded):
            assert index.story_spans(["s-flood", "s-warning", "s-none"]) == expected, index
    finally:
        embedded.close()
        elastic.close()
