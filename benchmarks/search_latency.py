"""Search latency on a 10,000-document embedded index: from the command line and through `newsdex web`.

    python -m benchmarks.search_latency [--docs 10000] [--source-docs 1000] [--repeat 5]
                                        [--requests 30] [--keep DIR] [--reuse DIR] [--json out.json]

1. Builds the index the way a user does: `newsdex run` over `--source-docs` real documents from the
   evaluation data (benchmarks/throughput.py's corpus: HTML pages and BBC articles, NER on), then
   fills it up to `--docs` with copies of those documents under new ids, URLs and publication months
   (each a distinct canonical), so posting lists, facet tables and hit counts grow as in a larger
   index while the run stays affordable on a small machine. (`--source-docs 10000` indexes 10,000
   real and generated documents instead; it takes about a quarter of an hour on two cores.)
2. Command line: `newsdex search` as a subprocess (process start to exit), the median and the
   worst of `--repeat` runs per query; `python -c pass` and `newsdex --version` for the floor.
3. The page's API: `newsdex web` as a process, the median and 95th percentile of `--requests`
   GET /api/search requests per query (after one warm-up), each on a new connection.
Prints figures; never asserts on a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.throughput import build_corpus
from tests.webserver import web_server

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path(os.environ.get("NEWSDEX_EVAL_DIR", ROOT.parent / "shared" / "eval"))


def build_index(data: Path, docs: int, source_docs: int, work: Path) -> dict[str, Any]:
    """Run newsdex over the source documents into `data`, then fill the index up to `docs`."""
    corpus = work / "corpus.jsonl"
    build_corpus(EVAL, source_docs, 0.5, corpus)
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "newsdex", "--data-dir", str(data), "run", "--quiet", str(corpus)],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode not in (0, 3):
        raise SystemExit(f"newsdex run failed ({run.returncode}): {run.stderr}")
    run_seconds = time.perf_counter() - started
    from newsdex.connectors.embedded import EmbeddedIndex
    from newsdex.transforms.record import Document

    index = EmbeddedIndex(data)
    try:
        originals = [d for d in index.export() if not d.get("duplicate_of")]
        indexed = index.stats()["documents"]
        rng = random.Random(7)
        copies: list[Document] = []
        k = 0
        while indexed + k < docs:
            source = dict(originals[k % len(originals)])
            round_ = k // len(originals) + 1
            source.update(
                id=f"{source['id']}-r{round_}",
                url=f"{source.get('url') or 'https://bench.example/'}#r{round_}",
                canonical_url=None,
                exact_key=f"{source.get('exact_key')}-r{round_}",
                lsh_bands=[],
                copies={"count": 0, "sources": [], "ids": []},
                published_at=f"{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T12:00:00Z",
            )
            copies.append(Document.from_dict(source))
            k += 1
            if len(copies) == 500:
                index.write(copies)
                copies = []
        if copies:
            index.write(copies)
        total = index.stats()
    finally:
        index.close()
    return {
        "run_seconds": round(run_seconds, 1),
        "indexed_by_run": indexed,
        "documents": total["documents"],
        "size_mb": round(total["size_bytes"] / 1e6, 1),
    }


def queries(data: Path) -> list[tuple[str, list[str], dict[str, Any]]]:
    """Return (label, CLI arguments, API parameters) for typical searches on this index."""
    from newsdex.connectors.embedded import EmbeddedIndex

    index = EmbeddedIndex(data)
    try:
        facets = index.search("", {}, limit=0)["facets"]
    finally:
        index.close()
    person = facets["person"][0][0] if facets["person"] else "Smith"
    org = facets["org"][0][0] if facets["org"] else "BBC"
    return [
        ("everything (no words; facets over all)", [], {}),
        ("one common word: government", ["government"], {"q": "government"}),
        ("rare word: referendum", ["referendum"], {"q": "referendum"}),
        ('phrase: "prime minister"', ['"prime minister"'], {"q": '"prime minister"'}),
        (
            "OR and exclusion: election OR vote -football",
            ["election OR vote -football"],
            {"q": "election OR vote -football"},
        ),
        (
            f"word + person facet: {person}",
            ["government", "--person", person],
            {"q": "government", "person": person},
        ),
        (
            f"org facet + year: {org}, 2020",
            ["--org", org, "--from", "2020", "--to", "2020"],
            {"org": org, "from": "2020", "to": "2020"},
        ),
        (
            "word, page 5 of 20",
            ["government", "--limit", "20", "--offset", "80"],
            {"q": "government", "size": "20", "page": "5"},
        ),
    ]


def time_cli(data: Path, args: list[str], repeat: int) -> list[float]:
    """Return the wall seconds of `repeat` runs of `newsdex search ARGS`."""
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "newsdex", "--data-dir", str(data), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        out.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise SystemExit(f"newsdex {' '.join(args)} failed: {result.stderr}")
    return out


def time_api(url: str, params: dict[str, Any], requests: int) -> tuple[list[float], int]:
    """Return the seconds of `requests` GET /api/search requests (after a warm-up) and the total hits."""
    target = f"{url}/api/search?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(target, timeout=60) as response:
        total = json.loads(response.read())["total"]
    out = []
    for _ in range(requests):
        started = time.perf_counter()
        with urllib.request.urlopen(target, timeout=60) as response:
            response.read()
        out.append(time.perf_counter() - started)
    return out, total


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f}"


def main(argv: list[str] | None = None) -> int:
    """Build the index (or reuse one), time the searches, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--source-docs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="build the index in this folder and keep it")
    parser.add_argument("--reuse", type=Path, help="time searches on this data folder (no build)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="newsdex-latency-"))
    figures: dict[str, Any] = {}
    if args.reuse:
        data = args.reuse
    else:
        data = args.keep or work / "data"
        figures["index"] = build_index(data, args.docs, args.source_docs, work)
        print(f"index: {figures['index']}", flush=True)
    floor = {
        "python -c pass": time_cli_raw([sys.executable, "-c", "pass"], args.repeat),
        "newsdex --version": time_cli_raw([sys.executable, "-m", "newsdex", "--version"], args.repeat),
        "newsdex stats": time_cli(data, ["stats"], args.repeat),
    }
    print(f"{'command line (process start to exit)':<58} {'median ms':>9} {'worst ms':>9}")
    for label, values in floor.items():
        print(f"  {label:<56} {_ms(values):>9} {max(values) * 1000:9.1f}")
    figures["cli"] = {label: values for label, values in floor.items()}
    cases = queries(data)
    for label, cli_args, _ in cases:
        values = time_cli(data, ["search", *cli_args], args.repeat)
        figures["cli"][label] = values
        print(f"  search {label:<49} {_ms(values):>9} {max(values) * 1000:9.1f}", flush=True)
    print(
        f"{'page API: GET /api/search, newsdex web running':<58} {'median ms':>9} {'p95 ms':>9} {'hits':>6}"
    )
    figures["api"] = {}
    with web_server("--data-dir", str(data), cwd=work) as (url, _):
        for label, _, params in cases:
            values, total = time_api(url, params, args.requests)
            figures["api"][label] = values
            p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
            print(f"  {label:<56} {_ms(values):>9} {p95 * 1000:9.1f} {total:>6}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def time_cli_raw(command: list[str], repeat: int) -> list[float]:
    """Return the wall seconds of `repeat` runs of a command."""
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        out.append(time.perf_counter() - started)
    return out


if __name__ == "__main__":
    sys.exit(main())
