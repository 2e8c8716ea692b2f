"""Kibana saved objects (mappings/kibana/saved-objects.ndjson) and their import through Kibana's API."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from newsdex import mappings


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
    ndjson = "".join(json.dumps(o) + "\n" for o in load_saved_objects(read_alias)).encode()
    headers = {"kbn-xsrf": "newsdex"}
    auth = None
    if os.environ.get("NEWSDEX_KIBANA_API_KEY"):
        headers["Authorization"] = "ApiKey " + os.environ["NEWSDEX_KIBANA_API_KEY"]
    elif os.environ.get("NEWSDEX_ES_USERNAME"):
        auth = (os.environ["NEWSDEX_ES_USERNAME"], os.environ.get("NEWSDEX_ES_PASSWORD", ""))
    response = httpx.post(
        kibana_url.rstrip("/") + "/api/saved_objects/_import",
        params={"overwrite": "true"},
        files={"file": ("newsdex.ndjson", ndjson, "application/ndjson")},
        headers=headers,
        auth=auth,
        timeout=timeout,
        verify=os.environ.get("NEWSDEX_ES_CA_FILE") or True,
    )
    response.raise_for_status()
    return response.json()
