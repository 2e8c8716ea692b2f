from __future__ import annotations

import pytest

from newsdex.transforms.language import detect_article_language, detect_language, dominant_language

TEXTS = {
    "en": "The government announced on Tuesday that it would raise taxes on large companies to pay for new hospitals and schools across the country.",
    "es": "El gobierno anunció el martes que subirá los impuestos a las grandes empresas para pagar nuevos hospitales y escuelas en todo el país.",
    "de": "Die Regierung kündigte am Dienstag an, die Steuern für große Unternehmen zu erhöhen, um neue Krankenhäuser und Schulen im ganzen Land zu bezahlen.",
    "fr": "Le gouvernement a annoncé mardi qu'il augmenterait les impôts des grandes entreprises pour financer de nouveaux hôpitaux et écoles dans tout le pays.",
    "ru": "Правительство объявило во вторник, что повысит налоги для крупных компаний, чтобы оплатить строительство новых больниц и школ по всей стране.",
    "pl": "Rząd ogłosił we wtorek, że podniesie podatki dla dużych firm, aby sfinansować nowe szpitale i szkoły w całym kraju, co wywołało szeroką debatę.",
    "it": "Il governo ha annunciato martedì che aumenterà le tasse sulle grandi aziende per pagare nuovi ospedali e scuole in tutto il paese nei prossimi anni.",
}


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_detects_language(lang: str) -> None:
    code, confidence = detect_language(TEXTS[lang])
    assert code == lang
    assert confidence is not None and confidence >= 0.7


def test_is_deterministic() -> None:
    results = {detect_language(TEXTS["es"] + " " + TEXTS["it"]) for _ in range(5)}
    assert len(results) == 1


def test_too_short_is_null_not_a_guess() -> None:
    assert detect_language("Breaking news today") == (None, None)


def test_title_and_body_together_decide_a_short_article() -> None:
    title = "Parliament approves new budget after long debate"
    body = "The vote passed by a wide margin on Friday."  # under 12 words on its own
    assert detect_language(body) == (None, None)
    code, confidence = detect_article_language(title, body)
    assert code == "en" and confidence is not None and confidence >= 0.7
    # A body that decides on its own is not second-guessed by its title.
    assert detect_article_language("Le gouvernement", TEXTS["en"])[0] == "en"
    assert detect_article_language(None, body) == (None, None)


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (["en", "en", None, "de"], "en"),
        (["en", "de"], None),  # no majority
        ([None, None], None),
        (["de", None, None, None], "de"),  # the ones that are known decide
    ],
)
def test_dominant_language(languages: list[str | None], expected: str | None) -> None:
    assert dominant_language(languages) == expected
