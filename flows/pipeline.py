"""The main job as a Prefect flow: read → clean → normalise → dedup → enrich → index.

Tasks work on batches of documents; the transforms they apply live in transforms/ and the batch
glue in flows/stages.py. Retries sit on the index write only (the one transient I/O call).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from prefect import Flow, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from newsdex.connectors.embedded import EmbeddedIndex
from newsdex.connectors.readers import Item, Skipped, read_inputs
from newsdex.connectors.rejects import RejectsWriter
from newsdex.connectors.state import RunState
from newsdex.flows import stages, timeline
from newsdex.flows.report import RunReport, interruption
from newsdex.flows.settings import Settings
from newsdex.flows.stopping import StopRequest
from newsdex.flows.workers import (
    Pending,
    PrefectTaskPool,
    WorkerPool,
    crashed_record,
    prepare_record,
    run_ner,
    worker_pool,
)
from newsdex.flows.writer import SinkWriter
from newsdex.transforms import PIPELINE_VERSION
from newsdex.transforms.record import Document, RawRecord, Rejection
from newsdex.transforms.text import short_hash


def open_index(settings: Settings) -> Any:
    """Return the configured sink: Elasticsearch when a URL is set, else the embedded index."""
    if settings.es_url:
        from newsdex.connectors.elastic import ElasticIndex

        return ElasticIndex.from_settings(settings)
    return EmbeddedIndex(settings.data_dir)


def batched(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """Yield lists of up to `size` items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def in_partition(item: Item, partition: tuple[int, int], inputs: list[str]) -> bool:
    """Return True when the item belongs to partition k of n (stable hash of its input position).

    Several workers each run `--partition k/n` over the same inputs and together cover every record
    exactly once; they share dedup state through the index. The position is taken relative to the
    input argument the file came from, so workers that mount one inbox at different paths (other
    machines, containers) still agree on every record's partition.
    """
    k, n = partition
    where = (
        item.input
        if isinstance(item, Rejection)
        else ({"path": item.path} if isinstance(item, Skipped) else item.origin())
    )
    path = relative_to_inputs(str(where.get("path")), inputs)
    key = f"{path}\x1f{where.get('line')}\x1f{where.get('offset')}"
    return int(short_hash(key, 8), 16) % n == k


def relative_to_inputs(path: str, inputs: list[str]) -> str:
    """Return the path relative to the folder of the input argument that names it (else as it is)."""
    for spec in inputs:
        root = Path(spec.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0] or ".")
        if not root.is_dir():
            root = root.parent
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            continue
    return path


def record_key(record: RawRecord, sink: str) -> str:
    """Return a key naming this exact record (sink, input position, content, pipeline version): the
    unit of "already done" across runs."""
    payload = record.html if record.html is not None else record.text or ""
    where = f"{record.path}\x1f{record.line}\x1f{record.offset}\x1f{record.url}"
    if record.clean:
        where += "\x1fclean"  # kept whole: not the document a cleaning run made of it
    return short_hash(f"{PIPELINE_VERSION}\x1f{sink}\x1f{where}\x1f{short_hash(payload, 32)}", 32)


def batch_key(record_keys: list[str]) -> str:
    """Return a key naming this exact batch (the keys of its records, in order)."""
    return short_hash("\x1e".join(record_keys), 32)


@task(name="clean-normalise", cache_policy=NO_CACHE)
def prepare_task(pending: Pending) -> list[Document | Rejection]:
    """Collect a batch cleaned (trafilatura for HTML, the line cleaner for text) and normalised on
    the workers; its work was queued ahead (see `_batches`) and fills the workers' idle time."""
    return pending.result(on_crash=crashed_record)


@task(name="strip-templates", cache_policy=NO_CACHE)
def templates_task(
    docs: list[Document], state: RunState
) -> tuple[list[Document | Rejection], list[tuple[str, str, str]]]:
    """Drop source-template paragraphs learned across documents and runs."""
    return stages.strip_templates(
        docs, lambda source, keys: state.line_doc_counts(source, keys, cap=stages.TEMPLATE_MIN_DOCS)
    )


@task(name="dedup", cache_policy=NO_CACHE)
def dedup_task(docs: list[Document], index: Any) -> tuple[list[Document], Any]:
    """Mark exact and near duplicates against the batch and the index."""
    return stages.dedup_batch(docs, index.existing_exact, index.band_candidates)


