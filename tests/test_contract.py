"""The document contract is written once: the record type and the index template must agree."""

from __future__ import annotations

from newsdex import mappings
from newsdex.transforms.record import CONTRACT_FIELDS, Document

TEMPLATE = mappings.index_template()


def test_template_describes_exactly_the_contract_fields() -> None:
    properties = TEMPLATE["template"]["mappings"]["properties"]
    assert set(properties) == set(CONTRACT_FIELDS)
    assert TEMPLATE["template"]["mappings"]["dynamic"] == "strict"


def test_document_exports_exactly_the_contract() -> None:
    assert tuple(Document(input={}).to_dict()) == CONTRACT_FIELDS


def test_date_fields_are_dates_and_facets_are_keywords() -> None:
    props = TEMPLATE["template"]["mappings"]["properties"]
    for name in ("published_at", "modified_at", "mentioned_dates", "ingested_at"):
        assert props[name]["type"] == "date"
    for name in ("source_domain", "language", "tags", "duplicate_of", "lsh_bands"):
        assert props[name]["type"] == "keyword"
    assert {k: v["type"] for k, v in props["entities"]["properties"].items()} == dict.fromkeys(
        ("person", "org", "location", "misc"), "keyword"
    )
