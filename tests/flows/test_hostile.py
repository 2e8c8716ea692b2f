"""A corpus of hostile inputs through the whole run: each case ends decoded and indexed, or rejected
with its specific reason; the run always finishes and the report reconciles."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from newsdex.flows.cli import EXIT_REJECTIONS, main
from tests.conftest import finished_batches

pytestmark = pytest.mark.slow

RU = "Правительство России объявило во вторник о новых налогах для крупных компаний. " * 8
DE = (
    "Die Regierung kündigte am Dienstag höhere Steuern für große Unternehmen an, um Schulen zu bezahlen. " * 8
)
JA = "政府は火曜日、大企業への増税を発表した。新しい病院と学校の建設に充てる予定だと述べた。" * 8
EN = (
    "The council approved the budget on Tuesday after a long debate about schools and hospitals in the city. "
)


def _page(body: str, charset: str | None = None, title: str = "A page", variant: int = 0) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    # Distinct text per file: identical bodies without a URL share one id (one document).
    paragraphs = "".join(f"<p>{body} ({variant}.{i})</p>" for i in range(6))
    return (
        f"<html><head>{meta}<title>{title}</title></head><body><article>{paragraphs}</article></body></html>"
    )


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("hostile")
    inp = root / "in"
    inp.mkdir()
    files = {
        "binary.html": b"\x89PNG\r\n\x1a\n" + os.urandom(4096),
        "zero.html": b"",
        "huge.html": b"<html><body>" + b"<p>filler text</p>" * 3_000_000 + b"</body></html>",  # ~54 MB
        "deep.html": (b"<div>" * 40_000) + EN.encode() * 30 + (b"</div>" * 40_000),
        "cp1251.html": _page(RU, "windows-1251").encode("cp1251"),
        "latin1.html": _page(DE, "iso-8859-1").encode("latin-1"),
        "shiftjis.html": _page(JA, "shift_jis").encode("shift_jis"),
        "utf16.html": _page(DE, variant=1).encode("utf-16"),  # with BOM
        "cp1251-undeclared.html": _page(RU, variant=1).encode("cp1251"),
        "cp1251-declared-latin1.html": _page(RU, "iso-8859-1", variant=2).encode("cp1251"),
        "mojibake.html": _page(RU.encode("utf-8").decode("latin-1"), variant=3).encode("utf-8"),
        "xxe.xhtml": (
            '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            '<html xmlns="http://www.w3.org/1999/xhtml"><body><article>'
            + "".join(f"<p>{EN} &xxe; ({i})</p>" for i in range(6))
            + "</article></body></html>"
        ).encode(),
        "long-line.txt": ("Headline\n\n" + EN * 8000).encode(),
        "furniture.txt": b"Share this\n\n- Advertisement -\n\nSubscribe to our newsletter\n\nCookie settings\n",
        "cut.html.gz": gzip.compress(_page(EN).encode() * 20)[:-30],
    }
    for name, data in files.items():
        (inp / name).write_bytes(data)
    tag_page = (
        "<html><body><ul>"
        + "".join(f'<li><a href="/a/{i}">Story {i}</a></li>' for i in range(40))
        + "</ul></body></html>"
    )
    rows = [
        json.dumps({"url": "https://news.example/tag/politics/", "html": tag_page, "id": "tag"}),
        "{broken json",
        json.dumps({"url": "https://news.example/story", "text": "Headline\n\n" + EN * 5, "id": "ok"}),
    ]
    (inp / "records.jsonl").write_text("\n".join(rows) + "\n")
    data_dir, report = root / "data", root / "report.json"
    code = main(
        [
            "--data-dir",
            str(data_dir),
            "run",
            "--quiet",
            str(inp),
            "--report",
            str(report),
            "--output-jsonl",
            str(root / "out.jsonl"),
        ]
    )
    docs = {
        Path(d["input"]["path"]).name + (f":{d['input']['record_id']}" if d["input"]["record_id"] else ""): d
        for d in map(json.loads, (root / "out.jsonl").read_text().splitlines())
    }
    rejects = {}
    for line in (data_dir / "rejects.jsonl").read_text().splitlines():
        r = json.loads(line)
        key = Path(r["input"]["path"]).name + (f":{r['input']['line']}" if r["input"]["line"] else "")
        rejects[key] = r["reason"]
    return {"code": code, "report": json.loads(report.read_text()), "docs": docs, "rejects": rejects}


def test_run_finishes_and_reconciles(hostile_run: dict) -> None:
    report = hostile_run["report"]
    assert hostile_run["code"] == EXIT_REJECTIONS
    assert report["status"] == "completed_with_rejections"
    assert report["reconciles"]
    assert report["records"] == len(hostile_run["docs"]) + len(hostile_run["rejects"])


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("binary.html", "binary"),
        ("zero.html", "empty"),
        ("huge.html", "too_large"),
        ("furniture.txt", "empty_after_cleaning"),
        ("cut.html.gz", "truncated_gzip"),
        ("records.jsonl:1", "not_an_article"),
        ("records.jsonl:2", "malformed_jsonl"),
    ],
)
def test_rejected_with_reason(hostile_run: dict, name: str, reason: str) -> None:
    assert hostile_run["rejects"].get(name) == reason


@pytest.mark.parametrize(
    ("name", "needle", "lang"),
    [
        ("cp1251.html", "Правительство России", "ru"),
        ("latin1.html", "kündigte am Dienstag höhere Steuern", "de"),
        ("shiftjis.html", "政府は火曜日", "ja"),
        ("utf16.html", "kündigte am Dienstag", "de"),
        ("cp1251-undeclared.html", "Правительство России", "ru"),
        ("cp1251-declared-latin1.html", "Правительство России", "ru"),
        ("long-line.txt", "The council approved the budget", "en"),
        ("records.jsonl:ok", "The council approved the budget", "en"),
        ("mojibake.html", "Правительство России", "ru"),  # repaired, not indexed as garbage
    ],
)
def test_decoded_and_indexed(hostile_run: dict, name: str, needle: str, lang: str) -> None:
    doc = hostile_run["docs"][name]
    assert needle in doc["body"]
    assert doc["language"] == lang


def test_deep_nesting_does_not_crash(hostile_run: dict) -> None:
    for name in ("deep.html",):
        assert name in hostile_run["docs"] or name in hostile_run["rejects"]


def test_external_entities_are_never_resolved(hostile_run: dict) -> None:
    doc = hostile_run["docs"].get("xxe.xhtml")
    assert doc is None or "root:" not in doc["body"]
    assert all("root:x:0:0" not in d["body"] for d in hostile_run["docs"].values())


def test_sigkill_mid_run_then_rerun_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    rows = [
        json.dumps(
            {"url": f"https://news.example/story-{i}", "text": f"Story {i}\n\n" + f"Item {i}. " + EN * 4}
        )
        for i in range(60)
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(rows) + "\n")
    data_dir = tmp_path / "data"
    cmd = [
        sys.executable,
        "-m",
        "newsdex.flows.cli",
        "--data-dir",
        str(data_dir),
        "run",
        "--quiet",
        "--batch-size",
        "5",
        "--workers",
        "1",
        str(tmp_path / "in.jsonl"),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while finished_batches(data_dir) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = finished_batches(data_dir)
    assert 2 <= done_before < 12
    with sqlite3.connect(data_dir / "index.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    report = tmp_path / "rerun.json"
    assert (
        main(
            [
                "--data-dir",
                str(data_dir),
                "run",
                "--quiet",
                "--batch-size",
                "5",
                str(tmp_path / "in.jsonl"),
                "--report",
                str(report),
            ]
        )
        == 0
    )
    outcome = json.loads(report.read_text())["outcomes"]
    assert outcome["already_done"] >= 5 * done_before
    out = tmp_path / "all.jsonl"
    assert main(["--data-dir", str(data_dir), "export", "--output-jsonl", str(out)]) == 0
    urls = [json.loads(line)["url"] for line in out.read_text().splitlines()]
    assert sorted(urls) == sorted(f"https://news.example/story-{i}" for i in range(60))


def test_unusable_data_dir_is_a_clear_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    code = main(["--data-dir", str(blocker / "data"), "run", "--quiet", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "data" in err and "Traceback" not in err


def _mount_small_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    cmd = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]
    return subprocess.run(cmd, capture_output=True, check=False).returncode == 0


def _can_mount_tmpfs() -> bool:
    probe = Path(tempfile.mkdtemp(prefix="newsdex-tmpfs-probe-"))
    mounted = _mount_small_tmpfs(probe, "64k")
    if mounted:
        subprocess.run(["umount", str(probe)], check=False)
    probe.rmdir()
    return mounted


@pytest.mark.skipif(
    not _can_mount_tmpfs(), reason="a full disk is simulated with a small tmpfs, which needs root"
)
def test_full_disk_is_a_clear_error_and_loses_nothing_indexed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import SAMPLES

    # The index fills the disk here, not Prefect's database: the shared Prefect server keeps its
    # database under the data directory (a few MB), so this test's runs use a temporary server.
    monkeypatch.setenv("NEWSDEX_PREFECT_IDLE", "0")
    disk = tmp_path / "small-disk"
    assert _mount_small_tmpfs(disk, "1200k")
    try:
        data_dir = disk / "data"
        assert main(["--data-dir", str(data_dir), "run", "--quiet", str(SAMPLES)]) == 0
        rows = [
            json.dumps(
                {
                    "url": f"https://news.example/long-{i}",
                    "text": f"Story {i}\n\n" + " ".join(f"word{i}x{j}" for j in range(600)) + ".",
                }
            )
            for i in range(400)
        ]
        big = tmp_path / "big.jsonl"
        big.write_text("\n".join(rows) + "\n")
        capsys.readouterr()
        code = main(
            ["--data-dir", str(data_dir), "run", "--quiet", str(big), "--report", str(tmp_path / "r.json")]
        )
        err = capsys.readouterr().err
        assert code == 1
        assert "full" in err.lower() or "no space" in err.lower(), err
        assert "Traceback" not in err
        with sqlite3.connect(data_dir / "index.sqlite") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        out = tmp_path / "export.jsonl"
        assert main(["--data-dir", str(data_dir), "export", "--output-jsonl", str(out)]) == 0
        ids = [json.loads(line)["input"]["path"] for line in out.read_text().splitlines()]
        assert sum(1 for p in ids if p.startswith(str(SAMPLES))) == 5  # what was indexed before is all there
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
