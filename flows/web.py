"""`newsdex web`: a read-only search page over the configured index, and its JSON API.

The page (flows/webpage/: one HTML file, one script, one style sheet; no build step, nothing from
another host, so it works offline) talks to two endpoints:

- `GET /api/search?q=...&person=...&page=N&size=N...`: what `newsdex search --json` prints for the
  same arguments. Both call the backend's `search` (connectors/hits.py: one parser, one set of checks,
  one result shape), so the page and the command line cannot disagree.
- `GET /api/doc/{id}`: the document as `newsdex export` writes it, with its copies (or the document it
  is a copy of) and the documents it shares passages with (`shared`) as search hits.

Nothing can be written through it: only GET (and HEAD) routes exist. A search is limited in query
length, page size and filters; every error is one JSON line {"error": ...} with a 4xx/5xx status,
never a traceback. Prefect and spaCy are not imported (a search answers in milliseconds).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsdex.connectors.hits import (
    ENTITY_KINDS,
    MAX_LIMIT,
    IndexMissing,
    SearchError,
    open_reader,
    search_hit,
)

# A page of hits is at most this long; a query at most this many characters; a filter kind at most
# this many values (a URL can carry anything; the server takes what a person could have clicked).
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_QUERY_CHARS = 500
MAX_FILTER_VALUES = 20
FACET_SIZE = 15
NO_INDEX = "no index yet — run `newsdex run INPUT...` first"
PAGE_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
# The page loads nothing from elsewhere and runs no inline script: even a value that escaped the
# page's escaping could not run or load anything.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class BadRequest(ValueError):
    """A page request the search cannot take; the message says why, in the page's words."""


def _page_file(name: str) -> bytes:
    return resources.files("newsdex.flows").joinpath("webpage", name).read_bytes()


def search_args(params: Any) -> dict[str, Any]:
    """Return the keyword arguments of `index.search` for the page's query parameters; raise BadRequest."""
    query = params.get("q", "")
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest(f"the query is {len(query)} characters long; at most {MAX_QUERY_CHARS}, please")
    filters: dict[str, Any] = {}
    for kind in ENTITY_KINDS:
        names = params.getlist(kind)
        if len(names) > MAX_FILTER_VALUES:
            raise BadRequest(f"at most {MAX_FILTER_VALUES} {kind} filters")
        if names:
            filters[kind] = names
    for key, name in (
        ("source", "source"),
        ("lang", "lang"),
        ("from", "date_from"),
        ("to", "date_to"),
        ("mfrom", "mentioned_from"),
        ("mto", "mentioned_to"),
        ("story", "story"),
    ):
        value = params.get(key)
        if value:
            if len(value) > MAX_QUERY_CHARS:
                raise BadRequest(f"{key} is too long")
            filters[name] = value
    # size=0: the facets only (the page's timelines ask for them so).
    size = _whole(params.get("size"), DEFAULT_PAGE_SIZE, "size", 0, MAX_PAGE_SIZE)
    page = _whole(params.get("page"), 1, "page", 1, MAX_LIMIT)
    offset = (page - 1) * size
    if offset + size > MAX_LIMIT:
        raise BadRequest(
            f"page {page} is past the first {MAX_LIMIT} hits; narrow the search (`newsdex export` has all)"
        )
    return {
        "query": query,
        "filters": filters,
        "limit": size,
        "offset": offset,
        "include_duplicates": params.get("dups") in ("1", "true", "on"),
        "facet_size": FACET_SIZE,
    }


