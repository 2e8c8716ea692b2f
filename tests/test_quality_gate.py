"""Quality gate: scores on the real evaluation data must not drop below the pinned floors.

Runs the clean-text section and the fast sections of `python -m benchmarks.quality` (fundus extraction, dates,
dedup, stories,
shared passages, entities on the samples, the BBC annotation and wikigold, the last also through `newsdex run`);
the 990-page snippet evaluation runs from the command (docs/quality.md).
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import pytest

from benchmarks import quality
from tests.conftest import EVAL, ROOT

BASELINE = json.loads((ROOT / "benchmarks" / "baseline.json").read_text())
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (EVAL / "fundus").is_dir(), reason=f"evaluation data not found at {EVAL} (set NEWSDEX_EVAL_DIR)"
    ),
]


@cache
def _section(name: str) -> dict[str, Any]:
    return quality.SECTIONS[name](EVAL, os.cpu_count() or 1)


@pytest.mark.parametrize("metric", sorted(BASELINE["floors"]))
def test_metric_holds_its_floor(metric: str) -> None:
    section, *path = metric.split(".")
    value: Any = _section(section)
    for key in path:
        value = value[key]
    floor = BASELINE["floors"][metric]
    assert value >= floor - BASELINE["tolerance"], f"{metric} = {value}, floor {floor}"


def test_clean_text_comes_out_whole() -> None:
    # Issue 14's bar: clean text (wire stories with tables/lists/datelines, BBC, wikigold) keeps
    # >= 99 % of its words on average and no article is rejected; no two inputs share an id.
    result = _section("cleantext")
    for family in ("wire", "bbc", "wikigold", "all"):
        assert result[family]["words_kept"] >= 0.99, (family, result[family])
        assert result[family]["rejected"] == 0, (family, result[family])
    assert result["all"]["ids_shared_by_different_inputs"] == 0
    # The stories with a few sign-up/advertisement lines: those lines go, the story stays.
    assert result["wire_with_furniture"]["words_kept"] >= 0.99
    assert result["wire_with_furniture"]["precision"] >= 0.99
    # Titles: the headline, never the correction notice or the dateline under it.
    assert result["wire"]["title_is_headline"] == 1.0
    assert result["wire_with_furniture"]["title_is_headline"] == 1.0


def test_html_extraction_beats_plain_trafilatura() -> None:
    fundus = _section("fundus")
    assert fundus["newsdex_html"]["f1"] >= fundus["trafilatura_default"]["f1"]


@pytest.mark.parametrize("style", ["naive", "flattened", "furniture"])
def test_text_dump_path_is_within_002_of_html_path(style: str) -> None:
    # Issue 14's bar: the text path on dumps of the pages within 0.02 of the HTML path on the pages,
    # page by page, in every dump style.
    fundus = _section("fundus")
    assert fundus["newsdex_html"]["f1"] - fundus[f"newsdex_text_{style}"]["f1"] <= 0.02


def test_dates_at_least_as_good_as_htmldate() -> None:
    dates = _section("dates")
    assert dates["newsdex"]["accuracy"] >= dates["htmldate_default"]["accuracy"]


@pytest.mark.parametrize("section", ["entities", "entities_bbc", "wikigold"])
def test_entities_no_kind_below_raw_spacy(section: str) -> None:
    result = _section(section)
    for kind in ("person", "org", "location"):
        assert result["newsdex"][kind]["f1"] >= result["raw_spacy"][kind]["f1"], (kind, result)


def test_wikigold_mean_f1_at_least_005_above_raw_spacy() -> None:
    result = _section("wikigold")
    assert result["newsdex"]["mean_f1"] - result["raw_spacy"]["mean_f1"] >= 0.05, result[
        "newsdex_minus_raw_mean_f1"
    ]


def test_wikigold_through_newsdex_run_no_kind_below_raw_spacy() -> None:
    # Until the text path keeps clean text whole (`"clean": true`), the run drops some lines of it.
    result = _section("wikigold")
    for kind in ("person", "org", "location"):
        assert result["newsdex_run"][kind]["f1"] >= result["raw_spacy"][kind]["f1"], kind
    assert result["newsdex_run"]["report"]["outcomes"]["indexed_new"] == 145


def test_stories_beat_the_tfidf_baseline_on_english_pairs() -> None:
    # The baseline's threshold is tuned on the very pairs it is scored on; newsdex's is not.
    result = _section("stories")["en-en"]
    assert result["newsdex"]["f1"] >= result["tfidf_baseline"]["f1"], result
    assert result["newsdex"]["precision"] >= 0.95, result
    assert result["newsdex"]["pearson"] >= result["tfidf_baseline"]["pearson"], result


def test_shared_passages_meet_the_bars() -> None:
    # Issue 22's bars on the BBC-built set: link precision >= 0.95, recall >= 0.9; every link is
    # recorded on both documents, and the copies in the set are duplicates, not links.
    result = _section("passages")
    assert result["precision"] >= 0.95 and result["recall"] >= 0.9, result
    assert result["links_one_way"] == 0, result
    assert result["duplicates"] >= result["copies"], result
