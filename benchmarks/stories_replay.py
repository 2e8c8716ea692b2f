"""Story assignment replayed on one run's documents: how choices of the method move the SemEval figures.

    python -m benchmarks.stories_replay [--export docs.jsonl] [--json out.json]

Runs the SemEval-2022 texts through one `newsdex run` (as `benchmarks.quality stories` does; or takes
the `--output-jsonl` export of such a run), then replays story assignment on the exported documents
batch by batch in the run's order, with the real `flows/stages.py` `story_batch` and
`reconcile_stories` over an in-memory index (postings, document frequencies, merges), and prints
`benchmarks.quality stories`' per-language figures for each variant: names (entities) as evidence in
two forms and weights (docs/quality.md, "Names as evidence"). The replay of the shipped settings
gives the run's own figures (printed first, beside the run's), so a variant's difference is the
variant's. Extraction and NER are not redone: entities are the run's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.quality import DEFAULT_EVAL, _clear_prf, _pearson
from newsdex.flows import stages
from newsdex.transforms import stories
from newsdex.transforms.record import Document
from newsdex.transforms.text import line_key

BATCH = 100
SHOWN = ("en-en", "de-en", "de-de", "es-es", "tr-tr", "pl-pl", "ar-ar", "fr-fr")


class MemoryIndex:
    """The story primitives of an index (flows/stages.py's callables), in memory."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.df: Counter[str] = Counter()
        self.postings: dict[str, set[str]] = {}
        self.merges: dict[str, str] = {}

    def story_df(self, terms: Any) -> tuple[int, dict[str, int]]:
        return len(self.docs), {t: self.df[t] for t in terms if self.df.get(t)}

    def story_candidates(
        self, queries: list[Any], days: float | None = stories.STORY_DAYS, limit: int = stories.MAX_CANDIDATES
    ) -> dict[str, list[dict[str, Any]]]:
        out = {}
        for own, terms, when, published in queries:
            shared: Counter[str] = Counter()
            for term in terms:
                for other in self.postings.get(term, ()):
                    doc = self.docs[other]
                    gap = stories.time_gap(when, published, doc["sort_date"], doc["published_at"])
                    if other != own and (days is None or gap <= days):
                        shared[other] += 1
            ranked = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
            out[own] = [dict(self.docs[i]) for i, _ in ranked]
        return out

    def get(self, ids: Any) -> dict[str, dict[str, Any]]:
        return {i: dict(self.docs[i]) for i in ids if i in self.docs}

    def story_merges(self, ids: Any) -> dict[str, str]:
        return {i: self.merges[i] for i in ids if i in self.merges}

    def story_spans(self, ids: Any) -> dict[str, stories.Span]:
        wanted, out = set(ids), {}
        for doc in self.docs.values():
            if doc["story_id"] in wanted:
                span = stories.doc_span(doc["sort_date"], doc["published_at"])
                out[doc["story_id"]] = stories.join_spans(out.get(doc["story_id"]), span)
        return out

    def write(self, docs: list[Document]) -> None:
        for doc in docs:
            if doc.duplicate_of or doc.id in self.docs:
                continue
            self.docs[doc.id] = {
                "id": doc.id,
                "story_id": doc.story_id,
                "story_terms": list(doc.story_terms),
                "sort_date": doc.sort_date,
                "published_at": doc.published_at,
                "duplicate_of": None,
            }
            for term in set(doc.story_terms):
                self.df[term] += 1
                self.postings.setdefault(term, set()).add(doc.id)

    def merge_stories(self, merges: dict[str, str]) -> None:
        for old, new in merges.items():
            for doc in self.docs.values():
                if doc["story_id"] == old:
                    doc["story_id"] = new
            self.merges[old] = new
            for absorbed, kept in list(self.merges.items()):
                if kept == old:
                    self.merges[absorbed] = new


def replay(exported: list[dict[str, Any]]) -> MemoryIndex:
    """Return the index story assignment builds from the exported documents, batch by batch."""
    index = MemoryIndex()
    unsettled: list[str] = []
    for i in range(0, len(exported), BATCH):
        docs = [
            Document(
                input=d["input"],
                id=d["id"],
                title=d["title"],
                body=d["body"],
                sort_date=d["sort_date"],
                published_at=d["published_at"],
                duplicate_of=d["duplicate_of"],
                entities=d["entities"],
                language=d["language"],
            )
            for d in exported[i : i + BATCH]
        ]
        docs, merges, _, *rest = stages.story_batch(
            docs, index.story_df, index.story_candidates, index.get, index.story_merges, index.story_spans
        )
        unsettled.extend(rest[0] if rest else [d.id for d in docs])
        index.write(docs)
        if merges:
            index.merge_stories(merges)
    check = CHECK(exported, unsettled)
    index.merge_stories(
        stages.reconcile_stories(
            check, index.get, index.story_df, index.story_candidates, index.story_merges, index.story_spans
        )
    )
    return index


def _check_unsettled(exported: list[dict[str, Any]], unsettled: list[str]) -> list[str]:
    # What a run checks at the end (flows/pipeline.py): its unsettled documents (a run alone).
    return unsettled


CHECK: Callable[[list[dict[str, Any]], list[str]], list[str]] = _check_unsettled


def figures(index: MemoryIndex, exported: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return benchmarks.quality stories' figures (P/R/F1 on clear pairs, Pearson) for the replayed index."""
    by_record = {d["input"]["record_id"]: d["duplicate_of"] or d["id"] for d in exported}
    texts = {r["id1"]: r["text1"] for r in rows} | {r["id2"]: r["text2"] for r in rows}
    # Records with the same text are one document (the run indexes it under the last record's id).
    by_text = {line_key(texts[k]): v for k, v in by_record.items() if k in texts}
    for record_id, text in texts.items():
        by_record.setdefault(record_id, by_text.get(line_key(text), ""))

    def score(a: str, b: str) -> float:
        first, second = index.docs.get(a), index.docs.get(b)
        if not first or not second:
            return 0.0
        n, df = index.story_df(set(first["story_terms"]) | set(second["story_terms"]))
        va = stories.vector(first["story_terms"], df, n)
        return stories.similarity(va, stories.vector(second["story_terms"], df, n))

    def story(record_id: str) -> str | None:
        doc = index.docs.get(by_record[record_id])
        return stories.resolve(doc["story_id"], index.merges) if doc else None

    scores = [score(by_record[r["id1"]], by_record[r["id2"]]) for r in rows]
    out: dict[str, Any] = {}
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(f"{row['lang1']}-{row['lang2']}", []).append(i)
    for name, idx in groups.items():
        clear = [i for i in idx if rows[i]["overall"] <= 1.5 or rows[i]["overall"] >= 3.5]
        same = [
            (
                story(rows[i]["id1"]) is not None and story(rows[i]["id1"]) == story(rows[i]["id2"]),
                rows[i]["overall"] <= 1.5,
            )
            for i in clear
        ]
        out[name] = _clear_prf(same) | {
            "pearson": round(_pearson([scores[i] for i in idx], [-rows[i]["overall"] for i in idx]), 4)
        }
    out["all"] = {"pearson": round(_pearson(scores, [-r["overall"] for r in rows]), 4)}
    return out


@contextmanager
def patched(module: Any, **values: Any) -> Iterator[None]:
    """Set module attributes for the duration (story settings are read at call time)."""
    old = {k: getattr(module, k) for k in values}
    for k, v in values.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(module, k, v)


def one_vector(weight: float) -> Callable[[Any, Any, int], dict[str, float]]:
    """Return a `vector` putting names and words in one unit TF-IDF vector, names weighted `weight`."""

    def vector(terms: Any, df: Any, n_docs: int) -> dict[str, float]:
        counts = Counter(terms)
        weights = {
            t: (weight if stories.is_name(t) else 1.0)
            * (1 + math.log(c))
            * math.log((n_docs + 1) / (df.get(t, 0) + 1))
            for t, c in counts.items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        # Marked as words for `similarity`, which then takes the plain cosine of the one vector.
        return {"w" + t if stories.is_name(t) else t: w / norm for t, w in weights.items() if w > 0}

    return vector


def variants() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Yield (name, settings of transforms/stories.py, settings of flows/stages.py) to replay."""
    person_org = ("person", "org")
    every = ("person", "org", "location", "misc")
    yield "shipped", {}, {}
    yield "words only", {"ENTITY_KINDS": ()}, {}
    for kinds, label in ((every, "all kinds"), (person_org, "person+org")):
        for w in (0.5, 1.0):
            vec = one_vector(w)
            yield f"A one vector, {label}, w {w}", {"ENTITY_KINDS": kinds, "vector": vec}, {"vector": vec}
    for kinds, label in (
        (every, "all kinds"),
        (("person", "org", "location"), "person+org+location"),
        (person_org, "person+org"),
        (("location",), "location"),
    ):
        for a in (0.05, 0.1, 0.2):
            yield f"B two scores, {label}, a {a}", {"ENTITY_KINDS": kinds, "ENTITY_WEIGHT": a}, {}


def run_semeval(eval_dir: Path, workers: int, tmp: Path) -> tuple[Path, dict[str, Any]]:
    """Run every SemEval text through one `newsdex run`; return the export and the run's figures."""
    from benchmarks.quality import eval_stories

    return tmp / "docs.jsonl", eval_stories(eval_dir, workers, keep=tmp)


def main(argv: list[str] | None = None) -> int:
    """Replay story assignment with each variant; print per-language figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stories_replay", description=__doc__)
    parser.add_argument("--export", type=Path, help="the --output-jsonl of a SemEval run (else one is run)")
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in (args.eval_dir / "stories" / "semeval2022-train.jsonl").open()]
    with tempfile.TemporaryDirectory(prefix="newsdex-replay-") as tmp:
        export = args.export
        if export is None:
            export, of_run = run_semeval(args.eval_dir, args.workers, Path(tmp))
            run_figures = {k: v["newsdex"] for k, v in of_run.items() if k != "run"}
            print("the run:   ", _line(run_figures), flush=True)
        exported = [json.loads(line) for line in export.open(encoding="utf-8")]
    exported.sort(key=lambda d: d["input"]["line"])
    results = {}
    for name, story_settings, stage_settings in variants():
        with patched(stories, **story_settings), patched(stages, **stage_settings):
            results[name] = figures(replay(exported), exported, rows)
        print(f"{name}: ", _line(results[name]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _line(figures: dict[str, Any]) -> str:
    return (
        " | ".join(
            f"{k} {figures[k]['precision']:.3f}/{figures[k]['recall']:.3f}/{figures[k]['f1']:.3f} r {figures[k]['pearson']:.4f}"
            for k in SHOWN
            if k in figures
        )
        + f" | all r {figures['all']['pearson']:.4f}"
    )


if __name__ == "__main__":
    sys.exit(main())
