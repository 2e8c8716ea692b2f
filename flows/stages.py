"""Batch-level stage functions: each applies a pure transform to a batch, with the state it needs.

The Prefect tasks in flows/pipeline.py wrap these one-to-one; keeping them plain functions lets
them run in worker processes and in tests without Prefect.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from ftfy import fix_text

from newsdex.errors import UsageError
from newsdex.transforms import PIPELINE_VERSION
from newsdex.transforms.boilerplate import clean_text
from newsdex.transforms.dates import find_mentioned_dates, parse_datetime, pick_sort_date
from newsdex.transforms.dedup import (
    band_keys,
    canonical_order,
    dedupe_paragraphs,
    exact_key,
    find_duplicates,
    merge_rival_canonicals,
    shingles,
    signature,
)
from newsdex.transforms.entities import (
    NER_COMPONENTS,
    DocEntities,
    canonicalise,
    curated_aliases,
    document_entities,
    prepare_text,
)
from newsdex.transforms.language import dominant_language
from newsdex.transforms.metadata import normalise_document
from newsdex.transforms.passages import (
    BOILERPLATE_DOCS,
    Text,
    find_links,
    key_lines,
    linked_documents,
    merge_links,
    passage_keys,
    split_lines,
    split_passages,
)
from newsdex.transforms.record import Document, RawRecord, Rejection
from newsdex.transforms.stories import (
    SAME_STORY,
    STORY_DAYS,
    Member,
    Span,
    assign_stories,
    doc_span,
    join_spans,
    new_story_id,
    rare_terms,
    resolve,
    similarity,
    story_group,
    story_terms,
    time_gap,
    vector,
)
from newsdex.transforms.text import line_key, short_hash, words

# A short paragraph seen in this many documents of one source is template furniture.
TEMPLATE_MIN_DOCS = 3
TEMPLATE_MAX_WORDS = 60
# A document most of whose paragraphs are "template" is a copy of another, not a template victim.
TEMPLATE_MAX_SHARE = 0.5


class ModelNotInstalled(UsageError, RuntimeError):
    """A configured spaCy model is not installed; the message names the setting."""


# --- clean ---------------------------------------------------------------------------------------
def clean_record(record: RawRecord, max_chars: int) -> Document | Rejection:
    """Return the cleaned document of one record, or its rejection with a reason."""
    where = record.origin()
    payload = record.html if record.html is not None else record.text or ""
    if len(payload) > max_chars:
        return Rejection(
            "clean",
            "too_long",
            f"{len(payload)} characters, over the {max_chars} cap (--max-chars)",
            where,
            record.url,
        )
    doc = Document(
        input=where,
        url=record.url,
        fetched_at=record.fetched_at,
        source_hint=record.source,
        content_key=short_hash(payload, 32),
    )
    if record.html is not None:
        # Imported here: only the workers clean, and trafilatura's stack is 0.4 s of the flow's start.
        from newsdex.transforms.html import ExtractionRejected, extract_html

        try:
            result = extract_html(record.html, record.url)
        except ExtractionRejected as err:
            return Rejection("clean", err.reason, err.detail, where, record.url)
        except (ValueError, RecursionError) as err:
            return Rejection("clean", "unparseable_html", f"{type(err).__name__}: {err}", where, record.url)
        doc.body, doc.title, doc.hints = result.body, result.title, result.hints
        doc.body = dedupe_paragraphs(doc.body)
    else:
        # The text cleaner drops repeats itself (long ones only: a repeated table label stays).
        text_result = clean_text(fix_text(record.text or ""), keep_all=record.clean)
        doc.body, doc.title, doc.hints = text_result.body, text_result.title, text_result.hints
        doc.dropped_lines = dict(Counter(reason for _, reason in text_result.dropped))
        doc.kept_whole = record.clean
    if not doc.body.strip():
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(doc.dropped_lines.items()))
        return Rejection(
            "clean",
            "empty_after_cleaning",
            "no article text left after boilerplate removal"
            + (f" (lines dropped: {dropped})" if dropped else ""),
            where,
            record.url,
        )
    return doc


def normalise(doc: Document, run_started: datetime) -> Document:
    """Return the document with contract metadata filled in; the fetch time bounds plausible dates."""
    fetched = parse_datetime(doc.fetched_at)
    return normalise_document(doc, fetched if isinstance(fetched, datetime) else run_started)


# --- source templates ----------------------------------------------------------------------------
def template_candidates(paragraphs: list[str]) -> dict[int, str]:
    """Return {position: key} of the short paragraphs (the ones that can be template furniture)."""
    return {i: line_key(p) for i, p in enumerate(paragraphs) if 0 < len(words(p)) <= TEMPLATE_MAX_WORDS}


def strip_templates(
    docs: list[Document], stored_counts: Callable[[str, list[str]], dict[str, int]]
) -> tuple[list[Document | Rejection], list[tuple[str, str, str]]]:
    """Remove paragraphs that recur across documents of the same source; return docs and lines to remember.

    Evidence = documents of the source in earlier runs (`stored_counts`) + documents of this batch.
    """
    by_source: dict[str, list[Document]] = {}
    for doc in docs:
        if doc.source_domain:
            by_source.setdefault(doc.source_domain, []).append(doc)
    seen_rows: list[tuple[str, str, str]] = []
    template: dict[str, set[str]] = {}
    candidates: dict[int, dict[int, str]] = {}  # by object: two records of a batch can share an id
    for source, group in by_source.items():
        batch_counts: Counter[str] = Counter()
        for doc in group:
            # A text declared clean is evidence of nothing being furniture: it neither loses lines
            # to templates nor teaches them.
            candidates[id(doc)] = {} if doc.kept_whole else template_candidates(doc.body.split("\n\n"))
            keys = set(candidates[id(doc)].values())
            batch_counts.update(keys)
            seen_rows.extend((source, k, doc.id) for k in keys)
        stored = stored_counts(source, list(batch_counts))
        # Stored counts already include this batch's documents if it ran before (same ids): take the max.
        template[source] = {
            k for k, n in batch_counts.items() if max(n, stored.get(k, 0)) >= TEMPLATE_MIN_DOCS
        }
    out: list[Document | Rejection] = []
    for doc in docs:
        keys = template.get(doc.source_domain or "", set())
        # Template keys come from short paragraphs, so only this document's short ones can match.
        drop = {i for i, key in candidates.get(id(doc), {}).items() if key in keys}
        paragraphs = doc.body.split("\n\n")
        if drop and len(paragraphs) - len(drop) >= len(paragraphs) * (1 - TEMPLATE_MAX_SHARE):
            doc.body = "\n\n".join(p for i, p in enumerate(paragraphs) if i not in drop)
            doc.dropped_lines["source_template"] = doc.dropped_lines.get("source_template", 0) + len(drop)
        if not doc.body.strip():
            out.append(
                Rejection("clean", "empty_after_cleaning", "only source-template text", doc.input, doc.url)
            )
            continue
        out.append(doc)
    return out, seen_rows


# --- dedup ---------------------------------------------------------------------------------------
def dedup_batch(
    docs: list[Document],
    existing_exact: Callable[[list[str]], dict[str, str]],
    band_candidates: Callable[[list[tuple[str, list[str]]]], dict[str, list[tuple[str, str]]]],
) -> tuple[list[Document], Counter[str]]:
    """Mark exact and near-duplicate documents (`duplicate_of`); return the batch and counts by kind.

    Within a batch, a second record with the same id (same canonical URL or same content) replaces
    the first: an id is one document.
    """
    counts: Counter[str] = Counter()
    by_id: dict[str, Document] = {}
    for doc in docs:
        if doc.id in by_id:
            counts["same_id"] += 1
        by_id[doc.id] = doc
    ordered = sorted(by_id.values(), key=lambda d: canonical_order(d.published_at, len(d.body), d.id))
    folded = {doc.id: line_key(doc.body) for doc in ordered}  # shared by the exact key and shingles
    for doc in ordered:
        doc.exact_key = exact_key(doc.body, folded[doc.id])
    indexed = existing_exact([d.exact_key for d in ordered if d.exact_key])
    first_with_key: dict[str, str] = {}
    near_items = []
    shingle_cache: dict[str, set[int]] = {}
    for doc in ordered:
        key = doc.exact_key or ""
        canonical = indexed.get(key)
        if canonical == doc.id:
            canonical = None
        canonical = canonical or first_with_key.get(key)
        if canonical:
            doc.duplicate_of, doc.duplicate_kind = canonical, "exact"
            counts["exact"] += 1
            continue
        first_with_key[key] = doc.id
        doc_shingles = shingles(doc.body, folded=folded[doc.id])
        shingle_cache[doc.id] = doc_shingles
        doc.lsh_bands = band_keys(signature(doc_shingles))
        near_items.append((doc.id, doc_shingles, doc.lsh_bands))

    # One lookup for the whole batch (a single request to a remote index): the index does not
    # change while the batch is deduplicated, so asking up front gives the same candidates.
    candidates = band_candidates([(doc_id, keys) for doc_id, _, keys in near_items]) if near_items else {}

    def lookup(keys: list[str], own_id: str) -> list[tuple[str, set[int]]]:
        # An indexed canonical is often a candidate of several documents of the batch: shingle it once.
        found = candidates.get(own_id, [])
        for cid, body in found:
            if cid not in shingle_cache:
                shingle_cache[cid] = shingles(body)
        return [(cid, shingle_cache[cid]) for cid, _ in found]

    for dup_id, canonical in find_duplicates(near_items, lookup).items():
        doc = by_id[dup_id]
        doc.duplicate_of, doc.duplicate_kind = canonical, "near"
        doc.lsh_bands = []
        counts["near"] += 1
    return ordered, counts


def warm_dedup() -> None:
    """Import the MinHash library and build its permutations (the first signature's fixed cost)."""
    signature([0])


def undo_dedup(docs: list[Document]) -> list[Document]:
    """Return the documents with their dedup marks cleared, to be deduplicated again."""
    for doc in docs:
        doc.duplicate_of = doc.duplicate_kind = doc.exact_key = None
        doc.lsh_bands = []
    return docs


def reconcile_canonicals(
    ids: list[str],
    get: Callable[[list[str]], dict[str, dict[str, Any]]],
    canonicals_sharing: Callable[[list[str], list[str]], list[dict[str, Any]]],
    chunk: int = 200,
) -> dict[str, tuple[str, str]]:
    """Return {id: (canonical id, kind)} merging canonicals of this run with indexed rival canonicals.

    The end-of-run check for concurrent writers (see `merge_rival_canonicals`); chains are followed
    to their end, so every merged document points at a document that stays canonical.
    """
    merged: dict[str, tuple[str, str]] = {}
    unique = list(dict.fromkeys(ids))
    for i in range(0, len(unique), chunk):
        mine = [d for d in get(unique[i : i + chunk]).values() if not d.get("duplicate_of")]
        if not mine:
            continue
        indexed = canonicals_sharing(
            [d["exact_key"] for d in mine if d.get("exact_key")],
            [b for d in mine for b in d.get("lsh_bands") or []],
        )
        merged.update(merge_rival_canonicals(mine, indexed))
    for doc_id, (keep, kind) in list(merged.items()):
        while keep in merged:
            keep = merged[keep][0]
        merged[doc_id] = (keep, kind)
    return merged


# --- enrich --------------------------------------------------------------------------------------
def check_model(name: str) -> None:
    """Raise ModelNotInstalled, naming the setting, unless the spaCy model is installed."""
    import importlib.util
    from pathlib import Path

    if Path(name).exists() or importlib.util.find_spec(name) is not None:
        return
    raise ModelNotInstalled(
        f"spaCy model {name!r} is not installed (setting spacy_models / --spacy-model LANG=NAME)"
    )


@lru_cache(maxsize=8)
def load_model(name: str) -> Any:
    """Return a spaCy pipeline with only what its NER needs, loaded once per process."""
    import spacy

    try:
        config = _model_config(name)
        needed = ner_pipes(config)
        exclude = [p for p in config["nlp"]["pipeline"] if p not in needed]
    except (OSError, ValueError, KeyError, TypeError):
        # An unusual package layout: load it whole and keep NER_COMPONENTS.
        needed, exclude = set(NER_COMPONENTS), []
    try:
        nlp = spacy.load(name, exclude=exclude)
    except OSError as err:
        raise ModelNotInstalled(
            f"spaCy model {name!r} is not installed (setting spacy_models / --spacy-model LANG=NAME): {err}"
        ) from err
    for pipe in list(nlp.pipe_names):
        if pipe not in needed:
            nlp.remove_pipe(pipe)
    return nlp


def _model_config(name: str) -> dict[str, Any]:
    """Return the config of an installed spaCy pipeline (a package name or a directory), unloaded."""
    from pathlib import Path

    import spacy.util

    path = Path(name)
    if not path.exists():
        package = spacy.util.get_package_path(name)
        meta = spacy.util.get_model_meta(package)
        path = package / f"{meta['lang']}_{meta['name']}-{meta['version']}"
    return dict(spacy.util.load_config(path / "config.cfg", interpolate=False))


def ner_pipes(config: dict[str, Any]) -> set[str]:
    """Return the components of a pipeline (its config) that its NER needs: `ner`, and the shared
    embedding components (tok2vec, transformer) that `ner` listens to.

    In spaCy's small and medium English pipelines `ner` has its own embedding layer, so the shared
    `tok2vec` only feeds the tagger and the parser: running it cost a third of NER's time and changed
    no entity (docs/benchmarks.md). A pipeline whose `ner` listens to a shared component keeps it.
    """
    pipeline = list(config["nlp"]["pipeline"])
    components = config["components"]
    if "ner" not in pipeline:
        return {p for p in pipeline if p in NER_COMPONENTS}
    upstream: set[str] = set()
    stack: list[Any] = [components["ner"]]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "upstream" in node and "Listener" in str(node.get("@architectures", "")):
                upstream.add(str(node["upstream"]))
            stack.extend(node.values())
    if "*" in upstream:  # a listener of any upstream embedding component
        upstream |= {
            p for p in pipeline if components.get(p, {}).get("factory") in ("tok2vec", "transformer")
        }
    return {"ner"} | (upstream & set(pipeline))


def enrich_batch(
    docs: list[Document],
    models: dict[str, str],
    aliases: dict[str, dict[str, str]],
    canonical_entities: Callable[[list[str]], dict[str, dict[str, Any]]],
    run_ner: Callable[[str, list[tuple[str, str]]], list[DocEntities]] | None = None,
) -> tuple[list[Document], dict[str, dict[str, str]], Counter[str]]:
    """Add entities and mentioned dates; return docs, learned aliases, and counts (e.g. no_ner_model:es).

    `run_ner(model, [(title, body)])` does the per-document NER (in worker processes in a run;
    in-process by default). Duplicates reuse their canonical's entities (from this batch or the
    index) instead of paying for NER. A language without a configured model gets no entities:
    the English model is never run on other languages.
    """
    counts: Counter[str] = Counter()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for doc in docs:
        doc.mentioned_dates = find_mentioned_dates(doc.body, doc.published_at)
        doc.ingested_at = now
        doc.sort_date = pick_sort_date(doc.published_at, doc.fetched_at, now)
        doc.pipeline_version = PIPELINE_VERSION
    originals = [d for d in docs if not d.duplicate_of]
    by_lang: dict[str, list[Document]] = {}
    assume = _language_fallback(docs)
    for doc in originals:
        lang = doc.language
        if not lang:
            lang, basis = assume(doc)
            if lang:
                counts[f"ner_language_from_{basis}:{lang}"] += 1
        by_lang.setdefault(lang or "", []).append(doc)
    ner = run_ner or ner_in_process
    resolved: list[tuple[Document, DocEntities]] = []
    for lang, group in by_lang.items():
        name = models.get(lang)
        if not name:
            counts[f"no_ner_model:{lang or 'unknown'}"] += len(group)
            continue
        found = ner(name, [(d.title or "", d.body) for d in group])
        resolved.extend(zip(group, found, strict=True))
    merged = {k: dict(v) for k, v in curated_aliases().items()}
    for kind, table in aliases.items():
        merged.setdefault(kind, {}).update(table)
    entities, entity_counts, learned = canonicalise([r for _, r in resolved], merged)
    for (doc, _), ents, ecounts in zip(resolved, entities, entity_counts, strict=True):
        doc.entities, doc.entity_counts = ents, ecounts
    batch_by_id = {d.id: d for d in originals}
    missing = [d.duplicate_of for d in docs if d.duplicate_of and d.duplicate_of not in batch_by_id]
    stored = canonical_entities(missing) if missing else {}
    for doc in docs:
        if not doc.duplicate_of:
            continue
        source = batch_by_id.get(doc.duplicate_of)
        if source is not None:
            doc.entities, doc.entity_counts = source.entities, source.entity_counts
        elif doc.duplicate_of in stored:
            doc.entities = stored[doc.duplicate_of].get("entities") or doc.entities
            doc.entity_counts = stored[doc.duplicate_of].get("entity_counts") or {}
    return docs, learned, counts


def _language_fallback(batch: list[Document]) -> Callable[[Document], tuple[str | None, str]]:
    """Return a function giving the language to run NER in for a document langdetect could not
    decide (short text, a close call): its source's dominant language in the batch, else the
    batch's; with the basis ("source" or "batch") for the run report."""
    sources: dict[str, list[str | None]] = {}
    for doc in batch:
        if doc.source_domain:
            sources.setdefault(doc.source_domain, []).append(doc.language)
    by_source = {source: dominant_language(langs) for source, langs in sources.items()}
    overall = dominant_language(d.language for d in batch)

    def assume(doc: Document) -> tuple[str | None, str]:
        source = by_source.get(doc.source_domain or "")
        return (source, "source") if source else (overall, "batch")

    return assume


def ner_in_process(model: str, pairs: list[tuple[str, str]]) -> list[DocEntities]:
    """Return entities for (title, body) pairs, NER in this process."""
    nlp = load_model(model)
    bodies = nlp.pipe((prepare_text(body) for _, body in pairs), batch_size=16)
    titles = nlp.pipe((prepare_text(title, body) for title, body in pairs), batch_size=32)
    return [document_entities(b, t, body) for b, t, (_, body) in zip(bodies, titles, pairs, strict=True)]


# --- stories -------------------------------------------------------------------------------------
# A story candidate lookup: (own id, rare terms, sort date, publication date or None).
StoryLookup = tuple[str, list[str], str | None, str | None]


def story_batch(
    docs: list[Document],
    story_df: Callable[[list[str]], tuple[int, dict[str, int]]],
    story_candidates: Callable[[list[StoryLookup]], dict[str, list[dict[str, Any]]]],
    canonical_docs: Callable[[list[str]], dict[str, dict[str, Any]]],
    story_merges: Callable[[list[str]], dict[str, str]],
    story_spans: Callable[[list[str]], dict[str, Span]],
) -> tuple[list[Document], dict[str, str], Counter[str]]:
    """Give every document its `story_id`; return the batch, the story merges it implies, and counts.

    Canonicals are compared (transforms/stories.py) with indexed documents found through their rarest
    terms and with the batch's earlier documents; a copy takes its canonical's story.
    """
    originals = [d for d in docs if not d.duplicate_of]
    for doc in originals:
        doc.story_terms = story_terms(doc.title, doc.body, doc.entities)
    for doc in docs:
        if doc.duplicate_of:
            doc.story_terms = []
    n_indexed, df = story_df(sorted({t for d in originals for t in d.story_terms}))
    indexed_ids = set(canonical_docs([d.id for d in originals]))  # re-runs: already counted in df
    # Candidates from the index through the rarest terms another indexed document has.
    lookups = [
        (
            d.id,
            rare_terms(d.story_terms, df, min_df=2 if d.id in indexed_ids else 1),
            d.sort_date,
            d.published_at,
        )
        for d in originals
    ]
    batch_df: Counter[str] = Counter()
    for doc in originals:
        if doc.id not in indexed_ids:
            batch_df.update(set(doc.story_terms))
    for term, n in batch_df.items():
        df[term] = df.get(term, 0) + n
    n_docs = n_indexed + sum(1 for d in originals if d.id not in indexed_ids)
    found = story_candidates(lookups)
    merges_known = story_merges(sorted({c["story_id"] for cs in found.values() for c in cs if c["story_id"]}))
    candidates = {
        own: [
            Member(
                c["id"],
                resolve(c["story_id"] or new_story_id(c["id"]), merges_known),
                c["story_terms"] or [],
                c["sort_date"],
                c.get("published_at"),
            )
            for c in cs
        ]
        for own, cs in found.items()
    }
    members = [Member(d.id, "", d.story_terms, d.sort_date, d.published_at) for d in originals]
    spans = story_spans(sorted({m.story_id for ms in candidates.values() for m in ms}))
    result = assign_stories(members, candidates, df, n_docs, spans=spans)
    counts: Counter[str] = Counter()
    for doc in originals:
        doc.story_id = result.stories[doc.id]
        counts["joined" if doc.id in result.scores else "founded"] += 1
    by_id = {d.id: d for d in originals}
    missing = [d.duplicate_of for d in docs if d.duplicate_of and d.duplicate_of not in by_id]
    stored = canonical_docs(missing) if missing else {}
    for doc in docs:
        if not doc.duplicate_of:
            continue
        canonical = by_id.get(doc.duplicate_of)
        story = canonical.story_id if canonical else (stored.get(doc.duplicate_of) or {}).get("story_id")
        doc.story_id = resolve(story, result.merges) if story else new_story_id(doc.duplicate_of)
    counts["merged"] = len(result.merges)
    return docs, result.merges, counts


def reconcile_stories(
    ids: list[str],
    get: Callable[[list[str]], dict[str, dict[str, Any]]],
    story_df: Callable[[list[str]], tuple[int, dict[str, int]]],
    story_candidates: Callable[[list[StoryLookup]], dict[str, list[dict[str, Any]]]],
    story_merges: Callable[[list[str]], dict[str, str]],
    story_spans: Callable[[list[str]], dict[str, Span]],
    chunk: int = 200,
) -> dict[str, str]:
    """Return {absorbed story: kept story}: stories of this run's documents that the finished index
    shows to be one (a concurrent run's report of the same event, or document frequencies that moved
    while the run went on), so partitioned, concurrent and single runs end with the same stories."""
    merges: dict[str, str] = {}
    unique = list(dict.fromkeys(ids))
    for i in range(0, len(unique), chunk):
        docs = [d for d in get(unique[i : i + chunk]).values() if not d.get("duplicate_of")]
        if not docs:
            continue
        n_docs, df = story_df(sorted({t for d in docs for t in d.get("story_terms") or []}))
        found = story_candidates(
            [
                (
                    d["id"],
                    rare_terms(d.get("story_terms") or [], df, min_df=2),
                    d.get("sort_date"),
                    d.get("published_at"),
                )
                for d in docs
            ]
        )
        more_terms = {t for cs in found.values() for c in cs for t in c.get("story_terms") or []}
        n_docs, df = story_df(sorted(more_terms | {t for d in docs for t in d.get("story_terms") or []}))
        known = story_merges(
            sorted({c["story_id"] for cs in found.values() for c in cs if c.get("story_id")})
        )
        known.update(merges)
        vectors: dict[str, dict[str, float]] = {}
        owns = {d["id"]: resolve(d.get("story_id") or new_story_id(d["id"]), known) for d in docs}
        stories = {
            resolve(c.get("story_id") or new_story_id(c["id"]), known) for cs in found.values() for c in cs
        }
        spans = story_spans(sorted(stories | set(owns.values())))
        for doc in docs:
            mine = _cached_vector(vectors, doc, df, n_docs)
            matched: dict[str, float] = {}
            for other in found.get(doc["id"], []):
                if other["id"] == doc["id"]:
                    continue
                apart = time_gap(
                    doc.get("sort_date"),
                    doc.get("published_at"),
                    other.get("sort_date"),
                    other.get("published_at"),
                )
                if apart > STORY_DAYS:
                    continue
                score = similarity(mine, _cached_vector(vectors, other, df, n_docs))
                if score >= SAME_STORY:
                    story = resolve(other.get("story_id") or new_story_id(other["id"]), known)
                    matched[story] = max(score, matched.get(story, 0.0))
            # The document's story is one with the stories it matches whose spans can be within the
            # days of it (story_group), its own story first.
            own = resolve(owns[doc["id"]], known)
            spans[own] = join_spans(spans.get(own), doc_span(doc.get("sort_date"), doc.get("published_at")))
            order = [own, *sorted((s for s in matched if s != own), key=lambda s: (-matched[s], s))]
            group = story_group(order, spans, STORY_DAYS)
            keep = min(group)
            for drop in group:
                if drop != keep:
                    merges[drop] = known[drop] = keep
            if len(group) > 1:  # a merge: earlier merges into the absorbed stories follow it
                spans[keep] = join_spans(*(spans.get(story) for story in group))
                for absorbed, kept in list(merges.items()):
                    merges[absorbed] = known[absorbed] = resolve(kept, known)
    return {old: resolve(new, merges) for old, new in merges.items()}


def _cached_vector(
    cache: dict[str, dict[str, float]], item: dict[str, Any], df: dict[str, int], n_docs: int
) -> dict[str, float]:
    # A candidate is often a candidate of many documents of the chunk: its vector is made once.
    if item["id"] not in cache:
        cache[item["id"]] = vector(item.get("story_terms") or [], df, n_docs)
    return cache[item["id"]]


# --- shared passages -----------------------------------------------------------------------------
def passages_batch(
    docs: list[Document],
    passage_df: Callable[[list[str]], dict[str, int]],
    passage_candidates: Callable[[list[tuple[str, list[str]]]], dict[str, list[dict[str, Any]]]],
    template_lines: Callable[[list[str]], set[str]] = lambda keys: set(),
) -> tuple[list[Document], dict[str, list[tuple[str, str]]], Counter[str]]:
    """Find the passages each canonical of the batch shares with other canonicals (indexed, or earlier
    in the batch) of other sources; return the batch, the links to add to indexed documents
    ({indexed id: [(its passage text, batch document id)]}), and counts.

    Both ends of a link are recorded: the batch document now, the indexed one through the returned
    links (written by the index in one read-modify-write), so a later document quoting an earlier
    one links both ways and a re-run adds nothing new.
    """
    originals = [d for d in docs if not d.duplicate_of]
    texts: dict[str, Text] = {}
    for doc in docs:
        doc.shared_passages, doc.passage_links, doc.passage_keys = [], 0, []
    # A batch document's paragraphs that are some site's template lines (learned across sources and
    # runs) are not looked up: a link needs the later document's passage to be news text.
    template = template_lines(
        [k for d in originals for k in template_candidates(d.body.split("\n\n")).values()]
    )
    own_keys: dict[str, list[str]] = {}
    for doc in originals:
        every = split_passages(doc.body)
        # The index keeps each key's lines (where it can), for this document's turn as a candidate.
        doc.hints["passage_lines"] = key_lines(every)
        doc.passage_keys = list(doc.hints["passage_lines"])
        mine = split_passages(doc.body, template) if template else every
        # Without its template lines (if it has any) a document looks up fewer keys.
        own_keys[doc.id] = doc.passage_keys if len(mine) == len(every) else passage_keys(mine)
        texts[doc.id] = Text(doc.id, doc.source_domain, mine)
    df = passage_df(sorted({k for d in originals for k in d.passage_keys}))
    batch_df: Counter[str] = Counter(k for d in originals for k in d.passage_keys)
    common = {k for k in batch_df if df.get(k, 0) + batch_df[k] > BOILERPLATE_DOCS}
    lookups = [(d.id, [k for k in own_keys[d.id] if k not in common]) for d in originals]
    found = passage_candidates([(own, keys) for own, keys in lookups if keys])
    additions: dict[str, list[tuple[str, str]]] = {d.id: [] for d in originals}
    partner: dict[str, list[tuple[str, str]]] = {}
    posting: dict[str, list[str]] = {}
    counts: Counter[str] = Counter()
    # The indexed candidates' template lines too: two sites that republished articles of a third carry
    # its standing line, one of them maybe with a typo the other's exact copy shows to be the template.
    bodies = {c["id"]: c.get("body") or "" for cs in found.values() for c in cs if c["id"] not in texts}
    # A candidate the index gives with the lines its looked-up keys stand on (`key_lines`) is read on
    # those lines only, for all the batch's lookups that found it (a pair of near-same passages shares
    # a key: their first, middle or last words, or a winnowed run); else (no lines kept) whole.
    lines: dict[str, set[int] | None] = {}
    for c in (c for cs in found.values() for c in cs if c["id"] in bodies):
        known = lines.get(c["id"], set())
        lines[c["id"]] = None if known is None or c.get("lines") is None else known | set(c["lines"])
    template |= template_lines(
        [k for c_id, on in lines.items() for k in template_candidates(_read_on(bodies[c_id], on)).values()]
    )
    indexed = {
        c_id: Text(
            c_id,
            source,
            split_passages(bodies[c_id], template)
            if lines[c_id] is None
            else split_lines(bodies[c_id], lines[c_id] or (), template),
        )
        for c_id, source in {c["id"]: c.get("source_domain") for cs in found.values() for c in cs}.items()
        if c_id in bodies
    }
    for doc, (_, keys) in zip(originals, lookups, strict=True):
        others = {c["id"]: indexed[c["id"]] for c in found.get(doc.id, []) if c["id"] in indexed}
        for other_id in dict.fromkeys(i for k in keys for i in posting.get(k, ())):
            others.setdefault(other_id, texts[other_id])
        for other_id, pairs in find_links(texts[doc.id], others.values()).items():
            for mine, theirs_list in pairs.items():
                additions[doc.id].append((mine, other_id))
                for theirs in theirs_list:
                    target = additions.get(other_id) if other_id in texts else None
                    (target if target is not None else partner.setdefault(other_id, [])).append(
                        (theirs, doc.id)
                    )
            counts["linked"] += 1
        for key in keys:
            posting.setdefault(key, []).append(doc.id)
    for doc in originals:
        order = [p.text for p in texts[doc.id].passages]
        doc.shared_passages = merge_links([], additions[doc.id], order)
        doc.passage_links = linked_documents(doc.shared_passages)
        counts["documents_with_shared_passages"] += bool(doc.passage_links)
    return docs, partner, counts


def _read_on(body: str, lines: set[int] | None) -> list[str]:
    """Return the paragraphs of a candidate's body that passage matching reads: the given lines, or
    (None) every paragraph."""
    if lines is None:
        return body.split("\n\n")
    every = body.split("\n")
    return [every[n] for n in sorted(lines) if 0 <= n < len(every)]


def reconcile_passages(
    ids: list[str],
    get: Callable[[list[str]], dict[str, dict[str, Any]]],
    passage_df: Callable[[list[str]], dict[str, int]],
    passage_candidates: Callable[[list[tuple[str, list[str]]]], dict[str, list[dict[str, Any]]]],
    template_lines: Callable[[list[str]], set[str]] = lambda keys: set(),
    chunk: int = 200,
) -> dict[str, list[tuple[str, str]]]:
    """Return the links to add ({id: [(its passage text, other id)]}, both ends) for passages this
    run's documents share with documents a concurrent run wrote while they were looked up."""
    links: dict[str, list[tuple[str, str]]] = {}
    unique = list(dict.fromkeys(ids))
    for i in range(0, len(unique), chunk):
        docs = [d for d in get(unique[i : i + chunk]).values() if not d.get("duplicate_of")]
        bodies = {d["id"]: d.get("body") or "" for d in docs}
        keys = {d["id"]: d.get("passage_keys") or [] for d in docs}
        df = passage_df(sorted({k for ks in keys.values() for k in ks}))
        found = passage_candidates(
            [
                (doc_id, [k for k in ks if df.get(k, 0) <= BOILERPLATE_DOCS])
                for doc_id, ks in keys.items()
                if ks
            ]
        )
        for cs in found.values():
            bodies.update({c["id"]: c.get("body") or "" for c in cs})
        template = template_lines(
            [k for body in bodies.values() for k in template_candidates(body.split("\n\n")).values()]
        )
        texts = {
            item_id: Text(item_id, source, split_passages(bodies[item_id], template))
            for item_id, source in [(d["id"], d.get("source_domain")) for d in docs]
            + [(c["id"], c.get("source_domain")) for cs in found.values() for c in cs]
        }
        for doc in docs:
            others = [texts[c["id"]] for c in found.get(doc["id"], [])]
            for other_id, pairs in find_links(texts[doc["id"]], others).items():
                for mine, theirs_list in pairs.items():
                    links.setdefault(doc["id"], []).append((mine, other_id))
                    links.setdefault(other_id, []).extend((theirs, doc["id"]) for theirs in theirs_list)
    return links
