"""The throughput benchmark's corpus and floor (the figures themselves are printed, never asserted)."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.throughput import build_corpus, floor_figures, measure_floor, scale_curve
from tests.cli import newsdex
from tests.conftest import EVAL, SAMPLES

pytestmark = pytest.mark.skipif(
    not (EVAL / "bbc").is_dir(), reason=f"evaluation data not found at {EVAL} (set NEWSDEX_EVAL_DIR)"
)


def test_corpus_uses_every_real_document_before_any_variant(tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    counts = build_corpus(EVAL, 2000, 0.0, out, copy_share=0.0)  # text only, no copies
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2000 and counts["text"] == 2000 and counts["html"] == 0
    assert counts["text_variants"] == 2000 - 896 and counts["copies"] == 0
    real, variants = records[:896], records[896:]
    # Each BBC file once (the set itself repeats 24 articles word for word: real copies).
    files = {p.read_bytes().decode("utf-8", "replace") for p in (EVAL / "bbc").glob("*/*.txt")}
    assert {r["text"] for r in real} == files
    # A variant is a new document: its paragraphs after the headline come from other articles, so
    # it shares little text with any one of them.
    assert len({v["text"] for v in variants}) > 0.99 * len(variants)
    for variant in variants[:50]:
        mine = set(variant["text"].split("\n\n")[1:])
        assert max(len(mine & set(r["text"].split("\n\n"))) for r in real) <= max(2, len(mine) // 3)


def test_corpus_keeps_its_share_of_copies_and_languages_as_it_grows(tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    counts = build_corpus(EVAL, 6000, 0.5, out)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len({r["url"] for r in records}) == len({r["id"] for r in records}) == 6000
    generated = records[2200:]  # past the 1,030 pages and 896 articles (half the records each)
    copies = [r for r in generated if r["id"].startswith("c")]
    assert 0.2 < len(copies) / len(generated) < 0.3
    assert counts["copies"] == sum(r["id"].startswith("c") for r in records)
    # An HTML variant keeps its page's language: its paragraphs come from pages in that language.
    lang = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([a-zA-Z]{2})", re.IGNORECASE)
    share = Counter(
        (m.group(1).lower() if (m := lang.search(r["html"][:5000])) else "?")
        for r in generated
        if "html" in r
    )
    assert 0.4 < share["de"] / sum(share.values()) < 0.8 and share["en"] > 0
    # An HTML variant is a new page under its own URL: no trace of its original's URL is left.
    for r in [r for r in generated if "/variant-" in r["url"]][:50]:
        assert r["url"].rsplit("/variant-", 1)[0] not in r["html"].replace(r["url"], "")


def test_floor_splits_ner_into_analysed_documents_and_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    build_corpus(EVAL, 6, 0.0, out)
    first, second = measure_floor(out), measure_floor(out)
    assert len(first[1]) == 6 and sum(first[1]) == pytest.approx(first[0]["spacy_ner"])
    floor = floor_figures([first, second], 2, ner_lines={1, 2, 3})
    assert 0 < floor["spacy_ner_strict"] < floor["spacy_ner"]
    assert floor["spacy_ner"] == pytest.approx((first[0]["spacy_ner"] + second[0]["spacy_ner"]) / 2)
    assert floor["floor_strict_on_all_cores"] < floor["floor_on_all_cores"]
    assert floor["floor_on_all_cores"] == pytest.approx(floor["total_one_core"] / 2)


def test_scale_curve_gives_per_document_costs_between_checkpoints() -> None:
    # Batches of 500 records, each costing 2 ms of dedup and 1 s of wall time more than the last
    # (a stage whose cost grows with the index); the process tree's CPU sampled every batch.
    batches, samples = [], []
    dedup = 0.0
    for k in range(1, 21):
        dedup += 0.001 * 500 * k
        when = 100.0 + k
        batches.append(
            {
                "time": when,
                "records": 500 * k,
                "seconds_by_stage": {"dedup": dedup},
                "flow_thread_cpu_seconds": {"dedup": dedup / 2},
                "worker_cpu_seconds": {"entities_of": 0.05 * 500 * k},
                "flow_process_cpu_seconds": 0.01 * 500 * k,
            }
        )
        samples.append(
            {
                "time": when,
                "tree_cpu": 0.1 * 500 * k,
                "server_cpu": 0.0,
                "rss": 2**30,
                "data_bytes": 2**20 * k,
                "load": 1.5,
            }
        )
    rows = scale_curve(batches, samples, 10_000, start=100.0)
    assert [r["records"] for r in rows] == [1_000, 2_000, 5_000, 10_000]
    assert [r["segment_records"] for r in rows] == [1_000, 1_000, 3_000, 5_000]
    # Dedup per document grows segment by segment; the flat costs stay flat.
    dedup_ms = [r["stage_wall_ms_per_doc"]["dedup"] for r in rows]
    assert dedup_ms == sorted(dedup_ms) and dedup_ms[-1] > 5 * dedup_ms[0]
    assert rows[-1]["stage_flow_thread_cpu_ms_per_doc"]["dedup"] == dedup_ms[-1] / 2
    assert {r["flow_process_cpu_ms_per_doc"] for r in rows} == {10.0}
    assert {r["tree_cpu_ms_per_doc"] for r in rows[1:]} == {100.0}
    assert rows[-1]["data_dir_mib"] == 20.0 and rows[-1]["peak_rss_mib"] == 1024.0
    assert rows[0]["wall_ms_per_doc"] == 2.0  # two batches of 500 in 2 s after the start


def test_run_logs_cumulative_figures_per_batch(tmp_path: Path) -> None:
    # `newsdex run` as a user runs it, with the batch log the scale curve is made of.
    log = tmp_path / "batches.jsonl"
    done = newsdex(
        "--data-dir",
        str(tmp_path / "data"),
        "run",
        "--quiet",
        "--batch-size",
        "2",
        "--report",
        str(tmp_path / "report.json"),
        str(SAMPLES),
        cwd=tmp_path,
        env={"NEWSDEX_BATCH_LOG": str(log)},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["records"] for line in lines] == [2, 4, 5]
    assert (
        lines[-1]["seconds_by_stage"].keys()
        == lines[-1]["flow_thread_cpu_seconds"].keys()
        >= {
            "templates",
            "dedup",
            "enrich",
            "index",
        }
    )
    for earlier, later in itertools.pairwise(lines):
        assert later["time"] >= earlier["time"]
        assert later["flow_process_cpu_seconds"] >= earlier["flow_process_cpu_seconds"]
        assert all(v >= earlier["seconds_by_stage"].get(k, 0) for k, v in later["seconds_by_stage"].items())
    # The log's running figures end where the report's totals are (the report adds the end of run).
    assert lines[-1]["flow_process_cpu_seconds"] <= report["flow_process_cpu_seconds"]
    assert lines[-1]["worker_cpu_seconds"]["entities_of"] == pytest.approx(
        report["worker_cpu_seconds_by_stage"]["enrich"], abs=0.01
    )
    assert set(report["flow_thread_cpu_seconds_by_stage"]) == set(report["seconds_by_stage"])
