"""Marks of a command's fixed cost (start-up, end), for the start-up benchmark.

With NEWSDEX_TIMELINE naming a file, each mark appends `name<TAB>unix time` to it (the run's process
and its workers alike: short appends are atomic); without it, a mark costs one dictionary lookup.
"""

from __future__ import annotations

import os
import time

VARIABLE = "NEWSDEX_TIMELINE"


def mark(name: str) -> None:
    """Append the mark `name` with the current time to the timeline file, if one is set."""
    path = os.environ.get(VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{name}\t{time.time():.6f}\t{os.getpid()}\n")
