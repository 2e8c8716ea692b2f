"""newsdex installed the way pip and pipx users install it: from a wheel, outside the checkout.

The wheel is built from the repository, checked (one top-level package, `newsdex`, carrying the
mappings), installed into a fresh virtual environment with its dependencies resolved through
constraints.txt (pip's cache makes that quick after `make install`), and used from a folder that is
not the checkout: `--version`, `python -m newsdex`, a run over the samples, a search, and `setup` +
a run through the Elasticsearch sink against a real server process (osmem-server).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import newsdex
from tests.conftest import ROOT, SAMPLES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "PIP_CONSTRAINT": str(ROOT / "constraints.txt")}
    _pip([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(ROOT)], env, out)
    [built] = out.glob("newsdex-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the bin/ folder of a fresh venv with the wheel and its (constrained) dependencies."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    # The venv's own pip, as it comes: a user's pip may be older than the one `make install` uses.
    env = {**os.environ, "PIP_CONSTRAINT": str(ROOT / "constraints.txt")}
    _pip([str(venv / "bin" / "python"), "-m", "pip", "install", str(wheel)], env, venv)
    return venv / "bin"


def _pip(cmd: list[str], env: dict[str, str], cwd: Path) -> None:
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"


def test_the_wheel_holds_one_package_and_the_contract(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert top == {"newsdex"}, f"top-level names in the wheel: {sorted(top)}"
    for data in (
        "newsdex/mappings/index-template.json",
        "newsdex/mappings/kibana/saved-objects.ndjson",
        "newsdex/transforms/data/aliases.json",
    ):
        assert data in names, f"{data} is not in the wheel"
    assert wheel.name.startswith(f"newsdex-{newsdex.__version__}-")


def _newsdex(bin_dir: Path, cwd: Path, *args: str, **extra_env: str) -> str:
    """Run the installed command as a user would (no checkout on the path); return its stdout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra_env)
    out = subprocess.run(
        [str(bin_dir / "newsdex"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, f"newsdex {' '.join(args)} exited {out.returncode}:\n{out.stderr[-3000:]}"
    return out.stdout


def test_installed_wheel_works_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    python = str(installed / "python")
    where = subprocess.run(
        [python, "-c", "import newsdex, newsdex.mappings; print(newsdex.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.parent), f"newsdex imported from {where}, not the wheel"
    assert not Path(where).is_relative_to(ROOT)

    assert _newsdex(installed, tmp_path, "--version").strip() == f"newsdex {newsdex.__version__}"
    module = subprocess.run(
        [python, "-m", "newsdex", "--version"], cwd=tmp_path, capture_output=True, text=True
    )
    assert module.stdout.strip() == f"newsdex {newsdex.__version__}"

    corpus = tmp_path / "articles"
    shutil.copytree(SAMPLES, corpus)
    _newsdex(installed, tmp_path, "--data-dir", "data", "run", "articles", "--report", "report.json")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["outcomes"]["indexed_new"] == 5 and report["reconciles"]
    hits = json.loads(_newsdex(installed, tmp_path, "--data-dir", "data", "search", "Ryabkov", "--json"))
    assert hits["total"] >= 3
    assert any("Ryabkov" in name for name, _ in hits["facets"]["person"])


def test_installed_wheel_sets_up_and_fills_elasticsearch(
    installed: Path, tmp_path: Path, osmem_clone: object
) -> None:
    # The test-only node class (osmem answers elasticsearch-py's vendor media type with 406) is put
    # on the path by itself: the checkout's own folders must not be importable here.
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    shutil.copy(ROOT / "tests" / "esnode.py", nodes / "esnode.py")
    es = {
        "NEWSDEX_ES_URL": osmem_clone.url,  # type: ignore[attr-defined]
        "NEWSDEX_ES_INDEX": "wheeltest",
        "NEWSDEX_ES_NODE_CLASS": "esnode:JsonNode",
        "PYTHONPATH": str(nodes),
    }
    shutil.copytree(SAMPLES, tmp_path / "articles")
    assert "wheeltest-v1" in _newsdex(installed, tmp_path, "--data-dir", "data", "setup", **es)
    _newsdex(installed, tmp_path, "--data-dir", "data", "run", "articles", "--report", "report.json", **es)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["backend"] == "elasticsearch" and report["outcomes"]["indexed_new"] == 5
    hits = json.loads(
        _newsdex(installed, tmp_path, "--data-dir", "data", "search", "Ryabkov", "--json", **es)
    )
    assert hits["total"] >= 3
