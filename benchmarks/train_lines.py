"""Train the learned line model for flattened pages and compare it with the rules' segmentation.

    python -m benchmarks.train_lines [--eval-dir ../shared/eval] [--data build/linedata.jsonl] [--json out.json]

1. Lines and labels from `benchmarks.linedata`: the pages of htmldate/ and trafilatura/ dumped in
   three styles, labelled against the HTML path's article (and trafilatura's own snippets).
   Trained on: the lines the model is asked about at run time (text lines, no furniture vocabulary,
   first occurrence in the dump), each counted with its words (capped at 40).
2. The fit: L2-regularised logistic regression by Newton's method (IRLS) in float64 on
   standardised features, from zero, to convergence (no random state); the second stage on the
   first's log-odds around each line. The threshold maximises the word-weighted F1 on the training
   lines, lowered while F1 stays within 0.002 (recall first).
3. The comparison on fundus/ (40 English news pages with a hand-checked body, never trained on),
   each page in the three dump styles: token precision/recall/F1 of the body, for the rules'
   segmentation (what the package uses), the model trained in 1-2, and the model trained on
   fundus's own gold lines leaving each publisher out in turn (the best case for a learned model:
   labels of the same kind as the measure, pages of the other seven publishers).
Prints the table (docs/quality.md quotes it); asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.linedata import build
from benchmarks.quality import DEFAULT_EVAL, _map

L2 = 1.0
MAX_WEIGHT = 40


def _row_lines(row: dict[str, Any]) -> dict[str, Any]:
    """Return one dump's first-stage features (content order), the lines the rules decide, and the
    positions, labels and word weights of the lines the model is trained on."""
    from benchmarks.linemodel import line_features
    from newsdex.transforms.boilerplate import furniture_reason, metadata_kind, page_head_end, rules_kept
    from newsdex.transforms.text import line_key, words

    lines, labels = row["lines"], row["labels"]
    kinds = [metadata_kind(line) if line else None for line in lines]
    content = [i for i, line in enumerate(lines) if line]
    kept = rules_kept(lines, kinds, content, page_head_end(lines, kinds, content), frozenset())
    features = line_features(lines, kinds, content, kept)
    seen: set[str] = set()
    ruled, train, ys, ws = [], [], [], []
    for k, i in enumerate(content):
        key = line_key(lines[i])
        first = key not in seen
        seen.add(key)
        rule = kinds[i] is not None or bool(furniture_reason(lines[i]))
        ruled.append(rule)
        if labels[i] is None or rule or not first:
            continue
        train.append(k)
        ys.append(float(labels[i]))
        ws.append(float(min(MAX_WEIGHT, max(1, len(words(lines[i]))))))
    return {
        "x": [features[i] for i in content],
        "ruled": ruled,
        "log_words": [math.log1p(len(words(lines[i]))) for i in content],
        "train": train,
        "y": ys,
        "w": ws,
    }


def _stack(parts: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([v for part in parts for v in part[key]], dtype=np.float64)


def _fit_model(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    mean, scale, beta = fit(x, y, w)
    return {
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "bias": round(float(beta[0]), 6),
        "weights": [round(float(v), 6) for v in beta[1:]],
    }


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return means, scales and the weights (bias first) of the weighted L2 logistic regression."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    beta = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], L2)
    reg[0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -40, 40)))
        grad = z.T @ (w * (p - y)) + reg * beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return mean, scale, beta


def pick_threshold(p: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Return the drop threshold: best word-weighted F1, then lowered while recall gains more than
    precision loses."""
    best_t, best_f1 = 0.5, -1.0
    table = []
    for t in np.round(np.arange(0.05, 0.95, 0.025), 3):
        keep = p >= t
        tp = float(np.sum(w * keep * y))
        precision = tp / max(1e-9, float(np.sum(w * keep)))
        recall = tp / max(1e-9, float(np.sum(w * y)))
        f1 = 2 * precision * recall / max(1e-9, precision + recall)
        table.append((float(t), precision, recall, f1))
        if f1 > best_f1:
            best_t, best_f1 = float(t), f1
    for t, _precision, _recall, f1 in reversed([r for r in table if r[0] < best_t]):
        if f1 < best_f1 - 0.002:
            break
        best_t = t
    return best_t


def train(eval_dir: Path, workers: int, data: Path | None = None) -> dict[str, Any]:
    """Return the model trained on the htmldate/ and trafilatura/ dumps (both stages, threshold)."""
    if data is not None and data.exists():
        rows = [json.loads(line) for line in data.open()]
    else:
        rows = build(eval_dir, workers)
    return _fit_rows(_map(_row_lines, rows, workers))


