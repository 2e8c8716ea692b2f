"""Test-only HTTP node for servers that speak plain JSON (osmem-server answers elasticsearch-py's
`application/vnd.elasticsearch+json; compatible-with=N` with 406)."""

from __future__ import annotations

from typing import Any

from elastic_transport import Urllib3HttpNode


class JsonNode(Urllib3HttpNode):
    """Urllib3 node that rewrites the vendor media types to plain JSON / NDJSON."""

    def perform_request(
        self, method: str, target: str, body: bytes | None = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        fixed = dict(headers or {})
        for name in list(fixed):
            if name.lower() in ("accept", "content-type"):
                fixed[name] = "application/x-ndjson" if "ndjson" in str(fixed[name]) else "application/json"
        return super().perform_request(method, target, body=body, headers=fixed, **kwargs)
