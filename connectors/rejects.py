"""The rejects file: one JSON line per rejected record, with its reason, under the data directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from newsdex.transforms.record import Rejection


class RejectsWriter:
    """Append rejections to `<data dir>/rejects.jsonl`, each tagged with the run id."""

    def __init__(self, data_dir: Path, run_id: str) -> None:
        self.path = data_dir / "rejects.jsonl"
        self.run_id = run_id
        self._handle: IO[str] | None = None

    def write(self, rejection: Rejection) -> None:
        """Append one rejection and flush it (a crash must not lose the record of it)."""
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._handle.write(
            json.dumps({"run_id": self.run_id, **rejection.to_dict()}, ensure_ascii=False) + "\n"
        )
        self._handle.flush()

    def close(self) -> None:
        """Close the file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
