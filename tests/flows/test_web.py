"""`newsdex web` through its JSON API, as a running process, on both backends: an index built by
`newsdex run` from the samples and a hostile document; the API must answer what `newsdex search
--json` prints for the same arguments, refuse what it cannot take in one clear line, and write nothing.
(The page itself, in Chromium: tests/flows/test_web_browser.py.)"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli import both_backends, newsdex, one_line_error
from tests.conftest import SAMPLES
from tests.webserver import free_port, get, hostile_inputs, web_server

pytestmark = pytest.mark.slow

BACKENDS = ("embedded", "elasticsearch")


@pytest.fixture(scope="module")
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Per backend: (base URL, cwd, args, env) of a running `newsdex web` over the samples + a hostile doc."""
    tmp = tmp_path_factory.mktemp("web")
    hostile = hostile_inputs(tmp)
    with (
        both_backends(request, tmp, [[SAMPLES, hostile]]) as backends,
        web_server(*backends["embedded"][1], cwd=tmp, env=backends["embedded"][2]) as (embedded, _),
        web_server(*backends["elasticsearch"][1], cwd=tmp, env=backends["elasticsearch"][2]) as (elastic, _),
    ):
        yield {
            "embedded": (embedded, *backends["embedded"]),
            "elasticsearch": (elastic, *backends["elasticsearch"]),
        }


