"""The entity benchmark's reader and scorer (benchmarks/ner.py), on a hand-made CoNLL fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import entity_cost
from benchmarks.ner import entity_keys, read_conll, score
from newsdex.transforms.entities import curated_aliases
from tests.conftest import EVAL

# CoNLL-2003 layout (token POS chunk tag, IOB1, -DOCSTART- first), made up for this test.
CONLL = """-DOCSTART- -X- -X- O

SOCCER NN I-NP O
- : O O
VERONA NNP I-NP I-ORG
WIN VB I-VP O
. . O O

VERONA NNP I-NP I-LOC
1997-03-09 CD I-NP O

Midfielder NN I-NP O
Paolo NNP I-NP I-PER
Rossetti NNP I-NP I-PER
scored VBD I-VP O
for IN I-PP O
Verona NNP I-NP I-ORG
in IN I-PP O
the DT I-NP O
U.S. NNP I-NP I-LOC
's POS B-NP O
Rossetti NNP I-NP I-PER
. . O O

-DOCSTART- -X- -X- O

Talks NNS I-NP O
between IN I-PP O
Russia NNP I-NP I-LOC
Ukraine NNP I-NP B-LOC
and CC O O
the DT I-NP O
" " O O
Minsk NNP I-NP I-MISC
Group NNP I-NP I-MISC
" " O O
failed VBD I-VP O
. . O O
"""


def test_read_conll_articles_text_and_gold(tmp_path: Path) -> None:
    path = tmp_path / "fixture.conll"
    path.write_text(CONLL, encoding="utf-8")
    first, second = read_conll(path)
    assert first.text.split("\n\n")[:2] == ["SOCCER - VERONA WIN.", "VERONA 1997-03-09"]
    assert "scored for Verona in the U.S.'s Rossetti." in first.text
    assert first.gold == {
        "person": {"Paolo Rossetti", "Rossetti"},
        "org": {"VERONA", "Verona"},
        "location": {"VERONA", "U.S."},
    }
    # B- starts a second name of the same kind right after the first; MISC is not scored.
    assert second.gold == {"person": set(), "org": set(), "location": {"Russia", "Ukraine"}}
    assert second.text == 'Talks between Russia Ukraine and the "Minsk Group" failed.'


def test_scores_fold_case_aliases_and_join_short_person_names() -> None:
    aliases = curated_aliases()
    gold = [{"person": {"Paolo Rossetti", "Rossetti"}, "org": {"VERONA"}, "location": {"U.S."}}]
    found = [{"person": ["Paolo Rossetti"], "org": ["Verona"], "location": ["United States"]}]
    entity = score(gold, found, aliases)
    assert entity["mean_f1"] == 1.0
    surface = score(gold, found, aliases, "surface")
    assert surface["person"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667}
    # Two people who share a surname: the bare surname belongs to neither.
    assert entity_keys(
        "person", ["Ralf Schumacher", "Michael Schumacher", "Schumacher"], aliases, "entity"
    ) == {
        "ralf schumacher",
        "michael schumacher",
        "schumacher",
    }


def test_ignored_names_count_neither_way() -> None:
    gold = [{"person": set(), "org": {"BBC"}, "location": set(), "ignore": {"Croke Park"}}]
    found = [{"person": [], "org": ["BBC"], "location": ["Croke Park"]}]
    assert score(gold, found, curated_aliases())["location"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


@pytest.mark.skipif(not (EVAL / "bbc").is_dir(), reason=f"evaluation data not found at {EVAL}")
def test_entity_cost_prints_both_times_and_their_ratio(capsys: pytest.CaptureFixture[str]) -> None:
    assert entity_cost.main(["--docs", "4", "--rounds", "1", "--eval-dir", str(EVAL)]) == 0
    out = json.loads(capsys.readouterr().out)
    [only] = out["rounds"]
    assert out["documents"] == 4 and only["spacy_ms_per_doc"] > 0 and only["post_ms_per_doc"] > 0
    assert out["share_median"] == pytest.approx(only["post_ms_per_doc"] / only["spacy_ms_per_doc"], rel=0.02)
