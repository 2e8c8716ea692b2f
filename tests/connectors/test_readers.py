from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from newsdex.connectors.readers import Skipped, missing_inputs, read_inputs
from newsdex.transforms.record import RawRecord, Rejection

MAX = 1_000_000
ARTICLE = "<html><body><article><p>" + "Some article text here. " * 40 + "</p></article></body></html>"


def _read(*specs: str | Path, max_bytes: int = MAX) -> list[RawRecord | Rejection | Skipped]:
    return list(read_inputs([str(s) for s in specs], max_bytes))


def test_reads_every_kind_from_a_folder_recursively(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.html").write_text(ARTICLE)
    (tmp_path / "sub" / "b.htm.gz").write_bytes(gzip.compress(ARTICLE.encode()))
    (tmp_path / "c.txt").write_text("Title\n\nSome text.")
    (tmp_path / "d.jsonl").write_text(
        json.dumps(
            {
                "url": "https://x.example/1",
                "html": ARTICLE,
                "id": "r1",
                "source": "X",
                "fetched_at": "2022-01-01T00:00:00Z",
            }
        )
        + "\n\n"
        + json.dumps({"url": "https://x.example/2", "text": "plain"})
        + "\n"
    )
    (tmp_path / "notes.csv").write_text("a,b")
    items = _read(tmp_path)
    records = [i for i in items if isinstance(i, RawRecord)]
    assert len(records) == 5
    by_path = {(Path(r.path).name, r.line): r for r in records}
    first = by_path[("d.jsonl", 1)]
    assert (first.record_id, first.url, first.source, first.fetched_at) == (
        "r1",
        "https://x.example/1",
        "X",
        "2022-01-01T00:00:00Z",
    )
    assert by_path[("d.jsonl", 3)].text == "plain"
    assert by_path[("b.htm.gz", None)].html == ARTICLE
    assert [i.kind for i in items if isinstance(i, Skipped)] == ["unsupported_file_type"]


def test_glob(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.html"):
        (tmp_path / name).write_text("Title\n\nSome text.")
    assert len(_read(tmp_path / "*.txt")) == 2


def _reasons(items: list[RawRecord | Rejection | Skipped]) -> list[str]:
    return [i.reason for i in items if isinstance(i, Rejection)]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.html", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary"),
        ("zero.txt", b"", "empty"),
        ("zero.jsonl", b"", "empty"),
        ("controls.txt", bytes([1, 2, 3, 4, 5, 6, 7, 8, 11, 14]) * 100, "undecodable"),
        ("fake.html.gz", b"this is not gzip data at all", "bad_gzip"),
        ("truncated.html.gz", gzip.compress(ARTICLE.encode() * 50)[:-20], "truncated_gzip"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    items = _read(path)
    assert _reasons(items) == [reason]
    rejection = items[0]
    assert isinstance(rejection, Rejection) and rejection.input["path"] == str(path)


def test_too_large_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    path.write_text(ARTICLE * 10)
    assert _reasons(_read(path, max_bytes=1000)) == ["too_large"]


def test_missing_path_is_rejected(tmp_path: Path) -> None:
    assert _reasons(_read(tmp_path / "nope.html", tmp_path / "none-*.txt")) == ["not_found", "not_found"]


def test_unreadable_file_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.html"
    path.write_text(ARTICLE)
    real_open = open

    def deny(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    # Tests run as root, where chmod cannot make a file unreadable: fail the open itself.
    monkeypatch.setattr("builtins.open", deny)
    assert _reasons(_read(path)) == ["unreadable"]


def test_malformed_jsonl_lines_are_rejected_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        json.dumps({"url": "https://x.example/1", "text": "good one"}),
        '{"url": "https://x.example/2", "text": ',  # cut off
        "[1, 2, 3]",
        json.dumps({"url": "https://x.example/3"}),  # no content
        json.dumps({"url": "https://x.example/4", "html": ARTICLE, "id": 7}),
    ]
    path.write_text("\n".join(lines) + "\n")
    items = _read(path)
    assert [type(i).__name__ for i in items] == [
        "RawRecord",
        "Rejection",
        "Rejection",
        "Rejection",
        "RawRecord",
    ]
    assert _reasons(items) == ["malformed_jsonl", "malformed_jsonl", "missing_content"]
    assert [i.input["line"] for i in items if isinstance(i, Rejection)] == [2, 3, 4]
    last = items[-1]
    assert isinstance(last, RawRecord) and last.record_id == "7"


def test_truncated_jsonl_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    rows = [json.dumps({"url": f"https://x.example/{i}", "text": "word " * 50}) for i in range(200)]
    data = gzip.compress("\n".join(rows).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    items = _read(path)
    assert isinstance(items[-1], Rejection) and items[-1].reason == "truncated_gzip"
    assert len(items) > 1 and all(isinstance(i, RawRecord) for i in items[:-1])


def _tree_with_links(root: Path) -> Path:
    """mixed/ with a file, a sub-folder, a link back to its parent (a loop), a link to a folder outside
    and a link to a file beside it."""
    mixed = root / "mixed"
    (mixed / "sub").mkdir(parents=True)
    (root / "outside").mkdir()
    (mixed / "a.txt").write_text("Title A\n\nSome text.")
    (mixed / "sub" / "b.txt").write_text("Title B\n\nOther text.")
    (root / "outside" / "c.txt").write_text("Title C\n\nMore text.")
    (mixed / "sub" / "loop_up").symlink_to("..")
    (mixed / "outside").symlink_to(root / "outside")
    (mixed / "a-again.txt").symlink_to("a.txt")
    return mixed


@pytest.mark.parametrize("spec", ["{m}", "{m}/**/*.txt", "{m}/**", "{m}/**/*"])
def test_recursion_never_follows_a_link_to_a_folder_and_reads_each_file_once(
    tmp_path: Path, spec: str
) -> None:
    mixed = _tree_with_links(tmp_path)
    paths = [Path(i.path) for i in _read(spec.format(m=mixed))]
    assert [p.relative_to(mixed).as_posix() for p in paths] == ["a.txt", "sub/b.txt"]


def test_a_folder_and_a_glob_over_it_read_each_file_once(tmp_path: Path) -> None:
    mixed = _tree_with_links(tmp_path)
    items = _read(mixed, mixed / "**" / "*.txt", mixed / "a.txt", mixed / "a-again.txt")
    assert sorted(Path(i.path).name for i in items) == ["a.txt", "b.txt"]


def test_a_link_the_user_names_or_a_glob_part_matches_is_followed(tmp_path: Path) -> None:
    mixed = _tree_with_links(tmp_path)
    assert [Path(i.path).name for i in _read(mixed / "outside")] == ["c.txt"]
    assert sorted(Path(i.path).name for i in _read(mixed / "*" / "*.txt")) == ["b.txt", "c.txt"]


def test_glob_keeps_globs_rules_for_hidden_names_and_takes_a_path_with_glob_characters_as_it_is(
    tmp_path: Path,
) -> None:
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "h.txt").write_text("Title\n\nHidden.")
    (tmp_path / "x[1].txt").write_text("Title\n\nBrackets.")
    assert [Path(i.path).name for i in _read(tmp_path / "**" / "*.txt")] == ["x[1].txt"]
    assert [Path(i.path).name for i in _read(tmp_path / ".hidden" / "**" / "*.txt")] == ["h.txt"]
    assert [Path(i.path).name for i in _read(tmp_path / "x[1].txt")] == ["x[1].txt"]


def test_missing_inputs_names_each_input_that_names_nothing(tmp_path: Path) -> None:
    mixed = _tree_with_links(tmp_path)
    specs = [str(mixed), str(tmp_path / "nope.txt"), str(mixed / "**" / "*.html"), str(mixed / "*.txt")]
    assert missing_inputs(specs) == [
        f"{tmp_path / 'nope.txt'} (no such file or folder)",
        f"{str(mixed / '**' / '*.html')!r} (no file matches this pattern)",
    ]


def test_a_file_removed_after_the_listing_is_rejected_as_not_found(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Title\n\nSome text.")
    for name in ("b.jsonl", "c.warc", "d.html"):
        (tmp_path / name).write_text("x")
    items = read_inputs([str(tmp_path)], MAX)
    first = next(items)  # the folder is listed now
    for name in ("b.jsonl", "c.warc", "d.html"):
        (tmp_path / name).unlink()
    rest = list(items)
    assert isinstance(first, RawRecord) and Path(first.path).name == "a.txt"
    assert [(Path(i.input["path"]).name, i.reason) for i in rest if isinstance(i, Rejection)] == [
        ("b.jsonl", "not_found"),
        ("c.warc", "not_found"),
        ("d.html", "not_found"),
    ]
