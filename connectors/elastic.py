"""The Elasticsearch sink and search backend: index template, versioned index behind aliases,
streaming bulk writes, dedup state (exact keys, LSH band keys) in the index itself, search parity
with the embedded index.

Readers (Kibana, `newsdex search`) use the read alias `<prefix>`; the pipeline writes through
`<prefix>-write`. `reindex` builds `<prefix>-v<N+1>` and swaps both aliases in one atomic call.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from elastic_transport import ConnectionTimeout, TlsError
from elasticsearch import ApiError, ConnectionError, Elasticsearch, NotFoundError, TransportError, helpers

from newsdex import mappings
from newsdex.connectors.embedded import overlapping
from newsdex.connectors.hits import (
    DATE_FACET_SIZE,
    DATE_FACETS,
    ENTITY_KINDS,
    FACETS,
    IndexMissing,
    SearchRequest,
    search_hit,
    search_request,
    search_result,
)
from newsdex.errors import UsageError
from newsdex.transforms.dates import keep_first_seen, pick_sort_date
from newsdex.transforms.passages import MAX_CANDIDATES as PASSAGE_CANDIDATES
from newsdex.transforms.passages import add_links, linked_documents
from newsdex.transforms.record import Document, Rejection
from newsdex.transforms.stories import MAX_CANDIDATES, STORY_DAYS

TRANSIENT_STATUS = {429, 502, 503, 504}
# A word or phrase matches in the title, description or body (weighted as the embedded index's BM25),
# as written or by its Porter stem, case and accents aside (mappings: newsdex_standard and the `.en`
# sub-fields' newsdex_english): the embedded index's matching (its FTS5 tokenizer).
TEXT_FIELDS = ["title^5", "description^2", "body", "title.en^5", "description.en^2", "body.en"]
# urllib3's "HTTPConnection(host=..., port=...): " before the reason a connection failed.
CONNECTION_PREFIX = re.compile(r"^\w+Connection\([^)]*\):\s*")


# Dedup candidate lookups per multi-search request.
MSEARCH_CHUNK = 100
CANONICAL: dict[str, Any] = {"bool": {"must_not": [{"exists": {"field": "duplicate_of"}}]}}


def canonicals_with(field: str, values: list[str]) -> dict[str, Any]:
    """Return the query for the canonicals (not copies) whose keyword `field` is one of `values`."""
    return {"bool": {"filter": [{"terms": {field: values}}], **CANONICAL["bool"]}}


# The fields story assignment and `related` read of a candidate.
STORY_VIEW = (
    "id",
    "story_id",
    "story_terms",
    "sort_date",
    "published_at",
    "entities",
    "title",
    "source_domain",
)


class SinkUnavailable(RuntimeError):
    """The server cannot be reached or is overloaded; the batch can be retried."""

    transient = True


class ConfigError(UsageError, ValueError):
    """The Elasticsearch connection settings are unusable; the message names the variable."""


def check_url(url: str) -> str:
    """Return the Elasticsearch URL if it is usable (http(s)://host:port); else raise ConfigError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or (port is None and parts.scheme == "http")
    ):
        raise ConfigError(
            f"--es-url / NEWSDEX_ES_URL must be an http(s) URL with a host and port, e.g. "
            f"https://localhost:9200; got {url!r}"
        )
    return url


def load_template() -> dict[str, Any]:
    """Return the index template from mappings/ (the document contract, written once)."""
    return mappings.index_template()


def client_from_env(url: str) -> Elasticsearch:
    """Return a client for `url` with credentials and TLS settings from NEWSDEX_ES_* variables.

    NEWSDEX_ES_API_KEY, or NEWSDEX_ES_USERNAME + NEWSDEX_ES_PASSWORD; NEWSDEX_ES_CA_FILE for a
    private CA; TLS verification stays on. Credentials over plain http are refused unless
    NEWSDEX_ES_ALLOW_INSECURE=1. NEWSDEX_ES_NODE_CLASS (module:Class) swaps the HTTP node class,
    e.g. for test servers that speak plain JSON only.
    """
    check_url(url)
    env = os.environ
    try:
        timeout = float(env.get("NEWSDEX_ES_TIMEOUT", "30"))
    except ValueError:
        raise ConfigError(f"NEWSDEX_ES_TIMEOUT takes seconds, got {env['NEWSDEX_ES_TIMEOUT']!r}") from None
    kwargs: dict[str, Any] = {
        "request_timeout": timeout,
        "max_retries": 3,
        "retry_on_timeout": True,
    }
    api_key, user, password = (
        env.get("NEWSDEX_ES_API_KEY"),
        env.get("NEWSDEX_ES_USERNAME"),
        env.get("NEWSDEX_ES_PASSWORD"),
    )
    if user and not password:
        raise ConfigError("NEWSDEX_ES_USERNAME is set but NEWSDEX_ES_PASSWORD is not")
    has_credentials = bool(api_key or user)
    if has_credentials and url.startswith("http://") and env.get("NEWSDEX_ES_ALLOW_INSECURE") != "1":
        raise ConfigError(
            "refusing to send credentials over plain http: use https, or set NEWSDEX_ES_ALLOW_INSECURE=1"
        )
    if api_key:
        kwargs["api_key"] = api_key
    elif user:
        kwargs["basic_auth"] = (user, password)
    if env.get("NEWSDEX_ES_CA_FILE"):
        kwargs["ca_certs"] = env["NEWSDEX_ES_CA_FILE"]
    node_class = env.get("NEWSDEX_ES_NODE_CLASS")
    if node_class:
        module, _, name = node_class.partition(":")
        kwargs["node_class"] = getattr(importlib.import_module(module), name)
    try:
        return Elasticsearch(url, **kwargs)
    except ValueError as err:
        raise ConfigError(f"--es-url / NEWSDEX_ES_URL {url!r} is not usable: {err}") from err


