"""Turn input bytes into text, or say why they cannot be."""

from __future__ import annotations

import re

import charset_normalizer

BINARY_MAGIC = (
    (b"\x89PNG", "png"),
    (b"%PDF", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"GIF8", "gif"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x7fELF", "elf"),
    (b"\x1f\x8b", "gzip"),
)
BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I)
XML_ENCODING = re.compile(rb"""<\?xml[^>]{0,100}encoding\s*=\s*["']([A-Za-z0-9_.:-]{2,40})""", re.I)
# Control characters that never occur in text (tab, newline, carriage return, form feed excluded).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class DecodeError(ValueError):
    """The bytes are not text we can decode; `reason` is the rejection reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def sniff_binary(data: bytes) -> str | None:
    """Return the kind of binary content the bytes start with, or None if they may be text."""
    for magic, kind in BINARY_MAGIC:
        if data.startswith(magic):
            return kind
    if any(data.startswith(bom) for bom, _ in BOMS):
        return None
    head = data[:8192]
    if b"\x00" in head:
        # UTF-16 without a BOM has a NUL in every other byte; anything else with NULs is binary.
        if head.count(b"\x00") * 3 > len(head) and _looks_utf16(head):
            return None
        return "nul_bytes"
    return None


def _looks_utf16(head: bytes) -> bool:
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return max(even, odd) > 0.4 * (len(head) / 2) and min(even, odd) < 0.05 * (len(head) / 2)


def declared_charset(data: bytes) -> str | None:
    """Return the charset an HTML/XML document declares in its first 4 KiB."""
    head = data[:4096]
    match = META_CHARSET.search(head) or XML_ENCODING.search(head)
    if not match:
        return None
    return match.group(1).decode("ascii", "ignore").lower()


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used); raise DecodeError with a reason when it is not text.

    Order: BOM, strict UTF-8, the declared charset, then charset-normalizer's best guess. UTF-8 goes
    before the declaration because a wrong declaration is common and a non-UTF-8 page almost never
    decodes as valid UTF-8 by accident.
    """
    if not data or not data.strip():
        raise DecodeError("empty", "no content")
    kind = sniff_binary(data)
    if kind:
        raise DecodeError("binary", f"binary content ({kind})")
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return _checked(data.decode(encoding, errors="replace"), encoding)
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    declared = declared or declared_charset(data)
    guess = charset_normalizer.from_bytes(data[:200_000]).best()
    candidates = [c for c in (declared, guess.encoding if guess else None) if c]
    # A single-byte declaration (latin-1 and friends) decodes anything; trust the detector over it
    # when the detector is confident the bytes are another single-byte or multi-byte charset.
    if (
        declared in {"iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}
        and guess is not None
        and guess.encoding not in {"ascii", "utf_8", "latin_1", "cp1252", "iso8859_15"}
        and guess.chaos < 0.1
    ):
        candidates.reverse()
    for encoding in candidates:
        try:
            return _checked(data.decode(encoding), encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    raise DecodeError("undecodable", f"not valid UTF-8 and no charset fits (declared: {declared})")


def _checked(text: str, encoding: str) -> tuple[str, str]:
    if text.count("\ufffd") > max(10, len(text) // 100) or len(CONTROL.findall(text[:20000])) > 50:
        raise DecodeError("undecodable", f"decoded as {encoding} but the result is not text")
    return text, encoding
