"""What stories and shared passages cost per document as the index grows, and how fast `related` answers.

    python -m benchmarks.stories_cost --docs 1000 10000 [--batch-size 100] [--related 50] [--json out.json]
                                      [--reuse paragraphs] [--skip-stories] [--read-whole]

Builds an embedded index of N documents in batches, as the pipeline's index stage would (documents
written directly, no extraction or NER: only the story and passage stages and the index write are
timed): BBC articles (the real vocabulary and its word frequencies) and, past those, articles made of sentences of several BBC
articles (each sentence's words shuffled; 5 % also quote a sentence of an earlier document), dated as a feed brings them: DOCS_PER_DAY a day, so the index grows and a day's volume
stays the same. For each size it prints the story stage's milliseconds per
document over the last batches (the cost at that size: flat = it does not grow with the index), then
times `related` on random documents of the full index. Prints figures; never asserts on a timing.

`--reuse paragraphs` builds the documents past the BBC articles the way the throughput benchmark's
text variants are built (an article's headline and first paragraph, then paragraphs of random other
articles as written, from one of SOURCES sites): heavy text reuse, where every paragraph comes back
in more documents the larger the index, the case where the shared-passages stage costs most
(docs/benchmarks.md, "Scale curve"). `--skip-stories` times the passage stage alone;
`--read-whole` parses every passage candidate whole, as the stage did before the index kept each
key's lines (for comparison: the same links are expected).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.quality import DEFAULT_EVAL, _bbc_articles
from newsdex.connectors.embedded import EmbeddedIndex
from newsdex.connectors.stories import related
from newsdex.flows import stages
from newsdex.transforms.record import Document
from newsdex.transforms.text import short_hash

DOCS_PER_DAY = 200
SOURCES = 40
QUOTE_SHARE = 0.05
# Documents the end-of-run check is timed on (as if a concurrent run had hidden them).
CHECK_SAMPLE = 300


def make_documents(eval_dir: Path, n: int, seed: int = 5, reuse: str = "sentences") -> list[Document]:
    """Return n documents: the BBC articles, then mixes of their sentences (or, with `reuse` =
    "paragraphs", of their paragraphs as written); DOCS_PER_DAY a day."""
    rng = random.Random(seed)
    articles = _bbc_articles(eval_dir)
    paragraphs = [p for _, body in articles for p in body.split("\n\n")[1:]]
    sentences = [s.strip() + "." for _, body in articles for s in body.split(". ") if len(s.split()) > 6]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    docs = []
    for i in range(n):
        # The words of each borrowed sentence in another order: the story terms (a bag of words) are
        # the sentences', but a mix shares no passage with its sources; QUOTE_SHARE of them quote one
        # sentence of an earlier document as written (text reuse at a rate a news feed might have).
        picked = [rng.choice(sentences).split() for _ in range(12)]
        for words in picked:
            rng.shuffle(words)
        mixed = " ".join(" ".join(words) for words in picked)
        if i and rng.random() < QUOTE_SHARE:
            quoted = [s for s in docs[rng.randrange(len(docs))].body.split(". ") if len(s.split()) >= 14]
            if quoted:
                mixed += f' One report said: "{rng.choice(quoted)}."'
        if reuse == "paragraphs":
            own = articles[i % len(articles)][1].split("\n\n")
            count = max(3, len(own) - 2)
            mixed = "\n\n".join(own[:2] + [rng.choice(paragraphs) for _ in range(count)])
        body = articles[i][1] if i < len(articles) else mixed
        title, _, rest = body.partition("\n\n")
        # A feed brings documents at a steady rate: the index grows, the days' volume does not.
        day = start + timedelta(days=i // DOCS_PER_DAY, minutes=rng.randrange(1440))
        doc = Document(input={"path": "bench", "line": i}, id="u" + short_hash(f"{i}", 30), body=rest or body)
        doc.title, doc.sort_date = title[:200], day.strftime("%Y-%m-%dT%H:%M:%SZ")
        doc.published_at = doc.sort_date
        if reuse == "paragraphs":
            doc.source_domain = f"site{i % SOURCES}.example"
        docs.append(doc)
    return docs


def measure(
    eval_dir: Path,
    sizes: list[int],
    batch_size: int,
    related_samples: int,
    reuse: str = "sentences",
    skip_stories: bool = False,
    read_whole: bool = False,
) -> dict[str, Any]:
    """Return per-size story milliseconds per document and `related` latency on the largest index."""
    out: dict[str, Any] = {"batch_size": batch_size, "reuse": reuse, "read_whole": read_whole, "sizes": {}}
    docs = make_documents(eval_dir, max(sizes), reuse=reuse)
    with tempfile.TemporaryDirectory(prefix="newsdex-stories-cost-") as tmp:
        index = EmbeddedIndex(Path(tmp))

        def candidates(queries: list[tuple[str, list[str]]]) -> dict[str, list[dict[str, Any]]]:
            found = index.passage_candidates(queries)
            if read_whole:
                for c in (c for cs in found.values() for c in cs):
                    c["lines"] = None
            return found

        window: list[float] = []
        passage_window: list[float] = []
        write_window: list[float] = []
        done = 0
        try:
            for size in sorted(sizes):
                while done < size:
                    batch = docs[done : min(done + batch_size, size)]
                    looked = index.lookup_mark()
                    started = time.perf_counter()
                    if not skip_stories:
                        batch, merges, _ = stages.story_batch(
                            batch,
                            index.story_df,
                            index.story_candidates,
                            index.get,
                            index.story_merges,
                            index.story_spans,
                        )
                        if merges:
                            index.merge_stories(merges, "bench")
                    window.append((time.perf_counter() - started) / len(batch))
                    started = time.perf_counter()
                    batch, links, _ = stages.passages_batch(batch, index.passage_df, candidates)
                    index.add_passage_links(links)
                    passage_window.append((time.perf_counter() - started) / len(batch))
                    started = time.perf_counter()
                    index.write(batch)
                    write_window.append((time.perf_counter() - started) / len(batch))
                    index.log_batch("bench", looked, [d.id for d in batch])
                    done += len(batch)
                last = window[-5:]
                out["sizes"][size] = {
                    "story_ms_per_doc": round(1000 * statistics.mean(last), 2),
                    "passage_ms_per_doc": round(1000 * statistics.mean(passage_window[-5:]), 2),
                    "index_write_ms_per_doc": round(1000 * statistics.mean(write_window[-5:]), 2),
                    # Over every batch so far (one batch's cost can hide a periodic one, e.g. a
                    # WAL checkpoint): milliseconds per document of the whole build.
                    "passage_ms_per_doc_whole": round(1000 * statistics.mean(passage_window), 2),
                    "index_write_ms_per_doc_whole": round(1000 * statistics.mean(write_window), 2),
                    "documents_with_shared_passages": index.conn.execute(
                        "SELECT COUNT(*) FROM passage_links"
                    ).fetchone()[0],
                    "passage_links": index.conn.execute(
                        "SELECT coalesce(SUM(links), 0) FROM passage_links"
                    ).fetchone()[0],
                    "stories": index.conn.execute(
                        "SELECT COUNT(DISTINCT story_id) FROM documents"
                    ).fetchone()[0],
                }
                figures = out["sizes"][size]
                print(
                    f"{size:>7} docs: stories {figures['story_ms_per_doc']} ms/doc, "
                    f"passages {figures['passage_ms_per_doc']} ms/doc, "
                    f"index write {figures['index_write_ms_per_doc']} ms/doc "
                    f"(whole build: passages {figures['passage_ms_per_doc_whole']}, "
                    f"index write {figures['index_write_ms_per_doc_whole']}) "
                    f"({figures['documents_with_shared_passages']} documents link {figures['passage_links']})",
                    flush=True,
                )
            # The end-of-run check (flows/pipeline.py): which documents a concurrent run may have
            # hidden (none: this is one run), then the cost of checking one such document again
            # (stories and passages), on a sample of CHECK_SAMPLE documents.
            started = time.perf_counter()
            at_risk = index.concurrent_ids("bench")
            out["end_of_run_find_at_risk_s"] = round(time.perf_counter() - started, 3)
            out["end_of_run_documents_at_risk"] = len(at_risk)
            sample = [d.id for d in random.Random(3).sample(docs[:done], min(CHECK_SAMPLE, done))]
            started = time.perf_counter()
            merges = stages.reconcile_stories(
                sample,
                index.get,
                index.story_df,
                index.story_candidates,
                index.story_merges,
                index.story_spans,
            )
            links = stages.reconcile_passages(sample, index.get, index.passage_df, index.passage_candidates)
            out["end_of_run_check_ms_per_document_at_risk"] = round(
                1000 * (time.perf_counter() - started) / len(sample), 2
            )
            out["end_of_run_sample_merges"], out["end_of_run_sample_links"] = len(merges), len(links)
            print(
                f"end-of-run: {len(at_risk)} documents at risk found in {out['end_of_run_find_at_risk_s']} s; "
                f"checking one costs {out['end_of_run_check_ms_per_document_at_risk']} ms",
                flush=True,
            )
            rng = random.Random(7)
            ids = [d.id for d in rng.sample(docs[:done], min(related_samples, done))]
            times = []
            for doc_id in ids:
                started = time.perf_counter()
                related(index, doc_id, 10)
                times.append(time.perf_counter() - started)
            out["related"] = {
                "index_docs": done,
                "samples": len(times),
                "median_s": round(statistics.median(times), 4),
                "max_s": round(max(times), 4),
            }
            print(
                f"related on {done} docs: median {out['related']['median_s']} s, max {out['related']['max_s']} s"
            )
        finally:
            index.close()
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the story stage's cost per document at each size and `related`'s latency."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stories_cost", description=__doc__)
    parser.add_argument("--docs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--related", type=int, default=50, help="how many `related` calls to time")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--reuse", choices=["sentences", "paragraphs"], default="sentences")
    parser.add_argument("--skip-stories", action="store_true", help="time the passage stage alone")
    parser.add_argument("--read-whole", action="store_true", help="parse passage candidates whole")
    args = parser.parse_args(argv)
    figures = measure(
        args.eval_dir,
        args.docs,
        args.batch_size,
        args.related,
        args.reuse,
        args.skip_stories,
        args.read_whole,
    )
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
