"""The Kibana saved objects, checked the way Kibana 9.0 (docker-compose.yml) would check them.

Static checks read mappings/ (the objects and the index template); the end-to-end ones run the
pipeline on the samples and on hand-made inputs unlike them (a WARC page without a date, an undated
JSONL text, an old dated page), then check the documents and run the dashboard's searches — built
the way Kibana builds them (tests/kibana9.py) — against a real server process.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsdex import mappings
from newsdex.connectors.elastic import ElasticIndex, client_from_env
from newsdex.connectors.kibana import load_saved_objects
from newsdex.flows.cli import EXIT_OK, main
from newsdex.transforms.dates import parse_datetime
from tests import kibana9
from tests.conftest import SAMPLES
from tests.connectors.test_elastic import es_env  # noqa: F401 (the fixture: a fresh server per test)

PROPERTIES = mappings.index_template()["template"]["mappings"]["properties"]
OBJECTS = mappings.kibana_saved_objects()
BY_ID = {o["id"]: o for o in OBJECTS}
DATA_VIEW = next(o for o in OBJECTS if o["type"] == "index-pattern")
DASHBOARD = next(o for o in OBJECTS if o["type"] == "dashboard")
TIME_FIELD = DATA_VIEW["attributes"]["timeFieldName"]


def _vis_state(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(obj["attributes"]["visState"])


def _panels() -> list[dict[str, Any]]:
    return json.loads(DASHBOARD["attributes"]["panelsJSON"])


# --- the objects as Kibana 9.0 exports and imports them ------------------------------------------
def test_every_line_parses_and_ids_are_unique() -> None:
    lines = [line for line in mappings.read_text(mappings.KIBANA_SAVED_OBJECTS).splitlines() if line.strip()]
    assert len(lines) == len(OBJECTS)
    assert len({(o["type"], o["id"]) for o in OBJECTS}) == len(OBJECTS)
    assert {o["type"] for o in OBJECTS} == {"index-pattern", "search", "visualization", "dashboard"}


def test_every_object_is_in_the_shape_kibana_9_exports() -> None:
    for obj in OBJECTS:
        assert set(obj) == kibana9.EXPORT_KEYS, obj["id"]
        assert obj["coreMigrationVersion"] == kibana9.CORE_MIGRATION_VERSION
        # The latest version: Kibana runs no migration on it (and one without a version none
        # at all, upgrade_pipeline.ts); a newer one is refused as "from a more recent Kibana".
        assert obj["typeMigrationVersion"] == kibana9.LATEST_TYPE_VERSION[obj["type"]], obj["id"]
        assert obj["managed"] is False


def test_attributes_are_what_kibana_9_accepts() -> None:
    assert kibana9.import_errors(OBJECTS) == []
    for obj in OBJECTS:
        attributes = obj["attributes"]
        for key in ("visState", "uiStateJSON", "panelsJSON", "optionsJSON", "fieldAttrs", "sourceFilters"):
            if key in attributes:
                json.loads(attributes[key])
        if obj["type"] == "visualization":
            vis = _vis_state(obj)
            assert vis["title"] == attributes["title"] and vis["type"] in {"table", "histogram"}
            schemas = {"table": {"metric", "bucket"}, "histogram": {"metric", "segment"}}[vis["type"]]
            assert {a["schema"] for a in vis["aggs"]} == schemas, obj["id"]
            for agg in vis["aggs"]:
                if agg["type"] == "terms":  # the README's promise: the 20 most frequent values
                    assert (agg["params"]["size"], agg["params"]["order"]) == (20, "desc")
        if obj["type"] == "search":
            assert all(len(pair) == 2 and pair[1] in ("asc", "desc") for pair in attributes["sort"])


def test_the_import_check_refuses_what_kibana_refuses() -> None:
    """The checker can fail: each kind of object Kibana 9.0 would not create is reported."""
    newer = {**DASHBOARD, "typeMigrationVersion": "10.3.0"}  # collapsible sections: Kibana 9.1
    assert "more recent version" in kibana9.import_errors([newer, *OBJECTS[:-1]])[0]["error"]["message"]
    stray = {**BY_ID["newsdex-persons"], "attributes": {**BY_ID["newsdex-persons"]["attributes"], "x": 1}}
    assert kibana9.import_errors([stray, DATA_VIEW])[0]["error"]["message"].endswith("unknown ['x']")
    assert kibana9.import_errors([BY_ID["newsdex-persons"]])[0]["error"]["type"] == "missing_references"
    assert kibana9.import_errors([{**DATA_VIEW, "type": "lens"}])[0]["error"]["type"] == "unsupported_type"


def test_references_resolve_as_kibana_resolves_them() -> None:
    for obj in OBJECTS:
        refs = {r["name"]: r for r in obj["references"]}
        assert len(refs) == len(obj["references"]), obj["id"]
        used: set[str] = set()
        index_ref = kibana9.search_source(obj).get("indexRefName")
        if index_ref:
            assert refs[index_ref]["type"] == "index-pattern" and refs[index_ref]["id"] == DATA_VIEW["id"]
            used.add(index_ref)
        if obj["type"] == "dashboard":
            for panel in _panels():
                # Kibana writes panelRefName `panel_<panelIndex>` and the reference `<panelIndex>:panel_<panelIndex>`
                # (dashboard_container_references.ts createExtract); on read it looks the name up among
                # the references prefixed with the panel's index (panels_out_transforms.ts).
                assert set(panel) <= kibana9.PANEL_KEYS and panel["type"], panel
                assert panel["gridData"]["i"] == panel["panelIndex"]
                assert panel["panelRefName"] == f"panel_{panel['panelIndex']}"
                name = f"{panel['panelIndex']}:{panel['panelRefName']}"
                assert refs[name]["type"] == panel["type"] and refs[name]["id"] in BY_ID
                assert BY_ID[refs[name]["id"]]["type"] == panel["type"]
                used.add(name)
        assert used == set(refs), f"{obj['id']}: references nothing points at: {set(refs) - used}"


def test_panels_do_not_overlap() -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in _panels():
        grid = panel["gridData"]
        assert grid["x"] + grid["w"] <= 48  # Kibana's dashboard grid is 48 columns wide
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, (panel["panelIndex"], cells.get((x, y)))
                cells[(x, y)] = panel["panelIndex"]


# --- fields: aggregatable where aggregated, the time field a date every document has ----------
def test_every_aggregated_field_is_aggregatable_in_the_template() -> None:
    charted: set[str] = set()
    for obj in OBJECTS:
        if obj["type"] != "visualization":
            continue
        for agg in _vis_state(obj)["aggs"]:
            field = agg["params"].get("field")
            if field:
                assert kibana9.not_aggregatable(PROPERTIES, field) is None, (obj["id"], field)
                charted.add(field)
    assert {"entities.person", "entities.org", "entities.location", "source_domain", "language"} <= charted
    assert {"published_at", "mentioned_dates"} <= charted
    # The time field and the saved search's sort run on doc values too.
    assert kibana9.not_aggregatable(PROPERTIES, TIME_FIELD) is None
    assert PROPERTIES[TIME_FIELD]["type"] == "date"
    for obj in OBJECTS:
        if obj["type"] == "search":
            for field, _ in obj["attributes"]["sort"]:
                assert kibana9.not_aggregatable(PROPERTIES, field) is None
            for column in obj["attributes"]["columns"]:
                assert kibana9.field_spec(PROPERTIES, column)[0] is not None, column


@pytest.mark.parametrize(
    ("field", "why"),
    [
        ("title", "type text"),
        ("body", "type text"),
        ("entity_counts", "enabled: false"),
        ("image_url", "index: false"),
        ("input", "type object"),
        ("title.keyword.nope", "not in the index template"),
        ("no_such_field", "not in the index template"),
    ],
)
def test_the_aggregation_check_refuses_what_kibana_cannot_aggregate(field: str, why: str) -> None:
    assert why in (kibana9.not_aggregatable(PROPERTIES, field) or "").replace("`", "")


def test_the_check_follows_object_paths_and_multi_fields() -> None:
    assert kibana9.not_aggregatable(PROPERTIES, "title.keyword") is None
    assert kibana9.not_aggregatable(PROPERTIES, "copies.count") is None
    nested = {"outer": {"type": "object", "enabled": False, "properties": {"inner": {"type": "keyword"}}}}
    assert "enabled: false" in (kibana9.not_aggregatable(nested, "outer.inner") or "").replace("`", "")


def test_data_view_and_saved_search_use_the_time_field_every_document_has() -> None:
    assert TIME_FIELD == "sort_date"
    search = BY_ID["newsdex-articles"]
    assert search["attributes"]["sort"][0] == [TIME_FIELD, "desc"]
    assert "NOT duplicate_of:*" in kibana9.search_source(search)["query"]["query"]


def test_data_view_follows_the_read_alias() -> None:
    view = next(o for o in load_saved_objects("news-prod") if o["type"] == "index-pattern")
    assert view["attributes"]["title"] == "news-prod"


# --- time: the dashboard opens on the data; the mentioned-dates timeline is not cut --------------
def test_dashboard_opens_on_a_wide_range() -> None:
    attributes = DASHBOARD["attributes"]
    assert attributes["timeRestore"] is True and attributes["timeTo"] == "now"
    now = datetime(2030, 6, 1, tzinfo=UTC)
    assert kibana9.resolve(attributes["timeFrom"], now) <= datetime(
        2020, 6, 1, tzinfo=UTC
    )  # ten years at least
    assert attributes["refreshInterval"]["pause"] is True  # an archive: no auto-refresh


def test_only_the_mentioned_dates_timeline_escapes_the_picker() -> None:
    by_field = {}
    for obj in OBJECTS:
        if obj["type"] == "visualization":
            for agg in _vis_state(obj)["aggs"]:
                if agg["type"] == "date_histogram":
                    assert agg["params"]["interval"] in kibana9.INTERVALS
                    by_field[agg["params"]["field"]] = agg
    # Publication dates follow the picker (the dated articles it selects are in its range) ...
    assert kibana9.axis_bound_to_picker(by_field["published_at"], TIME_FIELD)
    # ... mentioned dates do not: a fixed interval on a field that is not the time field.
    assert not kibana9.axis_bound_to_picker(by_field["mentioned_dates"], TIME_FIELD)
    auto = {
        **by_field["mentioned_dates"],
        "params": {**by_field["mentioned_dates"]["params"], "interval": "auto"},
    }
    assert kibana9.axis_bound_to_picker(auto, TIME_FIELD)  # the shipped bug, caught


# --- end to end: the documents the pipeline writes, and the dashboard's searches on them ---------
WARC_PAGE = """<html><head><title>Dockers walk out at the harbour</title></head><body>
<nav><a href="/">Harbour Gazette</a> | <a href="/news">News</a></nav><article><h1>Dockers walk out at the harbour</h1>
<p>Dock workers at the north harbour stopped work on Tuesday morning after talks over night-shift pay broke
down, leaving four container ships waiting at anchor outside the breakwater.</p>
<p>The union said the walk-out would continue until the port authority returned to the table. Older members
compared the mood on the quays to the general strike that began on May 4, 1926, when the harbour stood
still for nine days.</p>
<p>The port authority said it regretted the action and that perishable cargo was being diverted to the
southern terminal while both sides looked for a mediator acceptable to everyone.</p>
</article><footer>Harbour Gazette, all rights reserved</footer></body></html>"""
OLD_PAGE = """<html><head><title>Fifty years on, the night they watched the Moon</title>
<meta property="article:published_time" content="2019-07-16T07:00:00+00:00"></head><body><article>
<h1>Fifty years on, the night they watched the Moon</h1>
<p>Half a century after Apollo 11 landed on July 20, 1969, residents of the valley still remember gathering
around the only television in the village hall to watch the grainy pictures come in after midnight.</p>
<p>The hall's committee is now collecting recollections and photographs for an exhibition, and asks anyone
who was there that night to bring what they kept to the open afternoon on Saturday.</p>
<p>Organisers hope younger visitors will record their grandparents' memories, so that the story of that
night stays with the village long after the exhibition closes its doors.</p></article></body></html>"""
UNDATED_TEXT = """Library reopens after the flood

