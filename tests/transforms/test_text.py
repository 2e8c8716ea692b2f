from __future__ import annotations

import pytest

from newsdex.transforms.text import line_key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Café Zürich — naïve “Ryabkov’s”", "cafe zurich naive ryabkov s"),
        ("Ру́сский ﬁle ΆΘΗΝΑ", "русскии file αθηνα"),  # stress mark, ligature, Greek tonos
        ("  Plain ASCII, line!  ", "plain ascii line"),
    ],
)
def test_line_key_folds_case_accents_and_punctuation(text: str, key: str) -> None:
    assert line_key(text) == key
