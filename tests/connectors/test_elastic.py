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

from connectors.elastic import ConfigError, ElasticIndex, client_from_env, load_template
from flows.cli import EXIT_OK, main
from tests.conftest import SAMPLES, finished_batches
from tests.races import check_one_canonical, racing_runs, reconcile
from transforms.record import Document

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
    # One document per batch: dedup must see the earlier batches' writes before any refresh.
    assert _cli(es_env, tmp_path / "d", "run", "--quiet", "--batch-size", "1", str(path)) == EXIT_OK
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
