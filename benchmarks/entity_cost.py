"""What the entity post-processing costs next to spaCy's own NER, per document.

    python -m benchmarks.entity_cost [--docs 400] [--rounds 3] [--json out.json]

On real English news (the BBC articles of ../shared/eval, headline as title, the rest as body),
single-process, CPU time (`time.process_time`, so other jobs on the machine count less):
- spaCy: the configured pipeline (tok2vec + ner) over every title and body, as the enrich stage
  runs it (`nlp.pipe`);
- post-processing: everything newsdex adds around it — the case-restored copy of lines in
  capitals (`prepare_text`), mentions with their cues (`mentions_from_spacy`), datelines, the
  document's kinds and name joining (`resolve_document`), and the batch's canonical names
  (`canonicalise`, batches of 100 with the curated aliases).
Both are measured in each round, on the same documents, one after the other; the figure is the
post-processing as a share of spaCy's time (issue 15: at most 15 %). Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from newsdex.flows.settings import DEFAULT_SPACY_MODELS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVAL = Path(os.environ.get("NEWSDEX_EVAL_DIR", ROOT.parent / "shared" / "eval"))
BATCH = 100


def bbc_items(eval_dir: Path, n: int) -> list[tuple[str, str]]:
    """Return up to n (title, body) pairs of BBC articles: first line the headline, then paragraphs."""
    items = []
    for path in sorted((eval_dir / "bbc").glob("*/*.txt"))[:n]:
        title, _, body = path.read_bytes().decode("utf-8", "replace").partition("\n")
        items.append((title.strip(), "\n\n".join(p.strip() for p in body.split("\n") if p.strip())))
    return items


def measure(items: list[tuple[str, str]], model: str) -> dict[str, float]:
    """Return CPU seconds of spaCy and of the post-processing over the items (one round)."""
    from newsdex.flows.stages import load_model
    from newsdex.transforms.entities import canonicalise, curated_aliases, document_entities, prepare_text

    nlp = load_model(model)
    start = time.process_time()
    bodies = [prepare_text(body) for _, body in items]
    titles = [prepare_text(title, body) for title, body in items]
    prepare = time.process_time() - start

    start = time.process_time()
    body_docs = list(nlp.pipe(bodies, batch_size=16))
    title_docs = list(nlp.pipe(titles, batch_size=32))
    spacy_seconds = time.process_time() - start

    start = time.process_time()
    resolved = [
        document_entities(b, t, body) for (_, body), b, t in zip(items, body_docs, title_docs, strict=True)
    ]
    aliases = curated_aliases()
    for i in range(0, len(resolved), BATCH):
        canonicalise(resolved[i : i + BATCH], aliases)
    post = time.process_time() - start + prepare
    return {"spacy_seconds": spacy_seconds, "post_seconds": post}


def main(argv: list[str] | None = None) -> int:
    """Measure and print the post-processing's share of spaCy's time."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.entity_cost", description=__doc__)
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--model", default=DEFAULT_SPACY_MODELS["en"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    items = bbc_items(args.eval_dir, args.docs)
    measure(items[:20], args.model)  # load the model, warm the caches
    rounds = [measure(items, args.model) for _ in range(args.rounds)]
    shares = [r["post_seconds"] / r["spacy_seconds"] for r in rounds]
    out: dict[str, Any] = {
        "documents": len(items),
        "rounds": [
            {
                "spacy_ms_per_doc": round(1000 * r["spacy_seconds"] / len(items), 2),
                "post_ms_per_doc": round(1000 * r["post_seconds"] / len(items), 2),
                "share": round(s, 4),
            }
            for r, s in zip(rounds, shares, strict=True)
        ],
        "share_median": round(statistics.median(shares), 4),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
