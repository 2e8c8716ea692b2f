from __future__ import annotations

import pytest

from newsdex.transforms.decoding import DecodeError, declared_charset, decode_bytes, sniff_binary

RUSSIAN = "Правительство объявило во вторник о новых налогах для крупных компаний."
GERMAN = "Größere Änderungen für Bürger: die Straßenbahn fährt später."
JAPANESE = "政府は火曜日、大企業への増税を発表した。新しい病院と学校の建設に充てる。"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            ("<html><head><meta charset='windows-1251'></head><body>" + RUSSIAN + "</body></html>").encode(
                "cp1251"
            ),
            RUSSIAN,
        ),
        (
            ("<html><head><meta charset='iso-8859-1'></head><body>" + GERMAN + "</body></html>").encode(
                "latin-1"
            ),
            GERMAN,
        ),
        (
            ("<html><head><meta charset='shift_jis'></head><body>" + JAPANESE + "</body></html>").encode(
                "shift_jis"
            ),
            JAPANESE,
        ),
        (
            "\ufeff<html><body>".encode("utf-16-le") + (RUSSIAN + "</body></html>").encode("utf-16-le"),
            RUSSIAN,
        ),
        (("<html><body>" + RUSSIAN * 3 + "</body></html>").encode("utf-8"), RUSSIAN),
        # A wrong declaration: UTF-8 bytes declared as latin-1 still decode as UTF-8.
        (("<meta charset='iso-8859-1'><p>" + GERMAN + "</p>").encode("utf-8"), GERMAN),
        # No declaration: the detector finds the charset.
        (("<html><body><p>" + RUSSIAN * 4 + "</p></body></html>").encode("cp1251"), RUSSIAN),
    ],
)
def test_decodes_real_charsets(data: bytes, expected: str) -> None:
    text, _ = decode_bytes(data)
    assert expected in text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
        (b"%PDF-1.7\n" + bytes(200), "binary"),
        (b"abc\x00def\x00" + bytes(range(1, 255)) * 3, "binary"),
        (bytes([1, 2, 3, 4, 5, 6, 7, 8, 11, 14, 15, 16]) * 200, "undecodable"),
    ],
)
def test_rejects_what_is_not_text(data: bytes, reason: str) -> None:
    with pytest.raises(DecodeError) as err:
        decode_bytes(data)
    assert err.value.reason == reason


def test_declared_charset() -> None:
    assert (
        declared_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=KOI8-R">') == "koi8-r"
    )
    assert declared_charset(b'<?xml version="1.0" encoding="ISO-8859-2"?>') == "iso-8859-2"
    assert declared_charset(b"<html>") is None


def test_utf16_without_bom_is_not_binary() -> None:
    assert sniff_binary(("<html>" + GERMAN * 5).encode("utf-16-le")) is None
