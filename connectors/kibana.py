"""Kibana saved objects (mappings/kibana/saved-objects.ndjson) and their import through Kibana's API."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from newsdex import mappings


class KibanaImportError(RuntimeError):
    """Kibana answered the import but did not create every object; the message lists which and why."""


def load_saved_objects(read_alias: str = "newsdex") -> list[dict[str, Any]]:
    """Return the saved objects, the data view pointed at the given read alias."""
    objects = mappings.kibana_saved_objects()
    for obj in objects:
        if obj["type"] == "index-pattern":
            obj["attributes"]["title"] = read_alias
    return objects


def import_saved_objects(
    kibana_url: str, read_alias: str = "newsdex", timeout: float = 30.0
) -> dict[str, Any]:
    """POST the saved objects to Kibana's saved-objects import API (overwrite); return its answer.

    Credentials come from NEWSDEX_KIBANA_API_KEY, or NEWSDEX_ES_USERNAME / NEWSDEX_ES_PASSWORD
    (Kibana accepts the Elasticsearch user); they are never logged.
    """
    # One object per line, compact, as Kibana's export API writes them.
    ndjson = "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in load_saved_objects(read_alias))
    headers = {"kbn-xsrf": "newsdex"}
    auth = None
    if os.environ.get("NEWSDEX_KIBANA_API_KEY"):
        headers["Authorization"] = "ApiKey " + os.environ["NEWSDEX_KIBANA_API_KEY"]
    elif os.environ.get("NEWSDEX_ES_USERNAME"):
        auth = (os.environ["NEWSDEX_ES_USERNAME"], os.environ.get("NEWSDEX_ES_PASSWORD", ""))
    response = httpx.post(
        kibana_url.rstrip("/") + "/api/saved_objects/_import",
        params={"overwrite": "true"},
        files={"file": ("newsdex.ndjson", ndjson.encode(), "application/ndjson")},
        headers=headers,
        auth=auth,
        timeout=timeout,
        verify=os.environ.get("NEWSDEX_ES_CA_FILE") or True,
    )
    if response.status_code >= 400:
        raise KibanaImportError(f"Kibana answered {response.status_code}: {response.text[:500]}")
    result: dict[str, Any] = response.json()
    if not result.get("success", False):
        # Kibana answers 200 and lists what it refused (missing references, unsupported types,
        # objects from a newer Kibana, attributes its schema rejects): say which and why.
        errors = result.get("errors", [])
        raise KibanaImportError(
            f"Kibana refused {len(errors)} saved objects: " + "; ".join(_describe(e) for e in errors)
        )
    return result


def _describe(failure: dict[str, Any]) -> str:
    error = failure.get("error", {})
    detail = error.get("message") or ", ".join(
        f"{r.get('type')} {r.get('id')}" for r in error.get("references", [])
    )
    return f"{failure.get('type')} {failure.get('id')} ({error.get('type')}: {detail})"