def _cli(served: dict[str, Any], backend: str, *args: str) -> dict[str, Any]:
    _, cwd, base, env = served[backend]
    result = newsdex(*base, "search", "--json", *args, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _api(served: dict[str, Any], backend: str, path: str, **params: Any) -> tuple[int, Any, dict[str, str]]:
    query = urllib.parse.urlencode(params, doseq=True)
    return get(f"{served[backend][0]}{path}" + (f"?{query}" if query else ""))


# (page parameters, the same search on the command line)
SAME_AS_CLI = [
    ({"q": "Ryabkov"}, ["Ryabkov", "--limit", "20"]),
    ({"q": "Ryabkov", "person": "Dmitry Peskov"}, ["Ryabkov", "--person", "Dmitry Peskov", "--limit", "20"]),
    ({"q": "Ryabkov", "size": "2", "page": "2"}, ["Ryabkov", "--limit", "2", "--offset", "2"]),
    (
        {"q": "missiles", "org": ["NATO", "Kremlin"]},
        ["missiles", "--org", "NATO", "--org", "Kremlin", "--limit", "20"],
    ),
    (
        {"from": "2022-01", "to": "2022-01", "dups": "1"},
        ["--from", "2022-01", "--to", "2022-01", "--include-duplicates", "--limit", "20"],
    ),
    (
        {"mfrom": "1962", "mto": "1962"},
        ["--mentioned-from", "1962", "--mentioned-to", "1962", "--limit", "20"],
    ),
    ({"q": "NEAR(Ryabkov: Cuba*)"}, ["NEAR(Ryabkov: Cuba*)", "--limit", "20"]),
    ({}, ["--limit", "20"]),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("params", "args"), SAME_AS_CLI, ids=[" ".join(a) for _, a in SAME_AS_CLI])
def test_the_api_answers_what_search_json_prints(
    served: dict[str, Any], backend: str, params: dict[str, Any], args: list[str]
) -> None:
    status, body, headers = _api(served, backend, "/api/search", **params)
    assert status == 200, body
    assert headers["content-type"].startswith("application/json")
    expected = _cli(served, backend, *args)
    # The page asks for more facet values than the command line's default: compare the rest exactly,
    # and the facets by their common head.
    for name, values in expected["facets"].items():
        assert body["facets"][name][: len(values)] == values, name
    assert {k: v for k, v in body.items() if k != "facets"} == {
        k: v for k, v in expected.items() if k != "facets"
    }


def test_the_hits_narrow_with_a_person_and_page_on(served: dict[str, Any]) -> None:
    for backend in BACKENDS:
        everyone = _api(served, backend, "/api/search", q="Ryabkov")[1]
        peskov = _api(served, backend, "/api/search", q="Ryabkov", person="dmitry peskov")[1]
        assert 0 < peskov["total"] < everyone["total"], backend
        assert everyone["total"] == 5  # four samples and the hostile dossier
        pages = [_api(served, backend, "/api/search", q="Ryabkov", size=2, page=n)[1] for n in (1, 2, 3)]
        ids = [h["id"] for page in pages for h in page["hits"]]
        assert sorted(ids) == sorted(h["id"] for h in everyone["hits"])
        assert [h["rank"] for page in pages for h in page["hits"]] == [1, 2, 3, 4, 5]


def test_an_article_comes_with_its_whole_body_entities_and_url(served: dict[str, Any]) -> None:
    for backend in BACKENDS:
        hit = _api(served, backend, "/api/search", q="Ryabkov", person="Dmitry Peskov")[1]["hits"][0]
        status, body, _ = _api(served, backend, f"/api/doc/{urllib.parse.quote(hit['id'])}")
        assert status == 200
        exported = {d["id"]: d for d in _export(served, backend)}
        assert body["document"] == exported[hit["id"]]
        assert "Dmitry Peskov" in body["document"]["entities"]["person"]
        assert body["copies"] == [] and body["copy_of"] is None


def test_a_story_filter_is_the_same_as_search_story(served: dict[str, Any]) -> None:
    for backend in BACKENDS:
        hit = _api(served, backend, "/api/search", q="Ryabkov")[1]["hits"][0]
        assert hit["story_id"], backend
        body = _api(served, backend, "/api/search", story=hit["story_id"])[1]
        expected = _cli(served, backend, "--story", hit["story_id"], "--limit", "20")
        assert body["total"] >= 1 and body["hits"] == expected["hits"] and body["total"] == expected["total"]


def test_copies_hide_show_and_link_both_ways(served: dict[str, Any]) -> None:
    for backend in BACKENDS:
        canonical = _api(served, backend, "/api/search", q="dossier")[1]
        assert canonical["total"] == 1 and canonical["hits"][0]["copies"] == 1, backend
        both = _api(served, backend, "/api/search", q="dossier", dups="1")[1]
        assert both["total"] == 2
        copy = next(h for h in both["hits"] if h["duplicate_of"])
        assert copy["duplicate_of"] == canonical["hits"][0]["id"]
        original = _api(served, backend, f"/api/doc/{canonical['hits'][0]['id']}")[1]
        assert [(h["id"], h["source_domain"]) for h in original["copies"]] == [(copy["id"], "mirror.example")]
        assert original["copy_of"] is None
        of_copy = _api(served, backend, f"/api/doc/{copy['id']}")[1]
        assert of_copy["copy_of"]["id"] == canonical["hits"][0]["id"] and of_copy["copies"] == []


def _export(served: dict[str, Any], backend: str) -> list[dict[str, Any]]:
    _, cwd, base, env = served[backend]
    result = newsdex(*base, "export", "--output-jsonl", "-", cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


BAD = [
    ({"q": "x" * 501}, 400, "at most 500"),
    ({"from": "yesterday"}, 400, "not a day"),
    ({"from": "2022-02", "to": "2022-01"}, 400, "after"),
    ({"mfrom": "1963", "mto": "1962"}, 400, "after"),
    ({"size": "1000"}, 400, "size"),
    ({"size": "-1"}, 400, "size"),
    ({"page": "0"}, 400, "page"),
    ({"page": "abc"}, 400, "page"),
    ({"page": "9999", "size": "20"}, 400, "past the first 10000"),
    ({"lang": "english"}, 400, "language code"),
    ({"person": ["x"] * 21}, 400, "at most 20"),
]


@pytest.mark.parametrize(("params", "status", "words"), BAD, ids=[str(p)[:40] for p, _, _ in BAD])
def test_bad_input_is_one_clear_error(
    served: dict[str, Any], params: dict[str, Any], status: int, words: str
) -> None:
    for backend in BACKENDS:
        code, body, _ = _api(served, backend, "/api/search", **params)
        assert code == status, (backend, body)
        assert set(body) == {"error"} and words in body["error"] and "Traceback" not in body["error"]


def test_unknown_ids_pages_and_methods(served: dict[str, Any]) -> None:
    for backend in BACKENDS:
        base = served[backend][0]
        assert get(f"{base}/api/doc/no-such-id")[0:2] == (
            404,
            {"error": "no document with id 'no-such-id' in this index"},
        )
        assert get(f"{base}/api/doc/{'x' * 300}")[0] == 404
        assert get(f"{base}/nothing-here")[0] == 404
        assert get(f"{base}/static/../../etc/passwd")[0] == 404
        # Read-only: nothing answers a write.
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            request = urllib.request.Request(f"{base}/api/search", data=b"{}", method=method)
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(request, timeout=30)
            assert err.value.code == 405
        status, html, headers = get(f"{base}/")
        assert status == 200 and '<script src="/static/app.js"' in html
        assert "script-src 'self'" in headers["content-security-policy"]
        # Nothing from another host: the page works offline.
        assert "http" not in html
        for name in ("app.js", "app.css"):
            status, text, _ = get(f"{base}/static/{name}")
            assert status == 200 and "http://" not in text and "https://" not in text and "//cdn" not in text


def test_a_missing_or_empty_index_says_run_first(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with web_server("--data-dir", str(tmp_path / "none"), cwd=tmp_path) as (url, _):
        status, body, _ = get(f"{url}/api/search?q=Ryabkov")
        assert status == 503 and body == {"error": "no index yet — run `newsdex run INPUT...` first"}
        assert get(f"{url}/")[0] == 200  # the page loads and shows that line
        assert not (tmp_path / "none" / "index.sqlite").exists()
    # An index with no documents, made the way a user can: a run over an empty file.
    empty = tmp_path / "empty"
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    result = newsdex("--data-dir", str(empty), "run", "--quiet", str(tmp_path / "empty.jsonl"), cwd=tmp_path)
    assert result.returncode == 3, result.stderr  # the empty file is rejected (and counted)
    assert (empty / "index.sqlite").exists()
    with web_server("--data-dir", str(empty), cwd=tmp_path) as (url, _):
        status, body, _ = get(f"{url}/api/search")
        assert status == 503 and "run `newsdex run" in body["error"]


def test_web_refuses_a_busy_port_and_warns_off_loopback(tmp_path: Path) -> None:
    port = free_port()
    with web_server("--data-dir", str(tmp_path), cwd=tmp_path, port=port):
        result = newsdex("--data-dir", str(tmp_path), "web", "--port", str(port), cwd=tmp_path, timeout=60)
        one_line_error(result, 2, f"127.0.0.1:{port}", "--port")
    result = newsdex("web", "--port", "http", cwd=tmp_path)
    one_line_error(result, 2, "--port")
    output: dict[str, str] = {}
    with web_server("--data-dir", str(tmp_path), cwd=tmp_path, output=output) as (url, _):
        assert get(f"{url}/")[0] == 200
    assert "127.0.0.1" in output["stdout"] and not output["stderr"]
    with web_server("--data-dir", str(tmp_path), cwd=tmp_path, host="0.0.0.0", output=output) as (url, _):
        assert get(f"{url}/")[0] == 200
    assert "0.0.0.0" in output["stdout"]
    assert len(output["stderr"].splitlines()) == 1 and "no login" in output["stderr"]