def check_server(url: str, prefix: str = "newsdex") -> None:
    """Raise ConfigError (bad URL, credentials, TLS) or SinkUnavailable (no answer) unless the server
    answers a read request; creates nothing. `newsdex run` asks before it starts any work."""
    index = ElasticIndex(client_from_env(url), prefix)
    try:
        index.current_index()
    finally:
        index.close()


def _status(err: Exception) -> int | None:
    return getattr(err, "status_code", None) or getattr(getattr(err, "meta", None), "status", None)


def _transient(err: Exception) -> bool:
    if isinstance(err, ConnectionError | ConnectionTimeout):
        return True
    return _status(err) in TRANSIENT_STATUS


def translate_error(err: Exception, url: str) -> Exception:
    """Return the error a command reports for a failed request: ConfigError (exit 2) for TLS and
    refused credentials, SinkUnavailable (exit 1, retried by the flow) for an unreachable or
    overloaded server, else the error itself. Messages name the server, never a credential."""
    if isinstance(err, TlsError):
        return ConfigError(
            f"TLS with Elasticsearch at {url} failed: {_reason(err)} "
            "(NEWSDEX_ES_CA_FILE names a private CA; is the URL's scheme right?)"
        )
    if isinstance(err, ApiError) and _status(err) in (401, 403):
        return ConfigError(
            f"Elasticsearch at {url} refused the credentials ({_status(err)}): check NEWSDEX_ES_API_KEY "
            "or NEWSDEX_ES_USERNAME / NEWSDEX_ES_PASSWORD"
        )
    if _transient(err):
        return SinkUnavailable(f"Elasticsearch at {url} is unavailable: {_reason(err)}")
    return err


def _reason(err: Exception) -> str:
    message = getattr(err, "message", None)
    if isinstance(err, ApiError):
        return f"{_status(err)} {err.error}"
    return CONNECTION_PREFIX.sub("", str(message or err)) or type(err).__name__


