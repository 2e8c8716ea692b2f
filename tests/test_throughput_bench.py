"""The throughput benchmark's corpus and floor (the figures themselves are printed, never asserted)."""

from __future__ import annotations

import itertools
import json
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
    counts = build_corpus(EVAL, 2000, 0.0, out)  # text only: 896 BBC articles, then spliced variants
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2000 and counts["text"] == 2000 and counts["html"] == 0
    assert counts["text_variants"] == 2000 - 896
    real, variants = records[:896], records[896:]
    # Each BBC file once (the set itself repeats 24 articles word for word: real copies).
    files = {p.read_bytes().decode("utf-8", "replace") for p in (EVAL / "bbc").glob("*/*.txt")}
    assert {r["text"] for r in real} == files
    # A variant is a new document, not the article it starts with (unless the article it is spliced
    # with is one of the set's own word-for-word copies of it).
    changed = sum(v["text"] != r["text"] for v, r in zip(variants, real * 2, strict=False))
    assert changed > 0.95 * len(variants)
    assert len({v["text"] for v in variants}) > 0.95 * len(variants)


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
