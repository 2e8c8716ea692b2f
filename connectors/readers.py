"""Input readers: files, folders and globs of HTML, text, JSONL and WARC, each optionally gzipped.

Every input ends up as exactly one of: a RawRecord, a Rejection (with its reason), or a Skipped
entry (a WARC request/metadata record, a file type we do not read) — so the run report can
account for all of them.
"""

from __future__ import annotations

import fnmatch
import glob
import gzip
import json
import os
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsdex.transforms.decoding import DecodeError, decode_bytes
from newsdex.transforms.record import RawRecord, Rejection

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
WARC_SUFFIXES = {".warc"}
READABLE = HTML_SUFFIXES | TEXT_SUFFIXES | JSONL_SUFFIXES | WARC_SUFFIXES


@dataclass(slots=True)
class Skipped:
    """An input that is deliberately not a document (counted, not rejected)."""

    path: str
    kind: str


Item = RawRecord | Rejection | Skipped


def kind_of(path: Path) -> tuple[str | None, bool]:
    """Return (kind, gzipped) for a path from its suffixes: kind is html, text, jsonl, warc or None."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    if gz:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    for kind, known in (
        ("html", HTML_SUFFIXES),
        ("text", TEXT_SUFFIXES),
        ("jsonl", JSONL_SUFFIXES),
        ("warc", WARC_SUFFIXES),
    ):
        if last in known:
            return kind, gz
    return None, gz


def expand_inputs(specs: Iterable[str]) -> Iterator[Path | Rejection]:
    """Yield the files named by paths, folders (recursive) and globs, in a stable order, each once.

    Recursion (into a folder, through `**`) does not follow symbolic links to folders, as `find`,
    `grep -r` and bash's globstar do not: a link back to an ancestor cannot loop. A link the user
    names, or that a glob part without `**` matches, is followed. A file reached twice (a link to
    it, a folder and a glob over it) is read once, under the first of its paths.
    """
    seen: set[str] = set()
    for spec in specs:
        matches = list(_matches(spec))
        if not matches:
            yield _reject_file(spec, "not_found", "no file matches this pattern")
        for path in matches:
            if path.is_dir():
                # Links after files, so a file and a link to it are read under the file's own path.
                files: Iterable[Path] = sorted(
                    (p for p in path.rglob("*") if p.is_file()), key=lambda p: (p.is_symlink(), p)
                )
            elif path.exists():
                files = [path]
            else:
                yield _reject_file(str(path), "not_found", "no such file or folder")
                continue
            for file in files:
                real = os.path.realpath(file)
                if real not in seen:
                    seen.add(real)
                    yield file


def missing_inputs(specs: Iterable[str]) -> list[str]:
    """Return, for each input that names nothing (no such path, a glob matching nothing), a note saying so."""
    missing = []
    for spec in specs:
        if Path(spec).exists():
            continue
        if not glob.has_magic(spec):
            missing.append(f"{spec} (no such file or folder)")
        elif next(iter(_matches(spec)), None) is None:
            missing.append(f"{spec!r} (no file matches this pattern)")
    return missing


def _matches(spec: str) -> Iterator[Path]:
    """Yield the paths a spec names: itself if it exists (even with glob characters in its name), else
    its glob matches in sorted order (`**` through folders without following links to folders)."""
    if Path(spec).exists() or not glob.has_magic(spec):
        yield Path(spec)
        return
    parts = Path(spec).parts
    if "**" not in parts:
        yield from (Path(p) for p in sorted(glob.glob(spec)))
        return
    first_magic = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    root = Path(*parts[:first_magic]) if first_magic else Path()
    pattern = parts[first_magic:]
    found = []
    for folder, dirs, files in os.walk(root):  # followlinks=False: links to folders are not entered
        here = Path(folder)
        for name in [*files, *(d for d in dirs if not (here / d).is_symlink())]:
            rel = (here / name).relative_to(root)
            if _glob_match(rel.parts, pattern):
                found.append(root / rel)
    yield from sorted(found, key=lambda p: (p.is_symlink(), p))


def _glob_match(names: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Return True when a relative path (its names) matches glob parts by glob.glob's rules: `**` is
    any number of folders, other parts match one name (fnmatch), hidden names only a part with a dot."""
    if not parts:
        return not names
    if parts[0] == "**":
        for skip in range(len(names) + 1):
            if skip and names[skip - 1].startswith("."):
                return False
            if _glob_match(names[skip:], parts[1:]):
                return True
        return False
    if not names or (names[0].startswith(".") and not parts[0].startswith(".")):
        return False
    return fnmatch.fnmatchcase(names[0], parts[0]) and _glob_match(names[1:], parts[1:])


