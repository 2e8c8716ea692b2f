"""What Kibana 9.0 (the version docker-compose.yml runs) checks on saved objects, and how it builds the
searches of a dashboard's legacy visualizations — written down from Kibana's source so the tests can
check the shipped objects the way Kibana would. No Kibana runs here; docs/kibana.md lists every file
read (elastic/kibana) and what was taken from it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from dateutil.relativedelta import relativedelta

# Every export since 8.8 carries coreMigrationVersion 8.8.0 (core's own migrations stopped there);
# typeMigrationVersion is each type's latest migration in 9.0 — model version N is written "10.N.0".
# index-pattern: migrations to 7.11.0 + convertToMultiNamespaceTypeVersion 8.0.0 (data_views.ts);
# visualization: last migration 8.5.0 (visualization_saved_object_migrations.ts);
# search: model versions 1-5 (model 6, Discover tabs, came after 9.0: schema_legacy.ts);
# dashboard: model versions 1-2 (model 3, collapsible sections, is elastic/kibana#222450, 9.1).
# Real exports agree: kbn_archiver/managed_content.json (index-pattern 8.0.0, visualization 8.5.0),
# kbn_archiver/dashboard/current/multi_data_view_kibana.json (dashboard 10.2.0, core 8.8.0).
CORE_MIGRATION_VERSION = "8.8.0"
LATEST_TYPE_VERSION = {
    "index-pattern": "8.0.0",
    "visualization": "8.5.0",
    "search": "10.5.0",
    "dashboard": "10.2.0",
}
KIBANA_VERSION = "9.0.0"
EXPORT_KEYS = {
    "attributes",
    "coreMigrationVersion",
    "id",
    "managed",
    "references",
    "type",
    "typeMigrationVersion",
}

# (required, allowed) attributes: the create schemas Kibana 9.0 validates an import against
# (validation.ts: validateObjectForCreate; unknown keys are refused).
# dashboard: schema/v1/v1.ts + v2/v2.ts; visualization: the '8.8.0' schema in visualization.ts;
# search: SCHEMA_SEARCH_MODEL_VERSION_5 in schema_legacy.ts; index-pattern registers no schema.
ATTRIBUTES: dict[str, tuple[set[str], set[str] | None]] = {
    "dashboard": (
        {"title"},
        {
            "title",
            "description",
            "kibanaSavedObjectMeta",
            "timeRestore",
            "timeFrom",
            "timeTo",
            "refreshInterval",
            "controlGroupInput",
            "panelsJSON",
            "optionsJSON",
            "hits",
            "version",
        },
    ),
    "visualization": (
        {"title"},
        {
            "title",
            "description",
            "version",
            "kibanaSavedObjectMeta",
            "uiStateJSON",
            "visState",
            "savedSearchRefName",
        },
    ),
    "search": (
        {"title", "kibanaSavedObjectMeta"},
        {
            "title",
            "description",
            "columns",
            "sort",
            "grid",
            "rowHeight",
            "rowsPerPage",
            "hideChart",
            "breakdownField",
            "kibanaSavedObjectMeta",
            "isTextBasedQuery",
            "usesAdHocDataView",
            "timeRestore",
            "timeRange",
            "refreshInterval",
            "viewMode",
            "hideAggregatedPreview",
            "hits",
            "version",
            "sampleSize",
            "headerRowHeight",
            "visContext",
            "density",
        },
    ),
    "index-pattern": ({"title"}, None),
}
# A dashboard panel as Kibana 9.0 saves it (SavedDashboardPanel, schema/v2/types.ts).
PANEL_KEYS = {"type", "gridData", "panelIndex", "embeddableConfig", "panelRefName", "id", "title", "version"}
# Elasticsearch field types a terms / date_histogram / metric aggregation runs on (doc values).
AGGREGATABLE_TYPES = {
    "keyword",
    "constant_keyword",
    "date",
    "date_nanos",
    "boolean",
    "ip",
    "long",
    "integer",
    "short",
    "byte",
    "double",
    "float",
    "half_float",
    "scaled_float",
    "unsigned_long",
}
INTERVALS = {"auto", "ms", "s", "m", "h", "d", "w", "M", "y"}  # buckets/_interval_options.ts


def version_tuple(version: str) -> tuple[int, ...]:
    """Return a semver string as a comparable tuple."""
    return tuple(int(part) for part in version.split("."))


def field_spec(properties: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, list[str]]:
    """Return the mapping of a dotted field path (object properties and multi-fields) and the
    reasons, found on the way down, that make it unusable (`enabled: false` on a parent)."""
    spec: dict[str, Any] | None = {"properties": properties}
    reasons: list[str] = []
    for part in path.split("."):
        if spec is None:
            return None, reasons
        if spec.get("enabled") is False:
            reasons.append("a parent object is `enabled: false` (stored, not indexed)")
        spec = spec.get("properties", {}).get(part) or spec.get("fields", {}).get(part)
    return spec, reasons


def not_aggregatable(properties: dict[str, Any], path: str) -> str | None:
    """Return why a terms/date_histogram on this field would fail or mislead, or None if it works.

    Kibana lists a field for aggregation when field_caps calls it aggregatable (doc values) and
    builds filters from buckets, which needs it searchable too: text, `enabled: false`,
    `index: false` and `doc_values: false` fields are all refused here.
    """
    spec, reasons = field_spec(properties, path)
    if spec is None:
        return "not in the index template"
    if reasons:
        return reasons[0]
    if spec.get("enabled") is False:
        return "`enabled: false` (stored, not indexed)"
    if spec.get("type", "object") not in AGGREGATABLE_TYPES:
        return f"type {spec.get('type', 'object')} has no doc values to aggregate"
    if spec.get("index") is False:
        return "`index: false`: a bucket's filter could not match"
    if spec.get("doc_values") is False:
        return "`doc_values: false`"
    return None


def search_source(obj: dict[str, Any]) -> dict[str, Any]:
    """Return the parsed kibanaSavedObjectMeta.searchSourceJSON of an object."""
    return json.loads(obj["attributes"].get("kibanaSavedObjectMeta", {}).get("searchSourceJSON") or "{}")


def import_errors(objects: list[dict[str, Any]], known: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Return the errors Kibana's import would answer for these objects (empty: all created).

    Follows import/lib/collect_saved_objects.ts (importable types), validate_references.ts
    (missing_references), the document migrator (upgrade_pipeline.ts assertCompatibility: a
    document from a newer Kibana) and validation.ts (the type's create schema).
    """
    known = known or LATEST_TYPE_VERSION
    present = {(o.get("type"), o.get("id")) for o in objects}
    errors: list[dict[str, Any]] = []

    def fail(obj: dict[str, Any], error: dict[str, Any]) -> None:
        errors.append({"type": obj.get("type"), "id": obj.get("id"), "error": error})

    for obj in objects:
        type_ = obj.get("type")
        if type_ not in known:
            fail(obj, {"type": "unsupported_type"})
            continue
        missing = [r for r in obj.get("references", []) if (r.get("type"), r.get("id")) not in present]
        if missing:
            fail(obj, {"type": "missing_references", "references": missing})
            continue
        version = obj.get("typeMigrationVersion")
        if version and version_tuple(version) > version_tuple(known[type_]):
            message = (
                f"Document \"{obj['id']}\" of type '{type_}' belongs to a more recent version of Kibana "
                f"[{version}] when the last known version is [{known[type_]}]."
            )
            fail(obj, {"type": "unknown", "message": message})
            continue
        core = obj.get("coreMigrationVersion")
        if core and version_tuple(core) > version_tuple(KIBANA_VERSION):
            fail(obj, {"type": "unknown", "message": f"coreMigrationVersion {core} is newer than Kibana"})
            continue
        required, allowed = ATTRIBUTES[type_]
        attributes = set(obj.get("attributes", {}))
        if not required <= attributes or (allowed is not None and not attributes <= allowed):
            message = f"[attributes]: missing {sorted(required - attributes)}, unknown {sorted(attributes - (allowed or attributes))}"
            fail(obj, {"type": "unknown", "message": message})
    return errors