def _fundus_rows(args: tuple[str, str, str, str | None]) -> list[dict[str, Any]]:
    from benchmarks.linedata import dump_styles, label_lines
    from newsdex.transforms.boilerplate import split_lines

    name, page, reference, url = args
    rows = []
    for style, (dump, added) in dump_styles(name, page, url, FUNDUS_TEASERS).items():
        lines = split_lines(dump)
        rows.append(
            {"page": name, "style": style, "dump": dump, "reference": reference, "lines": lines,
             "labels": label_lines(lines, reference, added)}
        )  # fmt: skip
    return rows


# Teaser headlines put into the fundus dumps' furniture style (not from any fundus page).
FUNDUS_TEASERS = [
    "Markets slip as investors weigh the next rate decision",
    "Five things to watch this weekend",
]


def _fit_rows(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a model fitted on the given dumps' lines (both stages and the threshold)."""
    from benchmarks.linemodel import CONTEXT_FEATURES, FEATURES, RULED_LOGIT, _logit, context_features

    parts = [p for p in parts if p["x"] and p["train"]]
    x1 = np.array([p["x"][k] for p in parts for k in p["train"]], dtype=np.float64)
    y, w = _stack(parts, "y"), _stack(parts, "w")
    stage1 = _fit_model(x1, y, w)
    x2 = []
    for part in parts:
        logits = [
            RULED_LOGIT if r else _logit(stage1, v) for v, r in zip(part["x"], part["ruled"], strict=True)
        ]
        context = context_features(logits, part["log_words"])
        x2.extend(part["x"][k] + context[k] for k in part["train"])
    x2a = np.array(x2, dtype=np.float64)
    stage2 = _fit_model(x2a, y, w)
    z = np.array([_logit(stage2, list(v)) for v in x2a])
    return {
        "features": list(FEATURES + CONTEXT_FEATURES),
        "stage1": stage1,
        "stage2": stage2,
        "threshold": pick_threshold(1.0 / (1.0 + np.exp(-z)), y, w),
        "training": {"lines": len(y)},
    }


def compare(eval_dir: Path, workers: int, model: dict[str, Any]) -> dict[str, Any]:
    """Return token P/R/F1 on the fundus dumps (three styles) of the rules, the model, and the
    leave-one-publisher-out model trained on fundus's gold lines."""
    from benchmarks.linemodel import decider
    from benchmarks.quality import _read_gz, token_prf
    from newsdex.transforms.boilerplate import clean_text
    from newsdex.transforms.dedup import dedupe_paragraphs

    gold = json.loads((eval_dir / "fundus" / "ground_truth.json").read_text())
    items = [
        (n, _read_gz(eval_dir / "fundus" / "html" / n), "\n".join(gold[n]["body"]), gold[n].get("url"))
        for n in sorted(gold)
    ]
    rows = [r for part in _map(_fundus_rows, items, workers) for r in part]
    parts = _map(_row_lines, rows, workers)
    publisher = [r["page"].split("_")[0] for r in rows]
    scores: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for held in sorted(set(publisher)):
        fold = _fit_rows([p for p, pub in zip(parts, publisher, strict=True) if pub != held])
        for row, pub in zip(rows, publisher, strict=True):
            if pub != held:
                continue
            for system, decide in (
                ("rules", None),
                ("model", decider(model)),
                ("model_fundus_cv", decider(fold)),
            ):
                body = dedupe_paragraphs(clean_text(row["dump"], line_decider=decide).body)
                scores.setdefault((row["style"], system), []).append(token_prf(body, row["reference"]))
    out: dict[str, Any] = {"pages": len(items)}
    for (style, system), values in sorted(scores.items()):
        out.setdefault(style, {})[system] = {
            k: round(sum(v[n] for v in values) / len(values), 4)
            for n, k in enumerate(("precision", "recall", "f1"))
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument(
        "--data", type=Path, help="lines from `python -m benchmarks.linedata` (else built here)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the model and the figures here")
    args = parser.parse_args(argv)
    model = train(args.eval_dir, args.workers, args.data)
    print(f"trained on {model['training']['lines']} lines, threshold {model['threshold']}")
    result = compare(args.eval_dir, args.workers, model)
    print(f"fundus dumps ({result['pages']} pages): token precision / recall / F1 of the body")
    for style in ("naive", "flattened", "furniture"):
        for system in ("rules", "model", "model_fundus_cv"):
            f = result[style][system]
            print(f"  {style:10} {system:16} {f['precision']:.3f} {f['recall']:.3f} {f['f1']:.3f}")
    if args.json:
        args.json.write_text(json.dumps({"model": model, "fundus": result}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
