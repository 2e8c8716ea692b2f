"""Process-tree helpers for tests that send real signals (from /proc: Linux only)."""

from __future__ import annotations

import time
from pathlib import Path


def descendants(pid: int) -> list[int]:
    """Return every process below `pid` (children first, depth first)."""
    out: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in map(int, children):
        out.extend(descendants(child))
        out.append(child)
    return out


def alive(pid: int) -> bool:
    """Return True while the process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmdline(pid: int) -> str:
    """Return the start of the process's command line (for failure messages)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "?"


def assert_gone(pids: list[int], within: float) -> float:
    """Wait until every process is gone; fail naming the survivors after `within` s; return the wait."""
    start = time.monotonic()
    while any(alive(p) for p in pids) and time.monotonic() - start < within:
        time.sleep(0.05)
    left = {p: cmdline(p) for p in pids if alive(p)}
    assert not left, f"processes still running {within} s later: {left}"
    return time.monotonic() - start