@task(name="enrich", cache_policy=NO_CACHE)
def enrich_task(
    docs: list[Document], models: dict[str, str], state: RunState, index: Any, pool: Any
) -> tuple[list[Document], Any]:
    """Add entities (spaCy on every core, canonical names) and mentioned dates."""
    docs, learned, counts = stages.enrich_batch(
        docs, models, state.aliases(), index.get, lambda model, pairs: run_ner(pool, model, pairs)
    )
    state.save_aliases(learned)
    return docs, counts


@task(name="stories", cache_policy=NO_CACHE)
def stories_task(docs: list[Document], index: Any) -> tuple[list[Document], Any]:
    """Give every document its story: join the most similar indexed or batch story, else found one."""
    docs, merges, counts = stages.story_batch(
        docs, index.story_df, index.story_candidates, index.get, index.story_merges, index.story_spans
    )
    if merges:
        index.merge_stories(merges, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return docs, counts


@task(name="passages", cache_policy=NO_CACHE)
def passages_task(docs: list[Document], index: Any, state: RunState) -> tuple[list[Document], Any]:
    """Find the passages the batch shares with other documents; link both ends."""
    docs, links, counts = stages.passages_batch(
        docs,
        index.passage_df,
        index.passage_candidates,
        lambda keys: state.template_lines(keys, stages.TEMPLATE_MIN_DOCS),
    )
    counts["indexed_documents_linked"] = index.add_passage_links(links) if links else 0
    return docs, counts


@task(
    name="index",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    retry_condition_fn=lambda task, run, state: _transient(state),
)
def index_task(docs: list[Document], index: Any) -> dict[str, Any]:
    """Write a batch to the index (retried only for transient failures)."""
    return index.write(docs)


@task(name="reconcile-canonicals", cache_policy=NO_CACHE)
def reconcile_task(ids: list[str], index: Any) -> int:
    """Merge this run's canonicals with rival canonicals another concurrent run wrote; return how many."""
    index.refresh()
    return index.merge_canonicals(stages.reconcile_canonicals(ids, index.get, index.canonicals_sharing))


@task(name="reconcile-passages", cache_policy=NO_CACHE)
def reconcile_passages_task(ids: list[str], index: Any, state: RunState) -> int:
    """Link the passages this run's documents share with a concurrent run's; return documents changed."""
    index.refresh()
    links = stages.reconcile_passages(
        ids,
        index.get,
        index.passage_df,
        index.passage_candidates,
        lambda keys: state.template_lines(keys, stages.TEMPLATE_MIN_DOCS),
    )
    return index.add_passage_links(links) if links else 0


@task(name="reconcile-stories", cache_policy=NO_CACHE)
def reconcile_stories_task(ids: list[str], index: Any) -> int:
    """Merge the stories of this run's documents that the finished index shows to be one; return how many."""
    index.refresh()
    merges = stages.reconcile_stories(
        ids, index.get, index.story_df, index.story_candidates, index.story_merges, index.story_spans
    )
    return index.merge_stories(merges, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")) if merges else 0


def _transient(state: Any) -> bool:
    try:
        state.result()
    except sqlite3.OperationalError as err:
        return "locked" in str(err) or "busy" in str(err)
    except Exception as err:
        return bool(getattr(err, "transient", False))
    return False


class JsonParametersFlow(Flow[..., Any]):
    """A Prefect flow whose parameters (strings, numbers, lists, dicts: plain data) are recorded as
    JSON by the json module.

    Prefect serialises a flow run's parameters with FastAPI's `jsonable_encoder`, and importing
    FastAPI for it took 0.8-2 s of every command's start, before its first batch (py-spy); for plain
    data the result is the same. Anything json cannot take goes to Prefect's own encoder.
    """

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Return the parameters as JSON values (tuples become lists, as with Prefect's encoder)."""
        try:
            return json.loads(json.dumps(parameters))
        except (TypeError, ValueError):
            return super().serialize_parameters(parameters)


def _flow(**options: Any) -> Any:
    return lambda fn: JsonParametersFlow(fn=fn, **options)


@_flow(name="newsdex-run", log_prints=False)
def run_pipeline(
    inputs: list[str],
    data_dir: str | None = None,
    es_url: str | None = None,
    batch_size: int | None = None,
    report_path: str | None = None,
    output_jsonl: str | None = None,
    force: bool = False,
    quiet: bool = True,
    spacy_models: dict[str, str] | None = None,
    max_bytes: int | None = None,
    max_chars: int | None = None,
    workers: int | None = None,
    doc_timeout: float | None = None,
    partition: tuple[int, int] | None = None,
    dask_address: str | None = None,
    keep_all_text: bool | None = None,
) -> dict[str, Any]:
    """Run the whole pipeline over the inputs; return the run report as a dict."""
    timeline.mark("flow_start")
    settings = run_settings(
        data_dir=data_dir,
        es_url=es_url,
        batch_size=batch_size,
        spacy_models=spacy_models,
        max_bytes=max_bytes,
        max_chars=max_chars,
        workers=workers,
        doc_timeout=doc_timeout,
        keep_all_text=keep_all_text,
    )
    started = datetime.now(UTC)
    cpu_at_start = time.process_time()
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    report = RunReport(run_id=run_id, started_at=started.isoformat(), inputs=list(inputs))
    for model in settings.spacy_models.values():
        stages.check_model(model)  # fail fast, naming the setting, before reading anything
    state = RunState(settings.data_dir)
    index = open_index(settings)
    report.backend = index.name
    rejects = RejectsWriter(settings.data_dir, run_id)
    written_ids: list[str] = []
    progress = _progress(quiet)
    source = None if dask_address else _take_primed((list(inputs), settings, partition, force))
    if source is None:
        pool: Any = (
            PrefectTaskPool()
            if dask_address
            else worker_pool(settings.workers, settings.spacy_models.values())
        )
        source = BatchSource(inputs, settings, pool, partition, force)
    pool = source.pool
    writer = SinkWriter(index, lambda docs: _as_task(index_task, docs, index))
    stop = StopRequest()
    batch_log = bool(os.environ.get(timeline.BATCH_LOG))
    try:
        with stop.installed():
            for batch in source:
                stop.check()
                if not report.batches and not report.batches_skipped:
                    timeline.mark("first_batch")
                _run_batch(batch, settings, state, index, pool, writer, rejects, report, written_ids, stop)
                if batch_log:
                    timeline.batch_figures(
                        {
                            "records": report.records,
                            "seconds_by_stage": {k: round(v, 3) for k, v in report.seconds.items()},
                            "flow_thread_cpu_seconds": {k: round(v, 3) for k, v in report.stage_cpu.items()},
                            "worker_cpu_seconds": {
                                k: round(v, 3) for k, v in getattr(pool, "cpu_seconds", {}).items()
                            },
                            "flow_process_cpu_seconds": round(time.process_time() - cpu_at_start, 3),
                            "background_index_seconds": round(writer.background, 3),
                        }
                    )
                if progress:
                    progress(report)
            with _Stopwatch(report, stop)("index"):
                writer.join()
            timeline.mark("last_batch_done")
            with _Stopwatch(report, stop)("reconcile"):
                merged = _as_task(reconcile_task, written_ids, index) if written_ids else 0
            # Passage links are decided as batches are written; only a batch that another run wrote
            # beside (each written after the other looked: neither saw the other) can have missed a
            # document, so only its documents are checked again against the finished index. Stories
            # are checked again for every document of the run: early documents joined with the
            # document frequencies of a smaller index, and re-scoring them with the final ones merges
            # stories a run alone would otherwise leave apart (SemEval de-en F1 0.67 without it, 0.78
            # with it; docs/benchmarks.md).
            at_risk = index.concurrent_ids(run_id) if written_ids else []
            report.notes["documents_checked_at_end"] += len(at_risk)
            with _Stopwatch(report, stop)("stories"):
                stories_merged = _as_task(reconcile_stories_task, written_ids, index) if written_ids else 0
            if stories_merged:
                report.notes["stories_merged_at_end"] += stories_merged
            with _Stopwatch(report, stop)("passages"):
                linked = _as_task(reconcile_passages_task, at_risk, index, state) if at_risk else 0
            if linked:
                report.notes["passages_linked_at_end"] += linked
        if merged:
            report.notes["canonicals_merged_with_concurrent_runs"] += merged
        index.finish()
        report.status = "completed_with_rejections" if report.rejected else "completed"
    except Exception as err:
        report.status = "failed"
        report.error = f"{type(err).__name__}: {err}"
        raise
    except BaseException as err:
        # SIGINT (KeyboardInterrupt) or SIGTERM (Prefect's TerminationSignal, or the CLI's own): stop
        # now. Batches not yet marked done are redone by the next run; what is indexed stays.
        report.status = "interrupted"
        report.error = interruption(err)
        report.interrupted = report.records - report.accounted
        pool.terminate()
        raise
    finally:
        report.finished_at = datetime.now(UTC).isoformat()
        report.workers = pool.size
        report.worker_seconds.update(
            {stage: pool.cpu_seconds[fn] for stage, fn in WORKER_STAGES.items() if fn in pool.cpu_seconds}
        )
        writer.close()
        report.background_seconds["index"] += writer.background
        report.flow_cpu_seconds = time.process_time() - cpu_at_start
        pool.close()
        source.close()
        rejects.close()
        if progress:
            sys.stderr.write("\n")
        if report_path:
            report.write(Path(report_path.replace("{run_id}", run_id)))
        if output_jsonl and report.status.startswith("completed"):
            _write_jsonl(Path(output_jsonl), index, written_ids)
        index.close()
        state.close()
        timeline.mark("flow_end")
    return report.to_dict()


# How many batches' cleaning is queued on the workers ahead of the batch the flow is on.
LOOKAHEAD = 2
# Report names of the worker functions' CPU seconds.
WORKER_STAGES = {"clean_normalise": "prepare_record", "enrich": "entities_of"}


@dataclass(slots=True)
class Batch:
    """One batch of the input: the records to process with their keys and pending cleaning, the
    document ids of records an earlier run finished, plus the reading-stage skips and rejections
    among its items (counted by the flow)."""

    records: list[RawRecord]
    record_keys: list[str] = field(default_factory=list)
    key: str = ""
    done: list[str | None] = field(default_factory=list)
    pending: Pending | None = None
    skipped: list[Skipped] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


class BatchSource:
    """The run's input as batches, the cleaning of each queued LOOKAHEAD batches ahead of the flow.

    Cleaning is per document and needs no shared state, so it runs ahead at low priority: while the
    flow's process strips templates, dedups and indexes batch k, the workers clean k+1 and k+2, and
    NER of batch k (urgent) overtakes them. Records an earlier run finished (by key, in the state) are
    not cleaned again.
    """

    def __init__(
        self,
        inputs: list[str],
        settings: Settings,
        pool: WorkerPool | PrefectTaskPool,
        partition: tuple[int, int] | None,
        force: bool,
    ) -> None:
        self.params = (list(inputs), settings, partition, force)
        self.pool = pool
        self.started = datetime.now(UTC)
        self._settings = settings
        self._force = force
        self._sink = settings.es_url + "|" + settings.es_index if settings.es_url else "embedded"
        items_in: Iterable[Item] = read_inputs(inputs, settings.max_bytes)
        if partition:
            items_in = (i for i in items_in if in_partition(i, partition, list(inputs)))
        self._chunks = batched(items_in, settings.batch_size)
        self._state = RunState(settings.data_dir)  # its own connection: records_done runs ahead
        self._window: deque[Batch] = deque()
        self._exhausted = False

    def prime(self) -> BatchSource:
        """Read the first batches and queue their cleaning now."""
        self._fill()
        return self

    def __iter__(self) -> Iterator[Batch]:
        while True:
            self._fill()
            if not self._window:
                return
            yield self._window.popleft()

    def _fill(self) -> None:
        while not self._exhausted and len(self._window) <= LOOKAHEAD:
            items = next(self._chunks, None)
            if items is None:
                self._exhausted = True
                return
            batch = Batch(records=[])
            for item in items:
                if isinstance(item, Skipped):
                    batch.skipped.append(item)
                elif isinstance(item, Rejection):
                    batch.rejected.append(item)
                else:
                    batch.records.append(item)
            if batch.records:
                if self._settings.keep_all_text:
                    for record in batch.records:
                        record.clean = True
                keys = [record_key(r, self._sink) for r in batch.records]
                done = {} if self._force else self._state.records_done(keys)
                batch.done = [done[k] for k in keys if k in done]
                todo = [(r, k) for r, k in zip(batch.records, keys, strict=True) if k not in done]
                batch.records = [r for r, _ in todo]
                batch.record_keys = [k for _, k in todo]
            if batch.records:
                batch.key = batch_key(batch.record_keys)
                s = self._settings
                jobs = [(r, s.max_chars, s.doc_timeout, self.started) for r in batch.records]
                batch.pending = self.pool.submit(prepare_record, jobs, self.pool.AHEAD)
            self._window.append(batch)

    def close(self) -> None:
        """Close the state connection; queued cleaning is dropped with the pool."""
        self._state.close()


_PRIMED: list[BatchSource] = []


def run_settings(**params: Any) -> Settings:
    """Return the settings of a run from its flow parameters (the same for the CLI and the flow)."""
    keys = (
        "data_dir",
        "es_url",
        "batch_size",
        "spacy_models",
        "max_bytes",
        "max_chars",
        "workers",
        "doc_timeout",
        "keep_all_text",
    )
    return Settings.from_env(**{k: params.get(k) for k in keys})


def prime(inputs: list[str], settings: Settings, partition: tuple[int, int] | None, force: bool) -> None:
    """Start reading the inputs and cleaning the first batches on a prestarted pool, before the flow
    run exists: `newsdex run` does this while Prefect's server comes up. The flow takes this source
    if its parameters are the same, else it is discarded."""
    pool = worker_pool(settings.workers, settings.spacy_models.values())
    _PRIMED.append(BatchSource(inputs, settings, pool, partition, force).prime())
    # The flow's first dedup would import datasketch and scipy (about 2 s on a busy machine) while
    # the workers wait for it; imported now, it overlaps the wait for the first batch's cleaning.
    threading.Thread(target=stages.warm_dedup, name="warm-dedup", daemon=True).start()


def discard_primed() -> None:
    """Drop a primed source no flow took (its pool included)."""
    while _PRIMED:
        source = _PRIMED.pop()
        source.pool.close()
        source.close()


def _take_primed(params: tuple[Any, ...]) -> BatchSource | None:
    while _PRIMED:
        source = _PRIMED.pop()
        if source.params == params:
            return source
        source.pool.close()
        source.close()
    return None


def _run_batch(
    batch: Batch,
    settings: Settings,
    state: RunState,
    index: Any,
    pool: WorkerPool | PrefectTaskPool,
    writer: SinkWriter,
    rejects: RejectsWriter,
    report: RunReport,
    written_ids: list[str],
    stop: StopRequest,
) -> None:
    report.records += len(batch.rejected) + len(batch.done) + len(batch.records)
    for skipped in batch.skipped:
        report.skipped[skipped.kind] += 1
    for rejection in batch.rejected:
        report.reject(rejection)
        rejects.write(rejection)
    report.already_done += len(batch.done)
    written_ids.extend(doc_id for doc_id in batch.done if doc_id)
    if batch.pending is None:
        if batch.done:
            report.batches_skipped += 1
        return
    report.batches += 1

    def keep_documents(items: list[Document | Rejection]) -> list[Document]:
        out = []
        for item in items:
            if isinstance(item, Rejection):
                report.reject(item)
                rejects.write(item)
            else:
                out.append(item)
        return out

    clock = _Stopwatch(report, stop)
    # Under a Dask task runner the per-document chunks are the Prefect tasks (PrefectTaskPool), so
    # the two stages that fan out run as plain functions instead of wrapping tasks around tasks.
    fan_out = _plain if isinstance(pool, PrefectTaskPool) else _as_task
    with clock("clean_normalise"):
        prepared = fan_out(prepare_task, batch.pending)
        prepared_ids = [item.id if isinstance(item, Document) else None for item in prepared]
        docs = keep_documents(prepared)
    with clock("templates"):
        stripped, seen_lines = _as_task(templates_task, docs, state)
        docs = keep_documents(stripped)
    for doc in docs:
        report.dropped_lines.update(doc.dropped_lines)
        report.kept_whole += doc.kept_whole
    before = len(docs)
    # Before this batch's first lookup: which other runs' writes it could not see (`concurrent_ids`).
    looked = index.lookup_mark()
    with clock("dedup"):
        docs, dup_counts = _as_task(dedup_task, docs, index)
    report.same_id_replaced += before - len(docs)
    if writer.holds(d.duplicate_of for d in docs):
        # A copy of a document still being written: its entities are read back from the sink, and
        # the sink may yet refuse it, so that write is finished first.
        with clock("index"):
            refused = writer.join()
        if any(d.duplicate_of in refused for d in docs):
            with clock("dedup"):
                docs, dup_counts = _as_task(dedup_task, stages.undo_dedup(docs), index)
    writer.start()  # this batch's lookups are done: the previous batch is written during its NER
    report.duplicates.update({k: v for k, v in dup_counts.items() if k != "same_id"})
    with clock("enrich"):
        docs, notes = fan_out(enrich_task, docs, settings.spacy_models, state, index, pool)
    report.notes.update(notes)
    with clock("stories"):
        if index.background_writes:
            # The previous batch's stories must be searchable before this batch looks for its own.
            writer.join()
            index.refresh()
        docs, story_counts = _as_task(stories_task, docs, index)
    report.notes.update({f"stories_{k}": v for k, v in story_counts.items() if v})
    # Template evidence counts documents, so it is recorded now: the next batch's templates need it,
    # and so does this batch's passage matching (a site's template line is no shared passage).
    state.record_lines(seen_lines)
    with clock("passages"):
        docs, passage_counts = _as_task(passages_task, docs, index, state)
    report.notes.update({f"passages_{k}": v for k, v in passage_counts.items() if v})

    def written(counts: dict[str, Any], refused: set[str]) -> None:
        report.indexed_new += counts["indexed"]
        report.indexed_replaced += counts["replaced"]
        keep_documents(counts["rejected"])
        ids = [d.id for d in docs if d.id not in refused]
        written_ids.extend(ids)
        kept = set(ids)
        state.mark_batch(
            batch.key,
            {"ids": ids, "indexed": counts["indexed"], "replaced": counts["replaced"]},
            [(k, i if i in kept else None) for k, i in zip(batch.record_keys, prepared_ids, strict=True)],
        )
        index.log_batch(report.run_id, looked, ids)

    with clock("index"):
        writer.submit(docs, written)


def _as_task(task_: Any, *args: Any) -> Any:
    # Prefect walks every task parameter looking for futures and states to resolve; a batch of
    # documents is a large nested collection (several seconds of the flow's CPU per 1,000
    # documents), so collections are passed quoted: the task gets them as they are.
    return task_(*(quote(a) if isinstance(a, list | dict) else a for a in args))


def _plain(task_: Any, *args: Any) -> Any:
    return task_.fn(*args)


class _Stopwatch:
    """Add the wall time of each `with clock(stage):` block to the report's seconds_by_stage; a stage
    does not start once the run was asked to stop."""

    def __init__(self, report: RunReport, stop: StopRequest | None = None) -> None:
        self.report = report
        self.stop = stop
        self.stage = ""
        self.start = 0.0
        self.cpu = 0.0

    def __call__(self, stage: str) -> _Stopwatch:
        self.stage = stage
        return self

    def __enter__(self) -> None:
        if self.stop is not None:
            self.stop.check()
        self.start = time.perf_counter()
        self.cpu = time.thread_time()

    def __exit__(self, *exc: object) -> None:
        self.report.seconds[self.stage] += time.perf_counter() - self.start
        self.report.stage_cpu[self.stage] += time.thread_time() - self.cpu


def _write_jsonl(path: Path, index: Any, ids: list[str]) -> None:
    unique = list(dict.fromkeys(ids))
    docs = index.get(unique)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for doc_id in unique:
            if doc_id in docs:
                handle.write(json.dumps(docs[doc_id], ensure_ascii=False) + "\n")


def _progress(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None

    def show(report: RunReport) -> None:
        sys.stderr.write(
            f"\r{report.records} records · {report.indexed_new + report.indexed_replaced} indexed · "
            f"{sum(report.rejected.values())} rejected · {sum(report.duplicates.values())} duplicates"
        )
        sys.stderr.flush()

    return show