The town library reopened its doors to readers this week after months of repairs to the ground floor,
where flood water had ruined shelves, carpets and the children's corner.

Volunteers carried thousands of books back from the school gym where they had been stored, and the
librarians said almost the whole collection had been saved, apart from the local newspaper archive.

The council thanked the volunteers and said a new pump would protect the building the next time the
river rises over its banks."""


@pytest.fixture(scope="module")
def unlike_samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder of inputs unlike the samples: a WARC page with no date (fetch time only), an
    undated JSONL text (no fetch time either), a JSONL page published in 2019."""
    folder = tmp_path_factory.mktemp("unlike")
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(
            "https://harbour-gazette.example/news/dockers-walk-out",
            "response",
            payload=io.BytesIO(WARC_PAGE.encode()),
            http_headers=headers,
            warc_headers_dict={"WARC-Date": "2023-06-14T08:30:00Z"},
        )
    )
    (folder / "crawl.warc").write_bytes(out.getvalue())
    lines = [
        {"url": "https://valley-courier.example/library-reopens", "text": UNDATED_TEXT},
        {
            "url": "https://valley-courier.example/moon-night",
            "html": OLD_PAGE,
            "fetched_at": "2019-07-16T09:00:00Z",
        },
    ]
    (folder / "feed.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return folder


def _newsdex(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed command as a user does — from another folder, so nothing of the checkout's
    layout (its top-level folders) can stand in for the package."""
    return subprocess.run(
        [sys.executable, "-m", "newsdex", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=600,
    )


def _check_sort_dates(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        value = doc["sort_date"]
        assert value and parse_datetime(value) is not None, doc["id"]
        assert value == (doc["published_at"] or value)  # the publication date when there is one
        if not doc["published_at"]:
            assert value <= doc["ingested_at"], doc["id"]  # else first seen: never after indexing


@pytest.mark.slow
def test_every_document_the_pipeline_writes_has_the_time_field(unlike_samples: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    run = _newsdex(
        "--data-dir", str(data_dir), "run", "--quiet", str(SAMPLES), str(unlike_samples), cwd=tmp_path
    )
    assert run.returncode == EXIT_OK, run.stderr
    export = _newsdex("--data-dir", str(data_dir), "export", "--output-jsonl", "-", cwd=tmp_path)
    assert export.returncode == EXIT_OK, export.stderr
    docs = {d["url"] or d["id"]: d for d in map(json.loads, export.stdout.splitlines())}
    assert len(docs) == 8
    _check_sort_dates(list(docs.values()))
    warc = docs["https://harbour-gazette.example/news/dockers-walk-out"]
    assert (warc["published_at"], warc["sort_date"]) == (None, "2023-06-14T08:30:00Z")  # the WARC-Date
    undated = docs["https://valley-courier.example/library-reopens"]
    assert undated["published_at"] is None and undated["sort_date"] == undated["ingested_at"]
    moon = docs["https://valley-courier.example/moon-night"]
    assert moon["sort_date"] == moon["published_at"] and moon["sort_date"].startswith("2019-07-16")
    # Run again with --force: the undated text is indexed anew, but keeps the first time it was seen.
    redone_file = tmp_path / "redone.jsonl"
    again = _newsdex(
        *("--data-dir", str(data_dir), "run", "--quiet", "--force", str(unlike_samples)),
        *("--output-jsonl", str(redone_file)),
        cwd=tmp_path,
    )
    assert again.returncode == EXIT_OK, again.stderr
    redone = {d["url"]: d for d in map(json.loads, redone_file.read_text().splitlines())}
    assert redone[undated["url"]]["ingested_at"] > undated["ingested_at"]
    assert redone[undated["url"]]["sort_date"] == undated["sort_date"]


@pytest.fixture
def es_documents(es_env: dict[str, str], unlike_samples: Path, tmp_path: Path) -> Iterator[ElasticIndex]:  # noqa: F811
    """Return the Elasticsearch index after the samples and the inputs unlike them went through it."""
    args = ["--data-dir", str(tmp_path / "d"), "--es-url", es_env["url"], "run", "--quiet"]
    assert main([*args, str(SAMPLES), str(unlike_samples)]) == EXIT_OK
    index = ElasticIndex(client_from_env(es_env["url"]), es_env["prefix"])
    index.refresh()
    yield index
    index.close()


@pytest.mark.slow
def test_the_dashboard_shows_every_article_and_the_dates_they_mention(es_documents: ElasticIndex) -> None:
    es = es_documents.es
    docs = [hit["_source"] for hit in es.search(index=es_documents.read_alias, size=100)["hits"]["hits"]]
    assert len(docs) == 8
    _check_sort_dates(docs)
    now = datetime.now(UTC)
    attributes = DASHBOARD["attributes"]
    opened = (kibana9.resolve(attributes["timeFrom"], now), kibana9.resolve(attributes["timeTo"], now))
    answers: dict[str, list[dict[str, Any]]] = {}
    for obj in OBJECTS:
        if obj["type"] == "visualization":
            vis = _vis_state(obj)
            body = kibana9.visualization_search(vis, DATA_VIEW, DASHBOARD, opened)
            response = es.search(index=es_documents.read_alias, **body)  # the data view's title at import
            # The dashboard opens on every article: none is filtered out by the time field.
            assert response["hits"]["total"]["value"] == len(docs), obj["id"]
            answers[obj["id"]] = response["aggregations"]["b"]["buckets"]
    sources = {b["key"]: b["doc_count"] for b in answers["newsdex-sources"]}
    assert {"harbour-gazette.example", "valley-courier.example", "sputniknews.com"} <= set(sources)
    published = sum(b["doc_count"] for b in answers["newsdex-published"])
    assert published == sum(1 for d in docs if d["published_at"])  # undated articles are not dated here
    # Narrow the picker to January 2022: the sputniknews article still shows the 1962 it mentions.
    january = (datetime(2022, 1, 1, tzinfo=UTC), datetime(2022, 1, 31, 23, 59, tzinfo=UTC))
    mentioned = BY_ID["newsdex-mentioned"]
    vis = _vis_state(mentioned)
    body = kibana9.visualization_search(vis, DATA_VIEW, DASHBOARD, january)
    response = es.search(index=es_documents.read_alias, **body)
    assert response["hits"]["total"]["value"] == 1
    bucket_agg = next(a for a in vis["aggs"] if a["type"] == "date_histogram")
    drawn = kibana9.drawn_buckets(response["aggregations"]["b"]["buckets"], bucket_agg, TIME_FIELD, january)
    years = {datetime.fromtimestamp(b["key"] / 1000, UTC).year for b in drawn}
    assert years == {1962, 2022}
    # The same panel with Kibana's default `auto` interval would have cut 1962 off the axis.
    auto = {**bucket_agg, "params": {**bucket_agg["params"], "interval": "auto"}}
    cut = kibana9.drawn_buckets(response["aggregations"]["b"]["buckets"], auto, TIME_FIELD, january)
    assert {datetime.fromtimestamp(b["key"] / 1000, UTC).year for b in cut} == {2022}


# --- `newsdex kibana import` against a stand-in that checks what Kibana's import route checks --------
class StandIn(BaseHTTPRequestHandler):
    """Kibana's POST /api/saved_objects/_import (saved-objects/server-internal/src/routes/import.ts):
    multipart/form-data with one `file` part named *.ndjson, kbn-xsrf, overwrite as a query flag;
    answers like Kibana: {success, successCount, successResults, errors}."""

    known: ClassVar[dict[str, str]] = kibana9.LATEST_TYPE_VERSION
    seen: ClassVar[list[dict[str, Any]]] = []
    url: ClassVar[str] = ""

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        message = BytesParser().parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
        )
        parts = {p.get_param("name", header="content-disposition"): p for p in message.get_payload()}
        problems = []
        if url.path != "/api/saved_objects/_import":
            problems.append(f"path {url.path}")
        if not self.headers.get("kbn-xsrf"):
            problems.append("no kbn-xsrf header")  # Kibana answers 400 to a POST without it
        if parse_qs(url.query) != {"overwrite": ["true"]}:
            problems.append(f"query {url.query}")
        if not message.is_multipart() or set(parts) != {"file"}:
            problems.append("not multipart/form-data with one `file` part")
        elif not parts["file"].get_filename("").lower().endswith(".ndjson"):
            problems.append(f"Invalid file extension {parts['file'].get_filename()}")
        if problems:
            self._answer(400, {"statusCode": 400, "error": "Bad Request", "message": "; ".join(problems)})
            return
        lines = parts["file"].get_payload(decode=True).decode().splitlines()
        objects = [json.loads(line) for line in lines if line.strip()]
        errors = kibana9.import_errors(objects, self.known)
        refused = {(e["type"], e["id"]) for e in errors}
        created = [{"type": o["type"], "id": o["id"]} for o in objects if (o["type"], o["id"]) not in refused]
        self.seen.append({"objects": objects, "auth": self.headers.get("Authorization")})
        result = {
            "success": not errors,
            "successCount": len(created),
            "successResults": created,
            "errors": errors,
        }
        self._answer(200, result)

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def kibana() -> Iterator[type[StandIn]]:
    handler = type("Kibana", (StandIn,), {"seen": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_port}"
    yield handler
    server.shutdown()
    server.server_close()


def test_kibana_import_creates_every_object(kibana: type[StandIn], tmp_path: Path) -> None:
    env = {"NEWSDEX_ES_INDEX": "news-prod", "NEWSDEX_KIBANA_API_KEY": "k3y"}
    result = _newsdex("kibana", "import", "--kibana-url", kibana.url, cwd=tmp_path, env=env)
    assert result.returncode == EXIT_OK, result.stderr
    assert f"imported {len(OBJECTS)} saved objects" in result.stdout
    (request,) = kibana.seen
    assert request["auth"] == "ApiKey k3y"
    assert [(o["type"], o["id"]) for o in request["objects"]] == [(o["type"], o["id"]) for o in OBJECTS]
    view = next(o for o in request["objects"] if o["type"] == "index-pattern")
    assert view["attributes"]["title"] == "news-prod"  # the read alias of NEWSDEX_ES_INDEX


def test_an_older_kibana_refuses_and_the_import_says_why(kibana: type[StandIn], tmp_path: Path) -> None:
    # Kibana 8.12 knew dashboards up to 8.9.0 (kbn_archiver/managed_content.json, January 2024).
    kibana.known = {**kibana9.LATEST_TYPE_VERSION, "dashboard": "8.9.0"}
    result = _newsdex("kibana", "import", "--kibana-url", kibana.url, cwd=tmp_path)
    assert result.returncode != EXIT_OK
    assert "Kibana refused 1 saved objects: dashboard newsdex-overview" in result.stderr
    assert "belongs to a more recent version of Kibana [10.2.0]" in result.stderr