def read_inputs(specs: Iterable[str], max_bytes: int) -> Iterator[Item]:
    """Yield every record, rejection and skipped entry of the named inputs."""
    for entry in expand_inputs(specs):
        if isinstance(entry, Rejection):
            yield entry
            continue
        kind, gz = kind_of(entry)
        if kind is None:
            yield Skipped(str(entry), "unsupported_file_type")
            continue
        yield from read_file(entry, kind, gz, max_bytes)


def read_file(path: Path, kind: str, gz: bool, max_bytes: int) -> Iterator[Item]:
    """Yield the records of one file."""
    name = str(path)
    if kind == "jsonl":
        yield from _read_jsonl(path, gz, max_bytes)
        return
    if kind == "warc":
        yield from _read_warc(path, gz, max_bytes)
        return
    try:
        data = _read_bytes(path, gz, max_bytes)
    except _ReadError as err:
        yield _reject_file(name, err.reason, err.detail)
        return
    try:
        text, _ = decode_bytes(data)
    except DecodeError as err:
        yield _reject_file(name, err.reason, err.detail)
        return
    if kind == "html":
        yield RawRecord(path=name, html=text)
    else:
        yield RawRecord(path=name, text=text)


class _ReadError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _read_bytes(path: Path, gz: bool, max_bytes: int) -> bytes:
    try:
        if path.stat().st_size == 0:
            raise _ReadError("empty", "zero-byte file")
        opener = gzip.open if gz else open
        with opener(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except _ReadError:
        raise
    except (EOFError, zlib.error) as err:
        raise _ReadError("truncated_gzip", f"gzip stream is truncated or corrupt: {err}") from err
    except gzip.BadGzipFile as err:
        raise _ReadError("bad_gzip", f"not a gzip file: {err}") from err
    except OSError as err:
        raise _ReadError(*_os_error(err)) from err
    if len(data) > max_bytes:
        raise _ReadError(
            "too_large", f"larger than the {max_bytes}-byte cap (NEWSDEX max_bytes / --max-bytes)"
        )
    return data


def _read_jsonl(path: Path, gz: bool, max_bytes: int) -> Iterator[Item]:
    name = str(path)
    try:
        raw = gzip.open(path, "rb") if gz else open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as err:
        yield _reject_file(name, *_os_error(err))
        return
    line_no = 0
    try:
        with raw:
            if not gz and os.fstat(raw.fileno()).st_size == 0:
                yield _reject_file(name, "empty", "zero-byte file")
                return
            for line_no, line in enumerate(raw, start=1):
                if not line.strip():
                    continue
                yield _parse_jsonl_line(name, line_no, line, max_bytes)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        yield Rejection(
            "read",
            "truncated_gzip",
            f"gzip stream ends or breaks after line {line_no}: {err}",
            {"path": name, "line": line_no + 1, "offset": None, "record_id": None},
        )
    except OSError as err:
        yield Rejection(
            "read",
            "unreadable",
            f"{type(err).__name__}: {err}",
            {"path": name, "line": line_no + 1, "offset": None, "record_id": None},
        )


def _parse_jsonl_line(name: str, line_no: int, line: bytes, max_bytes: int) -> Item:
    where = {"path": name, "line": line_no, "offset": None, "record_id": None}
    if len(line) > max_bytes:
        return Rejection("read", "too_large", f"line longer than the {max_bytes}-byte cap", where)
    try:
        obj = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return Rejection("read", "malformed_jsonl", f"not a JSON value: {err}", where)
    if not isinstance(obj, dict):
        return Rejection("read", "malformed_jsonl", f"a JSON {type(obj).__name__}, not an object", where)
    record_id = obj.get("id")
    where["record_id"] = str(record_id) if record_id is not None else None
    html, text = obj.get("html"), obj.get("text")
    if not isinstance(html, str) and not isinstance(text, str):
        return Rejection(
            "read",
            "missing_content",
            "record has neither an `html` nor a `text` string",
            where,
            obj.get("url"),
        )
    url = obj.get("url")
    return RawRecord(
        path=name,
        line=line_no,
        record_id=where["record_id"],
        url=url if isinstance(url, str) and url.strip() else None,
        html=html if isinstance(html, str) else None,
        text=text if isinstance(text, str) and not isinstance(html, str) else None,
        source=obj.get("source") if isinstance(obj.get("source"), str) else None,
        fetched_at=obj.get("fetched_at") if isinstance(obj.get("fetched_at"), str) else None,
        clean=obj.get("clean") is True,
    )


def _read_warc(path: Path, gz: bool, max_bytes: int) -> Iterator[Item]:
    """Yield the HTML responses of a WARC file; other records are Skipped, a cut-off record is rejected.

    A .warc.gz is first decompressed (gzip joins the members) into a spooled temporary file, so
    per-record and whole-file compression both work, a truncated gzip stream is noticed, and
    offsets are positions in the decompressed WARC.
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    name = str(path)
    offset = 0
    broken: str | None = None
    try:
        with open(path, "rb") as raw, tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as spool:
            if gz:
                broken = _gunzip(raw, spool)
                spool.seek(0)
                handle: Any = spool
            else:
                handle = raw
            size = os.fstat(handle.fileno()).st_size if not gz else spool.tell() or None
            end = 0
            iterator = ArchiveIterator(handle)
            for record in iterator:
                rec_type = record.rec_type
                ctype = (record.http_headers.get_header("Content-Type") if record.http_headers else "") or ""
                is_html = rec_type == "response" and "html" in ctype.lower()
                stream = record.content_stream()
                data = stream.read(max_bytes + 1) if is_html else b""
                while stream.read(1024 * 1024):
                    pass
                # warcio finds the offset by reading the record to its end: ask after the payload.
                offset = iterator.get_record_offset()
                end = offset + iterator.get_record_length()
                url = record.rec_headers.get_header("WARC-Target-URI")
                where = {
                    "path": name,
                    "line": None,
                    "offset": offset,
                    "record_id": record.rec_headers.get_header("WARC-Record-ID"),
                }
                # A record cut off in its payload leaves bytes unread; one cut off in its headers has
                # lost the mandatory Content-Length.
                if (
                    getattr(record.raw_stream, "limit", 0) > 0
                    or record.rec_headers.get_header("Content-Length") is None
                ):
                    yield Rejection(
                        "read",
                        "truncated_warc",
                        "the record is cut off before its declared length",
                        where,
                        url,
                    )
                    return
                if rec_type != "response":
                    yield Skipped(name, f"warc_{rec_type}")
                    continue
                if not is_html:
                    yield Skipped(name, "warc_non_html")
                    continue
                if len(data) > max_bytes:
                    yield Rejection(
                        "read", "too_large", f"response larger than the {max_bytes}-byte cap", where, url
                    )
                    continue
                charset = ctype.lower().partition("charset=")[2].strip(" ;\"'") or None
                try:
                    text, _ = decode_bytes(data, charset)
                except DecodeError as err:
                    yield Rejection("read", err.reason, err.detail, where, url)
                    continue
                yield RawRecord(
                    path=name,
                    offset=offset,
                    record_id=where["record_id"],
                    url=url,
                    html=text,
                    fetched_at=record.rec_headers.get_header("WARC-Date"),
                )
            # warcio stops quietly at a record cut off inside its headers: compare with the size.
            if not gz and size is not None and size - end > 4 and not broken:
                broken = f"{size - end} bytes after offset {end} are not a complete record"
    except (ArchiveLoadFailed, EOFError, zlib.error, ValueError) as err:
        broken = f"WARC stream breaks after offset {offset}: {type(err).__name__}: {err}"
    except OSError as err:
        yield _reject_file(name, *_os_error(err))
        return
    if broken:
        yield Rejection(
            "read",
            "truncated_warc",
            broken,
            {"path": name, "line": None, "offset": offset, "record_id": None},
        )


def _gunzip(raw: Any, out: Any) -> str | None:
    """Decompress every gzip member of raw into out; return why the stream is broken, or None.

    zlib by hand rather than gzip.open: gzip drops the data of a read call that hits a cut-off
    member, and the records before the cut are worth keeping.
    """
    decomp = zlib.decompressobj(wbits=31)
    started = False
    while chunk := raw.read(1024 * 1024):
        started = True
        while chunk:
            try:
                out.write(decomp.decompress(chunk))
            except zlib.error as err:
                return f"gzip stream is corrupt: {err}"
            if not decomp.eof:
                break
            chunk = decomp.unused_data
            decomp = zlib.decompressobj(wbits=31)
            started = bool(chunk)
    if started and not decomp.eof:
        return "gzip stream is cut off in its last member"
    return None


def _os_error(err: OSError) -> tuple[str, str]:
    """Return (reason, detail) for a file that could not be opened or read."""
    if isinstance(err, FileNotFoundError):
        # Inputs are checked before a run starts: a file missing now vanished while the run went on.
        return "not_found", "the file was removed after the run listed it"
    return "unreadable", f"{type(err).__name__}: {err.strerror or err}"


def _reject_file(path: str, reason: str, detail: str) -> Rejection:
    return Rejection("read", reason, detail, {"path": path, "line": None, "offset": None, "record_id": None})
