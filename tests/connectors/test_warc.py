"""WARC input: response records with HTML become records; the rest is skipped and counted."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsdex.connectors.readers import Skipped, read_inputs
from newsdex.transforms.record import RawRecord, Rejection

PAGE = (
    "<html><head><title>Talks</title></head><body><article>"
    + "".join(f"<p>Paragraph {i}: diplomats met in Geneva and talked for {i} hours.</p>" for i in range(30))
    + "</article></body></html>"
)


def _warc(gzip_records: bool) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip_records)
    for n in range(2):
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                f"https://news.example/{n}",
                "response",
                payload=io.BytesIO(PAGE.encode()),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": "2022-01-19T18:40:00Z"},
            )
        )
    png = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(
            "https://news.example/a.png", "response", payload=io.BytesIO(b"\x89PNG"), http_headers=png
        )
    )
    req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "news.example")], is_http_request=True)
    writer.write_record(
        writer.create_warc_record(
            "https://news.example/0", "request", payload=io.BytesIO(b""), http_headers=req
        )
    )
    writer.write_record(
        writer.create_warc_record(
            "https://news.example/0",
            "metadata",
            payload=io.BytesIO(b"fetchTimeMs: 12"),
            warc_content_type="application/warc-fields",
        )
    )
    return out.getvalue()


def _items(path: Path) -> list[RawRecord | Rejection | Skipped]:
    return list(read_inputs([str(path)], 10_000_000))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("per-record.warc.gz", _warc(gzip_records=True)),
        ("plain.warc", _warc(gzip_records=False)),
        ("whole-file.warc.gz", gzip.compress(_warc(gzip_records=False))),
    ],
)
def test_response_records_become_documents(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    items = _items(path)
    records = [i for i in items if isinstance(i, RawRecord)]
    assert [r.url for r in records] == ["https://news.example/0", "https://news.example/1"]
    assert all(r.fetched_at == "2022-01-19T18:40:00Z" and r.html == PAGE for r in records)
    assert records[0].offset == 0 and records[1].offset > 0
    assert records[0].record_id and records[0].record_id.startswith("<urn:uuid:")
    assert sorted(i.kind for i in items if isinstance(i, Skipped)) == [
        "warc_metadata",
        "warc_non_html",
        "warc_request",
    ]
    assert not [i for i in items if isinstance(i, Rejection)]


@pytest.mark.parametrize(("name", "gzip_records"), [("cut.warc.gz", True), ("cut.warc", False)])
def test_truncated_last_record_is_a_recorded_rejection(tmp_path: Path, name: str, gzip_records: bool) -> None:
    data = _warc(gzip_records=gzip_records)
    path = tmp_path / name
    path.write_bytes(data[:-60])  # the last (metadata) record is cut off
    items = _items(path)
    assert isinstance(items[-1], Rejection) and items[-1].reason == "truncated_warc"
    assert len([i for i in items if isinstance(i, RawRecord)]) == 2
