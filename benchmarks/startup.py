"""Fixed cost of `newsdex run`: where the seconds before the first batch and after the last one go.

    python -m benchmarks.startup [--runs 3] [--json out.json] [INPUT ...]   (default: samples/)

Runs `newsdex run --quiet` as a user types it (no Prefect API configured), in a fresh data
directory, with NEWSDEX_TIMELINE set so that the command and its workers mark their steps:
1. `per-command`: NEWSDEX_PREFECT_IDLE=0, a temporary Prefect server started by the command;
2. `shared, cold`: the first command on the data directory starts the shared server;
3. `shared, warm` (--runs times, `--force`): later commands reuse it.
For each it prints seconds from process start to each mark, the time to the first batch and the
time from the last batch to the process's exit. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MARKS = [
    "cli_start",
    "pipeline_imported",
    "server_ready",
    "flow_start",
    "first_batch",
    "worker_cleaning_ready",
    "worker_models_ready",
    "last_batch_done",
    "flow_end",
    "flow_returned",
]


def timed_run(data: Path, inputs: list[str], idle: str, force: bool) -> dict[str, Any]:
    """Run `newsdex run` once; return its exit code and seconds from its start to each mark and exit."""
    with tempfile.NamedTemporaryFile(suffix=".tl", delete=False) as handle:
        timeline = Path(handle.name)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update({"NEWSDEX_TIMELINE": str(timeline), "NEWSDEX_PREFECT_IDLE": idle})
    cmd = [sys.executable, "-m", "newsdex", "--data-dir", str(data), "run", "--quiet"]
    start = time.time()
    proc = subprocess.run(
        [*cmd, *(["--force"] if force else []), *inputs], cwd=ROOT, env=env, capture_output=True
    )
    end = time.time()
    marks: dict[str, float] = {}
    for line in timeline.read_text().splitlines():
        name, at, _pid = line.split("\t")
        marks.setdefault(name, float(at) - start)  # the first worker's mark for worker marks
    timeline.unlink()
    marks["exit"] = end - start
    out = {"exit_code": proc.returncode, "marks": {k: round(v, 2) for k, v in marks.items()}}
    if "first_batch" in marks:
        out["to_first_batch"] = round(marks["first_batch"], 2)
    if "last_batch_done" in marks:
        out["after_last_batch"] = round(marks["exit"] - marks["last_batch_done"], 2)
    return out


def stop_shared(data: Path) -> None:
    """Stop the shared server the runs left (it would stop by itself when idle)."""
    try:
        pid = json.loads((data / "prefect" / "server.json").read_text())["pid"]
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, KeyError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Time the three set-ups and print the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.startup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="*", default=[str(ROOT / "samples")])
    parser.add_argument("--runs", type=int, default=3, help="warm runs on the shared server (3)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    inputs = [str(Path(p).resolve()) for p in args.inputs]
    results: dict[str, Any] = {"load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        results["per-command"] = timed_run(Path(tmp) / "a", inputs, "0", force=False)
        data = Path(tmp) / "b"
        try:
            results["shared, cold"] = timed_run(data, inputs, "120", force=False)
            for n in range(args.runs):
                results[f"shared, warm {n + 1}"] = timed_run(data, inputs, "120", force=True)
        finally:
            stop_shared(data)
    results["load_average_after"] = os.getloadavg()
    rows = [k for k in results if not k.startswith("load")]
    print(f"{'seconds from process start':28}" + "".join(f"{r:>16}" for r in rows))
    for mark in [*MARKS, "exit"]:
        print(f"{mark:28}" + "".join(f"{results[r]['marks'].get(mark, float('nan')):16.2f}" for r in rows))
    for key in ("to_first_batch", "after_last_batch", "exit_code"):
        print(f"{key:28}" + "".join(f"{results[r].get(key, float('nan')):16}" for r in rows))
    print("load average before / after:", results["load_average_before"], results["load_average_after"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