def _whole(value: str | None, default: int, name: str, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadRequest(f"{name} takes a whole number from {low} to {high}, got {value[:20]!r}")
    return int(value)


class Reader:
    """The configured index, opened on first use and again after it was missing (one per thread for
    SQLite, whose connections stay in the thread that made them)."""

    def __init__(self, data_dir: Path, es_url: str | None, es_index: str) -> None:
        self.data_dir, self.es_url, self.es_index = data_dir, es_url, es_index
        self._local = threading.local()
        self._lock = threading.Lock()
        self._shared: Any = None
        self.has_documents = False

    def index(self) -> Any:
        """Return an open reader; raise IndexMissing when there is no index yet."""
        if self.es_url:
            with self._lock:
                if self._shared is None:
                    self._shared = open_reader(self.data_dir, self.es_url, self.es_index)
                return self._shared
        index = getattr(self._local, "index", None)
        if index is None:
            index = self._local.index = open_reader(self.data_dir, None, self.es_index)
        return index

    def close(self) -> None:
        """Close the shared reader (the thread-local ones close with their threads)."""
        if self._shared is not None:
            self._shared.close()


def create_app(data_dir: Path, es_url: str | None = None, es_index: str = "newsdex") -> Starlette:
    """Return the read-only web app over the index in `data_dir` (or Elasticsearch at `es_url`)."""
    reader = Reader(data_dir, es_url, es_index)

    def guarded(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        # Starlette runs a plain function in its thread pool: SQLite and the Elasticsearch client block.
        def endpoint(request: Request) -> Response:
            try:
                response = handler(request)
            except BadRequest as err:
                response = _error(400, str(err))
            except SearchError as err:
                response = _error(400, str(err))
            except IndexMissing:
                response = _error(503, NO_INDEX)
            except Exception as err:
                # A server that does not answer, a broken index: one line, no traceback.
                response = _error(502, f"the index could not be read: {type(err).__name__}: {err}")
            response.headers.update(SECURITY_HEADERS)
            return response

        return endpoint

    def page(request: Request) -> Response:
        return Response(_page_file("index.html"), media_type="text/html; charset=utf-8")

    def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in PAGE_FILES:
            return _error(404, "no such file")
        return Response(_page_file(name), media_type=PAGE_FILES[name])

    def api_search(request: Request) -> Response:
        args = search_args(request.query_params)
        index = reader.index()
        result = index.search(**args)
        if result["total"] == 0 and not reader.has_documents:
            # No hits: an empty index says so instead (checked until it has documents, then never again).
            if not index.search("", {}, limit=0, include_duplicates=True)["total"]:
                return _error(503, NO_INDEX)
            reader.has_documents = True
        return JSONResponse(result)

    def api_doc(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        if len(doc_id) > 200:
            return _error(404, "no document with that id")
        index = reader.index()
        doc = index.get([doc_id]).get(doc_id)
        if doc is None:
            return _error(404, f"no document with id {doc_id!r} in this index")
        copy_ids = list((doc.get("copies") or {}).get("ids") or [])[:MAX_PAGE_SIZE]
        canonical_id = doc.get("duplicate_of")
        shared_ids = list(
            dict.fromkeys(
                i for entry in doc.get("shared_passages") or [] for i in entry.get("documents") or []
            )
        )[:MAX_PAGE_SIZE]
        found = index.get([*copy_ids, *shared_ids, *([canonical_id] if canonical_id else [])])
        return JSONResponse(
            {
                "document": doc,
                # The copies and the document this one is a copy of, as search hits (no score, no snippet).
                "copy_of": search_hit(found[canonical_id], None, "") if canonical_id in found else None,
                "copies": [search_hit(found[i], None, "") for i in copy_ids if i in found],
                # The documents it shares passages with (the page links each highlighted passage to them).
                "shared": [search_hit(found[i], None, "") for i in shared_ids if i in found],
            }
        )

    def not_found(request: Request) -> Response:
        return _error(404, "no such page")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        reader.close()

    app = Starlette(
        routes=[
            Route("/", guarded(page)),
            Route("/static/{name}", guarded(asset)),
            Route("/api/search", guarded(api_search)),
            Route("/api/doc/{doc_id:path}", guarded(api_doc)),
            Route("/{rest:path}", guarded(not_found)),
        ],
        lifespan=lifespan,
    )
    return app


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": " ".join(message.split())}, status_code=status)


def is_loopback(host: str) -> bool:
    """Return True when `host` only listens on this machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_web(app: Starlette, host: str, port: int) -> None:
    """Serve the app with uvicorn until Ctrl-C / SIGTERM."""
    import uvicorn

    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)).run()