class ElasticIndex:
    """The pipeline's sink and the search backend on Elasticsearch (or an API-compatible server)."""

    name = "elasticsearch"
    # `search --by-story` is one request with field collapsing on `story_id` (connectors/stories.py).
    collapses = True
    # The flow writes batch k in the background while it works on batch k+1 (flows/writer.py).
    background_writes = True
    # Canonicals of this run kept in memory for dedup until a refresh makes them searchable.
    run_memory_docs = 2000

    def __init__(self, client: Elasticsearch, prefix: str = "newsdex") -> None:
        self.es = client
        self.read_alias = prefix
        self.write_alias = f"{prefix}-write"
        self.prefix = prefix
        # Documents written in this run are not searchable until a refresh, so the dedup keys of
        # this run's canonicals are remembered here (from the moment their write is submitted) for
        # the later batches; past `run_memory_docs` a refresh makes them searchable and they are
        # dropped, so memory stays bounded however long the run.
        self._run_exact: dict[str, str] = {}
        self._run_bands: dict[str, dict[str, None]] = {}
        self._run_bodies: dict[str, str] = {}
        self._touched: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Any) -> ElasticIndex:
        """Return the sink for the configured URL, set up (template, first index, aliases) if needed."""
        index = cls(client_from_env(settings.es_url), settings.es_index)
        index.setup()
        return index

    @classmethod
    def open_existing(cls, url: str, prefix: str = "newsdex") -> ElasticIndex:
        """Return the index behind the read alias for reading; raise IndexMissing (creating nothing)
        when there is none, ConfigError or SinkUnavailable when the server cannot be used."""
        index = cls(client_from_env(url), prefix)
        try:
            current = index.current_index()
        except Exception:
            index.close()
            raise
        if current is None:
            index.close()
            raise IndexMissing(
                f"no index behind alias {prefix!r} at {index._url()} yet: run `newsdex setup` "
                "(or `newsdex run INPUT...`)"
            )
        return index

    def _url(self) -> str:
        node = self.es.transport.node_pool.all()[0]
        return f"{node.config.scheme}://{node.config.host}:{node.config.port}"

    def close(self) -> None:
        """Close the client."""
        self.es.close()

    # --- setup and reindex -------------------------------------------------------------------
    def setup(self) -> str:
        """Put the template and create the first versioned index behind both aliases (idempotent)."""
        template = load_template()
        self._call(
            self.es.indices.put_index_template,
            name=self.prefix,
            index_patterns=[f"{self.prefix}-v*"],
            template=template["template"],
            priority=template.get("priority", 200),
            meta=template.get("_meta"),
        )
        current = self.current_index()
        if current:
            self._upgrade(current, template["template"]["mappings"]["properties"])
            return current
        first = f"{self.prefix}-v1"
        self._call(
            self.es.indices.create,
            index=first,
            aliases={self.read_alias: {}, self.write_alias: {"is_write_index": True}},
        )
        return first

    def _upgrade(self, index: str, properties: dict[str, Any]) -> None:
        """Bring an index created from an earlier template up to the contract: add the fields it
        lacks (the mapping is strict: without them every new document would be refused) and fill
        `sort_date` in documents written before it existed (Kibana shows no document without it)."""
        mapping = self._call(self.es.indices.get_mapping, index=index)[index]["mappings"]
        missing = {k: v for k, v in properties.items() if k not in mapping.get("properties", {})}
        if missing:
            self._call(self.es.indices.put_mapping, index=index, properties=missing)
        undated = {"bool": {"must_not": [{"exists": {"field": "sort_date"}}]}}
        if not self._call(self.es.count, index=index, query=undated)["count"]:
            return

        def fills() -> Iterator[dict[str, Any]]:
            for hit in helpers.scan(
                self.es, index=index, query={"query": undated}, _source=["published_at", "ingested_at"]
            ):
                src = hit["_source"]
                sort_date = pick_sort_date(src.get("published_at"), None, src.get("ingested_at") or "")
                yield {
                    "_op_type": "update",
                    "_index": index,
                    "_id": hit["_id"],
                    "doc": {"sort_date": sort_date},
                }

        for ok, item in helpers.streaming_bulk(self.es, fills(), raise_on_error=False, max_retries=3):
            if not ok:
                raise RuntimeError(f"could not fill sort_date: {item}")
        self._call(self.es.indices.refresh, index=index)

    def current_index(self) -> str | None:
        """Return the index the read alias points at, or None before setup."""
        try:
            aliases = self._call(self.es.indices.get_alias, name=self.read_alias)
        except NotFoundError:
            return None
        return sorted(aliases.body)[-1] if aliases.body else None

    def reindex(self) -> tuple[str, str]:
        """Copy the current index into a new versioned one (current template) and swap the aliases atomically."""
        self.setup()
        old = self.current_index()
        assert old is not None
        version = int(old.rsplit("-v", 1)[1]) + 1
        new = f"{self.prefix}-v{version}"
        self._call(self.es.indices.create, index=new)
        actions = (
            {"_index": new, "_id": hit["_id"], "_source": hit["_source"]}
            for hit in helpers.scan(self.es, index=old)
        )
        for ok, item in helpers.streaming_bulk(self.es, actions, raise_on_error=False, max_retries=3):
            if not ok:
                raise RuntimeError(f"reindex failed for a document: {item}")
        self.es.indices.refresh(index=new)
        self._call(
            self.es.indices.update_aliases,
            actions=[
                {"remove": {"index": old, "alias": self.read_alias}},
                {"remove": {"index": old, "alias": self.write_alias}},
                {"add": {"index": new, "alias": self.read_alias}},
                {"add": {"index": new, "alias": self.write_alias, "is_write_index": True}},
            ],
        )
        return old, new

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except (ConnectionError, ConnectionTimeout, TransportError, ApiError) as err:
            translated = translate_error(err, self._url())
            if translated is err:
                raise
            raise translated from err

    # --- dedup state -------------------------------------------------------------------------
    def existing_exact(self, keys: Iterable[str]) -> dict[str, str]:
        """Return {exact key: id of an indexed canonical with that normalised body}."""
        keys = list(set(keys))
        out = {k: self._run_exact[k] for k in keys if k in self._run_exact}
        rest = [k for k in keys if k not in out]
        if rest:
            body = self._call(
                self.es.search,
                index=self.read_alias,
                query=canonicals_with("exact_key", rest),
                source=["id", "exact_key"],
                size=len(rest),
            )
            for hit in body["hits"]["hits"]:
                out.setdefault(hit["_source"]["exact_key"], hit["_source"]["id"])
        return out

    def band_candidates(self, queries: list[tuple[str, list[str]]]) -> dict[str, list[tuple[str, str]]]:
        """Return {own id: [(id, body)]}: for each document (own id, band keys) the canonicals sharing
        a band key with it — this run's writes first, then the index, one multi-search per batch."""
        out: dict[str, dict[str, str]] = {}
        searches: list[dict[str, Any]] = []
        asked: list[str] = []
        for own_id, keys in queries:
            found = out.setdefault(own_id, {})
            for key in keys:
                for doc_id in self._run_bands.get(key, ()):
                    if doc_id != own_id:
                        found.setdefault(doc_id, self._run_bodies[doc_id])
            if not keys:
                continue
            searches += [
                {"index": self.read_alias},
                {
                    "query": {
                        "bool": {
                            "filter": [{"terms": {"lsh_bands": keys}}],
                            "must_not": [
                                {"exists": {"field": "duplicate_of"}},
                                {"ids": {"values": [own_id]}},
                            ],
                        }
                    },
                    "_source": ["id", "body"],
                    "size": 20,
                },
            ]
            asked.append(own_id)
        for own_id, hits in self._msearch(searches, asked, "dedup candidate lookup"):
            for hit in hits:
                out[own_id].setdefault(hit["_source"]["id"], hit["_source"]["body"])
        return {own_id: list(found.items()) for own_id, found in out.items()}

    def get(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return the contract documents with these ids."""
        ids = list(ids)
        if not ids:
            return {}
        body = self._call(self.es.mget, index=self.read_alias, ids=ids)
        return {d["_id"]: d["_source"] for d in body["docs"] if d.get("found")}

    # --- writing -----------------------------------------------------------------------------
    def write(self, docs: list[Document]) -> dict[str, Any]:
        """Bulk-index the batch (deterministic _id); return counts and per-document rejections.

        Transient failures (429 and 5xx after the client's own retries, connection loss) raise
        SinkUnavailable so the batch is retried as a whole; a document the server refuses (400,
        mapping error) becomes a rejection with the server's reason.
        """
        counts: dict[str, Any] = {"indexed": 0, "replaced": 0, "rejected": []}
        by_id = {d.id: d for d in docs}
        self._keep_first_seen([d for d in docs if d.sort_date and not d.published_at])
        actions = ({"_index": self.write_alias, "_id": d.id, "_source": d.to_dict()} for d in docs)
        try:
            results = helpers.streaming_bulk(
                self.es,
                actions,
                raise_on_error=False,
                raise_on_exception=True,
                max_retries=4,
                initial_backoff=1,
                max_backoff=30,
                chunk_size=500,
            )
            for ok, item in results:
                info = item.get("index", {})
                doc = by_id[info.get("_id")]
                if ok:
                    counts["replaced" if info.get("result") == "updated" else "indexed"] += 1
                    continue
                status = info.get("status", 0)
                if status in TRANSIENT_STATUS:
                    raise SinkUnavailable(f"Elasticsearch refused the batch with {status} after retries")
                error = info.get("error", {})
                reason = error.get("type", "index_error") if isinstance(error, dict) else "index_error"
                detail = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
                counts["rejected"].append(
                    Rejection("index", reason, f"{status}: {detail}", doc.input, doc.url)
                )
        except (ConnectionError, ConnectionTimeout, TransportError) as err:
            raise SinkUnavailable(f"Elasticsearch unavailable during bulk: {type(err).__name__}") from err
        return counts

    def _keep_first_seen(self, undated: list[Document]) -> None:
        """An undated document written over an earlier version of itself keeps the earlier sort date."""
        if not undated:
            return
        ids = [d.id for d in undated]
        body = self._call(self.es.mget, index=self.read_alias, ids=ids, source=["sort_date"])
        previous = {d["_id"]: d["_source"].get("sort_date") for d in body["docs"] if d.get("found")}
        for doc in undated:
            doc.sort_date = keep_first_seen(doc.sort_date or "", None, previous.get(doc.id)) or None

    def remember(self, docs: list[Document]) -> None:
        """Make a batch's dedup keys visible to this run's later batches before the server has it.

        Called with no write in flight, so every earlier write is acknowledged: when the memory is
        full, one refresh makes all of it searchable and it is dropped.
        """
        if len(self._run_bodies) >= self.run_memory_docs:
            self.refresh()
            self._run_exact, self._run_bands, self._run_bodies = {}, {}, {}
        for doc in docs:
            if doc.duplicate_of:
                self._touched.add(doc.duplicate_of)
                continue
            self._touched.add(doc.id)
            if doc.exact_key:
                self._run_exact.setdefault(doc.exact_key, doc.id)
            for band in doc.lsh_bands:
                self._run_bands.setdefault(band, {})[doc.id] = None
            self._run_bodies[doc.id] = doc.body

    def forget(self, ids: set[str]) -> None:
        """Drop documents the server refused from this run's dedup memory."""
        self._drop(ids)
        self._touched -= ids

    def refresh(self) -> None:
        """Make every write so far (this run's and other runs') visible to searches."""
        self._call(self.es.indices.refresh, index=self.write_alias)

    def canonicals_sharing(self, exact_keys: list[str], bands: list[str]) -> list[dict[str, Any]]:
        """Return the indexed canonical documents with any of these exact keys or LSH band keys."""
        should: list[dict[str, Any]] = []
        if exact_keys:
            should.append({"terms": {"exact_key": sorted(set(exact_keys))}})
        if bands:
            should.append({"terms": {"lsh_bands": sorted(set(bands))}})
        if not should:
            return []
        body = self._call(
            self.es.search,
            index=self.read_alias,
            query={
                "bool": {
                    "should": should,
                    "minimum_should_match": 1,
                    "must_not": [{"exists": {"field": "duplicate_of"}}],
                }
            },
            source=["id", "body", "exact_key", "lsh_bands", "published_at"],
            size=10_000,
        )
        return [hit["_source"] for hit in body["hits"]["hits"]]

    def merge_canonicals(self, merged: dict[str, tuple[str, str]]) -> int:
        """Make each listed canonical a copy of the given one (and move its copies there); return how many."""
        if not merged:
            return 0
        updates: list[dict[str, Any]] = []
        for doc_id, (keep, _kind) in merged.items():
            fields = {
                "duplicate_of": keep,
                "lsh_bands": [],
                "copies": {"count": 0, "sources": [], "ids": []},
            }
            updates.append({"_op_type": "update", "_index": self.write_alias, "_id": doc_id, "doc": fields})
            self._touched.add(keep)
        ids = sorted(merged)
        for i in range(0, len(ids), 200):
            body = self._call(
                self.es.search,
                index=self.read_alias,
                query={"terms": {"duplicate_of": ids[i : i + 200]}},
                source=["id", "duplicate_of"],
                size=10_000,
            )
            for hit in body["hits"]["hits"]:
                keep = merged[hit["_source"]["duplicate_of"]][0]
                updates.append(
                    {
                        "_op_type": "update",
                        "_index": self.write_alias,
                        "_id": hit["_source"]["id"],
                        "doc": {"duplicate_of": keep},
                    }
                )
        for ok, item in helpers.streaming_bulk(self.es, updates, raise_on_error=False, max_retries=3):
            if not ok:
                raise RuntimeError(f"could not merge canonicals: {item}")
        self._drop(set(merged))
        return len(merged)

    def _drop(self, ids: set[str]) -> None:
        for doc_id in ids:
            self._run_bodies.pop(doc_id, None)
        self._run_exact = {k: v for k, v in self._run_exact.items() if v not in ids}
        self._run_bands = {k: {i: None for i in v if i not in ids} for k, v in self._run_bands.items()}

    def finish(self) -> None:
        """End of run: one refresh, then each touched canonical's `copies` recomputed, then a refresh."""
        if not self._touched:
            return
        self._call(self.es.indices.refresh, index=self.write_alias)
        updates = []
        ids = sorted(self._touched)
        for i in range(0, len(ids), 200):
            chunk = ids[i : i + 200]
            body = self._call(
                self.es.search,
                index=self.read_alias,
                query={"terms": {"duplicate_of": chunk}},
                source=["id", "duplicate_of", "source_domain"],
                size=10_000,
            )
            copies: dict[str, list[dict[str, Any]]] = {c: [] for c in chunk}
            for hit in body["hits"]["hits"]:
                copies.setdefault(hit["_source"]["duplicate_of"], []).append(hit["_source"])
            for cid, items in copies.items():
                updates.append(
                    {
                        "_op_type": "update",
                        "_index": self.write_alias,
                        "_id": cid,
                        "doc": {
                            "copies": {
                                "count": len(items),
                                "sources": sorted(
                                    {c["source_domain"] for c in items if c.get("source_domain")}
                                ),
                                "ids": sorted(c["id"] for c in items),
                            }
                        },
                    }
                )
        for ok, item in helpers.streaming_bulk(self.es, updates, raise_on_error=False, max_retries=3):
            if not ok and item.get("update", {}).get("status") != 404:
                raise RuntimeError(f"could not update copies: {item}")
        self._call(self.es.indices.refresh, index=self.write_alias)
        self._touched.clear()

    # --- concurrent runs ---------------------------------------------------------------------
    # Batches written, by run, in their own small index; marks are the writing machines' clocks, so
    # a batch counts as written CLOCK_MARGIN seconds later than its clock says (other machines' clocks
    # may be behind or ahead by that much).
    CLOCK_MARGIN = 120.0

    @property
    def batch_log_index(self) -> str:
        """Return the name of the index of written batches."""
        return f"{self.prefix}-batch-log"

    def lookup_mark(self) -> float:
        """Return the mark a batch takes before its lookups (this machine's clock)."""
        return time.time()

    def log_batch(self, run_id: str, looked: float, ids: list[str]) -> None:
        """Log a batch written (called once its write is acknowledged): its run, marks and ids."""
        self._call(
            self.es.index,
            index=self.batch_log_index,
            document={"run_id": run_id, "looked": looked, "written": time.time(), "ids": json.dumps(ids)},
            refresh=True,
        )

    def concurrent_ids(self, run_id: str) -> list[str]:
        """Return the ids of this run's batches that may have missed another run's batch."""
        if not self._call(self.es.indices.exists, index=self.batch_log_index):
            return []
        rows = [
            hit["_source"]
            for hit in helpers.scan(self.es, index=self.batch_log_index, query={"query": {"match_all": {}}})
        ]
        own = [r for r in rows if r["run_id"] == run_id]
        if not own:
            return []
        margin = self.CLOCK_MARGIN
        others = [(r["written"] + margin, r["looked"] - margin) for r in rows if r["run_id"] != run_id]
        return [
            i
            for r in own
            if overlapping((r["looked"] - margin, r["written"] + margin), others)
            for i in json.loads(r["ids"])
        ]

    # --- shared passages ---------------------------------------------------------------------
    def passage_df(self, keys: Iterable[str]) -> dict[str, int]:
        """Return {passage key: how many canonical documents carry it}."""
        return self._keyword_df("passage_keys", keys)

    def passage_candidates(
        self, queries: list[tuple[str, list[str]]], limit: int = PASSAGE_CANDIDATES
    ) -> dict[str, list[dict[str, Any]]]:
        """Return {own id: [{id, source_domain, body}]}: the canonicals sharing most of the given
        passage keys (one multi-search per batch)."""
        out: dict[str, list[dict[str, Any]]] = {own_id: [] for own_id, _ in queries}
        searches: list[dict[str, Any]] = []
        asked: list[str] = []
        for own_id, keys in queries:
            if not keys:
                continue
            searches += [
                {"index": self.read_alias},
                {
                    "query": {
                        "bool": {
                            "should": [{"term": {"passage_keys": k}} for k in keys],
                            "minimum_should_match": 1,
                            "must_not": [
                                {"exists": {"field": "duplicate_of"}},
                                {"ids": {"values": [own_id]}},
                            ],
                        }
                    },
                    "_source": ["id", "source_domain", "body"],
                    "size": limit,
                },
            ]
            asked.append(own_id)
        for own_id, hits in self._msearch(searches, asked, "passage candidate lookup"):
            out[own_id] = [
                {k: hit["_source"].get(k) for k in ("id", "source_domain", "body")} for hit in hits
            ]
        return out

    def add_passage_links(self, links: dict[str, list[tuple[str, str]]]) -> int:
        """Add (passage text, other document id) links to indexed documents' `shared_passages`;
        return how many documents changed. (Read, then a partial update: two runs adding links to
        one document in the same instant can lose one; the end-of-run check finds it again.)"""
        if not links:
            return 0
        current = self.get(sorted(links))
        updates = []
        for doc_id, additions in sorted(links.items()):
            doc = current.get(doc_id)
            if not doc or doc.get("duplicate_of"):
                continue
            shared = add_links(doc, additions)
            if shared == (doc.get("shared_passages") or []):
                continue
            fields = {"shared_passages": shared, "passage_links": linked_documents(shared)}
            updates.append({"_op_type": "update", "_index": self.write_alias, "_id": doc_id, "doc": fields})
        for ok, item in helpers.streaming_bulk(self.es, updates, raise_on_error=False, max_retries=3):
            if not ok and item.get("update", {}).get("status") != 404:
                raise RuntimeError(f"could not add passage links: {item}")
        return len(updates)

    # --- stories -----------------------------------------------------------------------------
    # Recorded story merges live in their own small index (old story id -> the story it joined).
    @property
    def merges_index(self) -> str:
        """Return the name of the index of recorded story merges."""
        return f"{self.prefix}-story-merges"

    def story_df(self, terms: Iterable[str]) -> tuple[int, dict[str, int]]:
        """Return (number of canonical documents, {term: how many of them have it})."""
        n = self._call(self.es.count, index=self.read_alias, query=CANONICAL)["count"]
        return n, self._keyword_df("story_terms", terms)

    def _keyword_df(self, field: str, values: Iterable[str]) -> dict[str, int]:
        """Return {value: how many canonical documents have it in the keyword field}, a thousand
        values a request."""
        values = sorted(set(values))
        df: dict[str, int] = {}
        for i in range(0, len(values), 1000):
            chunk = values[i : i + 1000]
            body = self._call(
                self.es.search,
                index=self.read_alias,
                query={"bool": {"filter": [{"terms": {field: chunk}}], **CANONICAL["bool"]}},
                aggs={"df": {"terms": {"field": field, "include": chunk, "size": len(chunk)}}},
                size=0,
            )
            df.update({b["key"]: b["doc_count"] for b in body["aggregations"]["df"]["buckets"]})
        return df

    def _msearch(
        self, searches: list[dict[str, Any]], asked: list[str], what: str
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Run `searches` (header, body pairs; one pair per id of `asked`) as multi-searches of
        MSEARCH_CHUNK; yield (id, hits). A failed search fails the lookup: transient statuses as
        SinkUnavailable (the task retries), others as errors."""
        for i in range(0, len(asked), MSEARCH_CHUNK):
            body = self._call(self.es.msearch, searches=searches[2 * i : 2 * (i + MSEARCH_CHUNK)])
            for own_id, response in zip(asked[i : i + MSEARCH_CHUNK], body["responses"], strict=True):
                if "error" in response:
                    status = response.get("status", 0)
                    error = SinkUnavailable if status in TRANSIENT_STATUS else RuntimeError
                    raise error(f"{what} failed with {status}: {response['error']}")
                yield own_id, response["hits"]["hits"]

    def story_candidates(
        self,
        queries: list[tuple[str, list[str], str | None, str | None]],
        days: float | None = STORY_DAYS,
        limit: int = MAX_CANDIDATES,
    ) -> dict[str, list[dict[str, Any]]]:
        """Return {own id: [{id, story_id, story_terms, sort_date, published_at, entities, title,
        source_domain}]}: for each (own id, rare terms, sort date, publication date) the canonicals
        sharing most of the terms that can have been published within `days` of it
        (transforms/stories.py `time_gap`; any when None); one multi-search per batch."""
        out: dict[str, list[dict[str, Any]]] = {own_id: [] for own_id, *_ in queries}
        searches: list[dict[str, Any]] = []
        asked: list[str] = []
        for own_id, terms, when, published in queries:
            if not terms:
                continue
            filters: list[dict[str, Any]] = []
            span = f"{int(days * 24)}h" if days is not None else ""
            if span and published:
                # Seen (undated) or published since a week before this one was published.
                filters.append({"range": {"sort_date": {"gte": f"{published}||-{span}"}}})
            if span and (published or when):
                # Undated (could be any time before it was seen), or published by a week after.
                latest = published or when
                filters.append(
                    {
                        "bool": {
                            "should": [
                                {"bool": {"must_not": [{"exists": {"field": "published_at"}}]}},
                                {"range": {"published_at": {"lte": f"{latest}||+{span}"}}},
                            ],
                            "minimum_should_match": 1,
                        }
                    }
                )
            searches += [
                {"index": self.read_alias},
                {
                    "query": {
                        "bool": {
                            "should": [{"term": {"story_terms": t}} for t in terms],
                            "minimum_should_match": 1,
                            "filter": filters,
                            "must_not": [
                                {"exists": {"field": "duplicate_of"}},
                                {"ids": {"values": [own_id]}},
                            ],
                        }
                    },
                    "_source": list(STORY_VIEW),
                    "size": limit,
                },
            ]
            asked.append(own_id)
        for own_id, hits in self._msearch(searches, asked, "story candidate lookup"):
            out[own_id] = [{k: hit["_source"].get(k) for k in STORY_VIEW} for hit in hits]
        return out

    def merge_stories(self, merges: dict[str, str], when: str) -> int:
        """Move every member of each absorbed story to the kept one and record the merge; return how many."""
        if not merges:
            return 0
        self.refresh()
        updates: list[dict[str, Any]] = []
        for old, new in merges.items():
            for hit in helpers.scan(
                self.es, index=self.read_alias, query={"query": {"term": {"story_id": old}}}, _source=["id"]
            ):
                updates.append(
                    {
                        "_op_type": "update",
                        "_index": self.write_alias,
                        "_id": hit["_id"],
                        "doc": {"story_id": new},
                    }
                )
            updates.append(
                {
                    "_op_type": "index",
                    "_index": self.merges_index,
                    "_id": old,
                    "_source": {"story_id": old, "merged_into": new, "merged_at": when},
                }
            )
            for hit in helpers.scan(
                self.es,
                index=self.merges_index,
                query={"query": {"term": {"merged_into": old}}},
                ignore_unavailable=True,
            ):
                updates.append(
                    {
                        "_op_type": "index",
                        "_index": self.merges_index,
                        "_id": hit["_id"],
                        "_source": {**hit["_source"], "merged_into": new},
                    }
                )
        for ok, item in helpers.streaming_bulk(self.es, updates, raise_on_error=False, max_retries=3):
            if not ok:
                raise RuntimeError(f"could not merge stories: {item}")
        self._call(self.es.indices.refresh, index=[self.write_alias, self.merges_index])
        return len(merges)

    def story_merges(self, story_ids: Iterable[str]) -> dict[str, str]:
        """Return {story id: the story it was merged into} for those of these ids that were merged."""
        ids = sorted(set(story_ids))
        if not ids or not self._call(self.es.indices.exists, index=self.merges_index):
            return {}
        body = self._call(self.es.mget, index=self.merges_index, ids=ids)
        return {d["_id"]: d["_source"]["merged_into"] for d in body["docs"] if d.get("found")}

    def story_spans(self, story_ids: Iterable[str]) -> dict[str, tuple[str | None, str | None, str | None]]:
        """Return {story id: (first publication date, last, earliest time an undated member was seen)}
        over the canonical members of those of these stories that have any (transforms/stories.py `Span`)."""
        ids = sorted(set(story_ids))
        out: dict[str, tuple[str | None, str | None, str | None]] = {}
        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            undated = {"bool": {"must_not": [{"exists": {"field": "published_at"}}]}}
            body = self._call(
                self.es.search,
                index=self.read_alias,
                query=canonicals_with("story_id", chunk),
                aggs={
                    "stories": {
                        "terms": {"field": "story_id", "size": len(chunk)},
                        "aggs": {
                            "first": {"min": {"field": "published_at"}},
                            "last": {"max": {"field": "published_at"}},
                            "undated": {"filter": undated, "aggs": {"seen": {"min": {"field": "sort_date"}}}},
                        },
                    }
                },
                size=0,
            )
            for b in body["aggregations"]["stories"]["buckets"]:
                out[b["key"]] = (
                    _iso_ms(b["first"]["value"]),
                    _iso_ms(b["last"]["value"]),
                    _iso_ms(b["undated"]["seen"]["value"]),
                )
        return out

    def story_documents(self, story_id: str) -> list[dict[str, Any]]:
        """Return every document of the story (copies included), oldest first."""
        docs = [
            hit["_source"]
            for hit in helpers.scan(
                self.es, index=self.read_alias, query={"query": {"term": {"story_id": story_id}}}
            )
        ]
        return sorted(docs, key=lambda d: (d.get("sort_date") or "", d["id"]))

    def story_sizes(self, date_from: str | None, date_to: str | None, limit: int) -> list[tuple[str, int]]:
        """Return [(story id, documents)] of the largest stories with a document dated in the period."""
        dates: dict[str, str] = {}
        if date_from:
            dates["gte"] = date_from
        if date_to:
            dates["lte"] = date_to + "T23:59:59.999Z"
        query = {"range": {"sort_date": dates}} if dates else {"exists": {"field": "story_id"}}
        body = self._call(
            self.es.search,
            index=self.read_alias,
            query=query,
            aggs={
                "stories": {
                    "terms": {"field": "story_id", "size": 10_000},
                    "aggs": {"first": {"min": {"field": "sort_date"}}},
                }
            },
            size=0,
        )
        # Largest first, then the newest, then the id: the order of the embedded index.
        buckets = body["aggregations"]["stories"]["buckets"]
        ranked = sorted(buckets, key=lambda b: (-b["doc_count"], -(b["first"]["value"] or 0), b["key"]))
        return [(b["key"], b["doc_count"]) for b in ranked[:limit]]

    # --- reading -----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        filters: dict[str, Any],
        limit: int = 10,
        include_duplicates: bool = False,
        facet_size: int = 10,
        offset: int = 0,
        collapse: str | None = None,
    ) -> dict[str, Any]:
        """Return {total, hits, facets} (connectors/hits.py: the query language, checks and shape).
        With `collapse` (a keyword field: `story_id`), one hit per value of the field, the best-ranked,
        and `groups`: how many values the hits have (a cardinality count, exact to 40,000)."""
        request = search_request(query, filters, limit, include_duplicates, facet_size, offset)
        aggs = self._facet_aggs(request.facet_size)
        extra: dict[str, Any] = {}
        if collapse:
            extra["collapse"] = {"field": collapse}
            aggs["_groups"] = {"cardinality": {"field": collapse, "precision_threshold": 40000}}
        body = self._call(
            self.es.search,
            index=self.read_alias,
            query=self._query(request),
            aggs=aggs,
            **extra,
            highlight={
                "fields": {
                    "body": {
                        "fragment_size": 160,
                        "number_of_fragments": 1,
                        "pre_tags": ["["],
                        "post_tags": ["]"],
                    }
                }
            },
            sort=["_score", {"published_at": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
            size=request.limit,
            from_=request.offset,
            # Sorted hits carry no max_score unless asked: a later page's scores are relative to it.
            track_scores=True,
            track_total_hits=True,
        )
        ranked = bool(request.query.groups)
        hits = []
        for hit in body["hits"]["hits"]:
            src = hit["_source"]
            fragments = (hit.get("highlight") or {}).get("body") or [src.get("body", "")[:160]]
            hits.append(search_hit(src, hit.get("_score") if ranked else None, fragments[0]))
        facets: dict[str, list[list[Any]]] = {}
        groups = (body.get("aggregations") or {}).pop("_groups", None)
        for name, agg in body.get("aggregations", {}).items():
            buckets = agg.get("buckets", [])
            if name == "shared_passages":
                buckets = [{**b, "key": str(b["key"])} for b in agg["links"]["buckets"]]
            if name in DATE_FACETS:
                buckets = [b for b in buckets if b["doc_count"]]
                buckets = sorted(buckets, key=lambda b: b.get("key_as_string", ""), reverse=True)
                facets[name] = [[b.get("key_as_string", str(b["key"]))[:7], b["doc_count"]] for b in buckets]
                facets[name] = facets[name][:DATE_FACET_SIZE]
            else:
                # By count, then value: the order the embedded index gives (and a stable cut at the size).
                buckets = sorted(buckets, key=lambda b: (-b["doc_count"], b["key"]))
                facets[name] = [[b["key"], b["doc_count"]] for b in buckets]
                facets[name] = facets[name][: request.facet_size]
        best = body["hits"].get("max_score") if ranked and request.offset else None
        result = search_result(body["hits"]["total"]["value"], hits, facets, request.offset, best)
        if groups is not None:
            result["groups"] = int(groups["value"])
        return result

    @staticmethod
    def _query(request: SearchRequest) -> dict[str, Any]:
        def phrase(text: str) -> dict[str, Any]:
            return {"multi_match": {"query": text, "type": "phrase", "fields": TEXT_FIELDS}}

        must = [
            phrase(group[0])
            if len(group) == 1
            else {"bool": {"should": [phrase(t) for t in group], "minimum_should_match": 1}}
            for group in request.query.groups
        ]
        must_not = [phrase(text) for text in request.query.excluded]
        if not request.include_duplicates:
            must_not.append({"exists": {"field": "duplicate_of"}})
        filt = [_facet_term(f"entities.{kind}", name) for kind, name in request.entities()]
        if request.source:
            filt.append(_facet_term("source_domain", request.source))
        if request.lang:
            filt.append(_facet_term("language", request.lang))
        if request.story:
            filt.append({"term": {"story_id": request.story}})
        if request.date_from or request.date_to:
            filt.append(_day_range("published_at", request.date_from, request.date_to))
        if request.mentioned_from or request.mentioned_to:
            # Any mentioned date in the range (a range query on a multi-valued field matches on one value).
            filt.append(_day_range("mentioned_dates", request.mentioned_from, request.mentioned_to))
        return {"bool": {"must": must or [{"match_all": {}}], "filter": filt, "must_not": must_not}}

    @staticmethod
    def _facet_aggs(size: int) -> dict[str, Any]:
        # Buckets come from the keyword fields as written (a normalizer is applied to the filters, not
        # here: Elasticsearch would show normalised values, and osmem-server ignores it in aggregations).
        fields = {kind: f"entities.{kind}" for kind in ENTITY_KINDS} | {
            "source": "source_domain",
            "language": "language",
        }
        aggs: dict[str, Any] = {
            name: {
                "terms": {
                    "field": fields[name],
                    "size": size,
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                }
            }
            for name in FACETS
            if name in fields
        }
        # Documents sharing no passage have 0 (or, written before the field, nothing): left out.
        aggs["shared_passages"] = {
            "filter": {"range": {"passage_links": {"gt": 0}}},
            "aggs": {
                "links": {
                    "terms": {
                        "field": "passage_links",
                        "size": size,
                        "order": [{"_count": "desc"}, {"_key": "asc"}],
                    }
                }
            },
        }
        for name, field in (("month", "published_at"), ("mentioned", "mentioned_dates")):
            aggs[name] = {
                "date_histogram": {
                    "field": field,
                    "calendar_interval": "month",
                    "format": "yyyy-MM",
                    "min_doc_count": 1,
                }
            }
        return aggs

    def export(self) -> Iterator[dict[str, Any]]:
        """Yield every document in the contract form."""
        try:
            for hit in helpers.scan(self.es, index=self.read_alias, query={"query": {"match_all": {}}}):
                yield hit["_source"]
        except (ConnectionError, ConnectionTimeout, TransportError, ApiError) as err:
            translated = translate_error(err, self._url())
            if translated is err:
                raise
            raise translated from err

    def stats(self) -> dict[str, Any]:
        """Return document counts by source and language, and the index behind the alias."""
        body = self._call(
            self.es.search,
            index=self.read_alias,
            size=0,
            track_total_hits=True,
            aggs={
                "dups": {"filter": {"exists": {"field": "duplicate_of"}}},
                "source": {"terms": {"field": "source_domain", "size": 50, "missing": "(none)"}},
                "language": {"terms": {"field": "language", "size": 50, "missing": "(unknown)"}},
            },
        )
        aggs = body["aggregations"]
        size = 0
        try:
            store = self.es.indices.stats(index=self.read_alias, metric="store")
            size = store["_all"]["primaries"]["store"]["size_in_bytes"]
        except (ApiError, KeyError, TransportError):
            size = 0
        return {
            "backend": self.name,
            "location": f"{self._url()} alias {self.read_alias} -> {self.current_index()}",
            "size_bytes": size,
            "documents": body["hits"]["total"]["value"],
            "duplicates": aggs["dups"]["doc_count"],
            "by_source": {b["key"]: b["doc_count"] for b in aggs["source"]["buckets"]},
            "by_language": {b["key"]: b["doc_count"] for b in aggs["language"]["buckets"]},
        }


def _facet_term(field: str, value: str) -> dict[str, Any]:
    """A facet filter matching case-insensitively: the `lower` sub-field (its normalizer lowercases the
    value too), or the field as written on an index made before that sub-field existed."""
    return {
        "bool": {
            "should": [{"term": {f"{field}.lower": value}}, {"term": {field: value}}],
            "minimum_should_match": 1,
        }
    }


def _day_range(field: str, first: str | None, last: str | None) -> dict[str, Any]:
    """Return a range filter on `field` from day `first` to day `last`, both included (YYYY-MM-DD)."""
    days: dict[str, str] = {"format": "strict_date"}
    if first:
        days["gte"] = first
    if last:
        # Up to the end of that day: the next day, excluded (no rounding rules involved).
        days["lt"] = (date.fromisoformat(last) + timedelta(days=1)).isoformat()
    return {"range": {field: days}}


def _iso_ms(value: float | None) -> str | None:
    """Return an aggregation's date (milliseconds since the epoch; None when no document has one) as ISO UTC."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
