"""Kibana saved objects: they parse, reference each other consistently, and use only template fields."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from newsdex import mappings
from newsdex.connectors.kibana import import_saved_objects, load_saved_objects

TEMPLATE = mappings.index_template()


def _template_fields() -> set[str]:
    out: set[str] = set()

    def walk(props: dict[str, Any], prefix: str) -> None:
        for name, spec in props.items():
            out.add(prefix + name)
            walk(spec.get("properties", {}), prefix + name + ".")
            for sub in spec.get("fields", {}):
                out.add(f"{prefix}{name}.{sub}")

    walk(TEMPLATE["template"]["mappings"]["properties"], "")
    return out


def test_every_line_parses_and_ids_are_unique() -> None:
    lines = [line for line in mappings.read_text(mappings.KIBANA_SAVED_OBJECTS).splitlines() if line.strip()]
    objects = [json.loads(line) for line in lines]
    assert len({(o["type"], o["id"]) for o in objects}) == len(objects)
    assert {o["type"] for o in objects} == {"index-pattern", "search", "visualization", "dashboard"}


def test_references_resolve() -> None:
    objects = load_saved_objects()
    known = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in known, (obj["id"], ref)
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    panel_refs = {p["panelRefName"] for p in json.loads(dashboard["attributes"]["panelsJSON"])}
    assert panel_refs == {r["name"] for r in dashboard["references"]}


def test_fields_exist_in_the_template() -> None:
    fields = _template_fields()
    objects = load_saved_objects()
    data_view = next(o for o in objects if o["type"] == "index-pattern")
    assert data_view["attributes"]["timeFieldName"] in fields
    for obj in objects:
        if obj["type"] == "visualization":
            vis = json.loads(obj["attributes"]["visState"])
            for agg in vis["aggs"]:
                if "field" in agg["params"]:
                    assert agg["params"]["field"] in fields, (obj["id"], agg["params"]["field"])
        if obj["type"] == "search":
            assert set(obj["attributes"]["columns"]) <= fields
            assert (
                "duplicate_of"
                in json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"][
                    "query"
                ]
            )
    charted = {
        json.loads(o["attributes"]["visState"])["aggs"][1]["params"]["field"]
        for o in objects
        if o["type"] == "visualization"
    }
    assert {
        "entities.person",
        "entities.org",
        "entities.location",
        "source_domain",
        "language",
        "published_at",
        "mentioned_dates",
    } <= charted


def test_data_view_follows_the_read_alias() -> None:
    view = next(o for o in load_saved_objects("news-prod") if o["type"] == "index-pattern")
    assert view["attributes"]["title"] == "news-prod"


def test_import_posts_ndjson_to_the_saved_objects_api() -> None:
    seen: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen["path"] = self.path
            seen["xsrf"] = self.headers.get("kbn-xsrf")
            seen["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            payload = json.dumps({"success": True, "successCount": 10}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    result = import_saved_objects(f"http://127.0.0.1:{server.server_port}")
    thread.join(5)
    server.server_close()
    assert result["successCount"] == 10
    assert seen["path"] == "/api/saved_objects/_import?overwrite=true"
    assert seen["xsrf"]
    assert b'"id": "newsdex-overview"' in seen["body"] and b'filename="newsdex.ndjson"' in seen["body"]
