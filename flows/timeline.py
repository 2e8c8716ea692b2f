"""Marks of a command's fixed cost (start-up, end), for the start-up benchmark.

With NEWSDEX_TIMELINE naming a file, each mark appends `name<TAB>unix time` to it (the run's process
and its workers alike: short appends are atomic); without it, a mark costs one dictionary lookup.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

VARIABLE = "NEWSDEX_TIMELINE"
# With NEWSDEX_BATCH_LOG naming a file, the flow appends one JSON line per batch: the records read
# so far and the cumulative figures of the run (stage seconds, CPU), for the scale benchmark's curve.
BATCH_LOG = "NEWSDEX_BATCH_LOG"


def mark(name: str) -> None:
    """Append the mark `name` with the current time to the timeline file, if one is set."""
    path = os.environ.get(VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{name}\t{time.time():.6f}\t{os.getpid()}\n")


def batch_figures(figures: dict[str, Any]) -> None:
    """Append one batch's cumulative figures as a JSON line to the batch log, if one is set."""
    path = os.environ.get(BATCH_LOG)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"time": round(time.time(), 3), **figures}) + "\n")