# --- the searches a dashboard's legacy visualizations send ------------------------------------
DATEMATH = re.compile(r"^now(?:-(\d+)([yMwdhm]))?$")
UNITS = {"y": "years", "M": "months", "w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def resolve(expression: str, now: datetime) -> datetime:
    """Return the instant of a time picker bound: `now`, `now-10y` (datemath) or an ISO date."""
    match = DATEMATH.match(expression)
    if not match:
        return datetime.fromisoformat(expression.replace("Z", "+00:00")).astimezone(UTC)
    if not match.group(1):
        return now
    return now - relativedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def axis_bound_to_picker(agg: dict[str, Any], time_field: str | None) -> bool:
    """Return True when Kibana bounds a date_histogram's x axis to the time picker.

    data/common/search/aggs/buckets/date_histogram.ts, updateTimeBuckets: the buckets get the
    picker's bounds when the field is the data view's time field or the interval is `auto`;
    vis_types/xy/public/to_ast.ts then passes those bounds as the x axis extent with `enforce: true`,
    so buckets outside the picker's range are not drawn.
    """
    params = agg["params"]
    return params.get("interval", "auto") == "auto" or params.get("field") == time_field


def es_aggregation(agg: dict[str, Any], picker: tuple[datetime, datetime]) -> dict[str, Any]:
    """Return the Elasticsearch aggregation a legacy vis agg is written as (terms, date_histogram)."""
    params = agg["params"]
    if agg["type"] == "terms":
        direction = params.get("order", "desc")
        return {"terms": {"field": params["field"], "size": params["size"], "order": {"_count": direction}}}
    if agg["type"] == "date_histogram":
        interval = params.get("interval", "auto")
        if (
            interval == "auto"
        ):  # TimeBuckets aims at ~50 bars over the picker's range; a month is close enough
            days = (picker[1] - picker[0]).days
            interval = "d" if days <= 60 else "w" if days <= 365 else "M" if days <= 5 * 365 else "y"
        return {
            "date_histogram": {
                "field": params["field"],
                "calendar_interval": f"1{interval}",
                "min_doc_count": params.get("min_doc_count", 1),
                "time_zone": "UTC",
            }
        }
    raise ValueError(f"no translation for a {agg['type']} aggregation")


def dashboard_query(query: dict[str, Any]) -> dict[str, Any]:
    """Return the Elasticsearch query of the KQL the shipped objects use (only that one is known here)."""
    assert query == {"query": "NOT duplicate_of:*", "language": "kuery"}, query
    return {"bool": {"must_not": [{"exists": {"field": "duplicate_of"}}]}}


def visualization_search(
    vis_state: dict[str, Any],
    data_view: dict[str, Any],
    dashboard: dict[str, Any],
    picker: tuple[datetime, datetime],
) -> dict[str, Any]:
    """Return the search body Kibana sends for one legacy visualization on the dashboard: the data
    view's time field filtered to the picker (data/common/query/timefilter/get_time.ts), the
    dashboard's query, and the bucket aggregation (the count metric is the bucket's doc_count)."""
    time_field = data_view["attributes"].get("timeFieldName")
    filters: list[dict[str, Any]] = [dashboard_query(search_source(dashboard)["query"])]
    if time_field:
        bounds = {
            "gte": picker[0].isoformat(),
            "lte": picker[1].isoformat(),
            "format": "strict_date_optional_time",
        }
        filters.append({"range": {time_field: bounds}})
    bucket = next(a for a in vis_state["aggs"] if a["schema"] != "metric")
    return {"size": 0, "query": {"bool": {"filter": filters}}, "aggs": {"b": es_aggregation(bucket, picker)}}


def drawn_buckets(
    buckets: list[dict[str, Any]],
    agg: dict[str, Any],
    time_field: str | None,
    picker: tuple[datetime, datetime],
) -> list[dict[str, Any]]:
    """Return the date_histogram buckets the chart shows: all of them, or only those inside the
    picker's range when Kibana bounds the axis to it (axis_bound_to_picker)."""
    if not axis_bound_to_picker(agg, time_field):
        return buckets
    low, high = (int(t.timestamp() * 1000) for t in picker)
    return [b for b in buckets if low <= b["key"] <= high]
