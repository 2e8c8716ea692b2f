"""The contract, written once: the index template and the Kibana saved objects.

This folder ships inside the package as `newsdex.mappings`; everything that needs these files
(the Elasticsearch sink, the Kibana import, the tests) reads them through the functions here, so
one place knows where the contract lives, in a checkout and in an installed wheel alike.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

INDEX_TEMPLATE = "index-template.json"
KIBANA_SAVED_OBJECTS = "kibana/saved-objects.ndjson"


def read_text(name: str) -> str:
    """Return the text of one file of the contract (a path relative to mappings/)."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")


def index_template() -> dict[str, Any]:
    """Return the Elasticsearch index template (the document contract)."""
    return json.loads(read_text(INDEX_TEMPLATE))


def kibana_saved_objects() -> list[dict[str, Any]]:
    """Return the Kibana saved objects, one dict per NDJSON line."""
    return [json.loads(line) for line in read_text(KIBANA_SAVED_OBJECTS).splitlines() if line.strip()]
