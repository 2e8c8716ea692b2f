"""The run report: counts per stage that reconcile, so every input record is accounted for."""

from __future__ import annotations

import json
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsdex.transforms.record import Rejection


@dataclass(slots=True)
class RunReport:
    """Counts of one run. `records` = everything read; every one ends in exactly one outcome bucket."""

    run_id: str
    started_at: str
    inputs: list[str]
    backend: str = "embedded"
    finished_at: str | None = None
    status: str = "running"
    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    indexed_new: int = 0
    indexed_replaced: int = 0
    same_id_replaced: int = 0
    already_done: int = 0
    # Read, but the run was interrupted before their batch finished: the next run does them.
    interrupted: int = 0
    batches: int = 0
    batches_skipped: int = 0
    notes: Counter[str] = field(default_factory=Counter)
    # Lines the cleaner dropped from the documents indexed, by reason; documents kept whole.
    dropped_lines: Counter[str] = field(default_factory=Counter)
    kept_whole: int = 0
    seconds: Counter[str] = field(default_factory=Counter)
    # CPU of the flow's thread in each stage (wall time under load counts the other jobs too).
    stage_cpu: Counter[str] = field(default_factory=Counter)
    worker_seconds: Counter[str] = field(default_factory=Counter)
    background_seconds: Counter[str] = field(default_factory=Counter)
    flow_cpu_seconds: float = 0.0
    workers: int = 0
    error: str | None = None

    def reject(self, rejection: Rejection) -> None:
        """Count one rejection under its reason."""
        self.rejected[rejection.reason] += 1

    @property
    def accounted(self) -> int:
        """Return the records that reached an outcome."""
        return (
            sum(self.rejected.values())
            + self.indexed_new
            + self.indexed_replaced
            + self.same_id_replaced
            + self.already_done
            + self.interrupted
        )

    def reconciles(self) -> bool:
        """Return True when every record read is in exactly one outcome bucket."""
        return self.records == self.accounted

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form written by --report."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "inputs": self.inputs,
            "backend": self.backend,
            "records": self.records,
            "outcomes": {
                "indexed_new": self.indexed_new,
                "indexed_replaced": self.indexed_replaced,
                "already_done": self.already_done,
                "same_id_replaced": self.same_id_replaced,
                "rejected": sum(self.rejected.values()),
                "interrupted": self.interrupted,
            },
            "rejected_by_reason": dict(sorted(self.rejected.items())),
            "empty_after_cleaning": self.rejected.get("empty_after_cleaning", 0),
            "duplicates_by_kind": dict(sorted(self.duplicates.items())),
            "skipped_by_kind": dict(sorted(self.skipped.items())),
            "batches": {"run": self.batches, "skipped_as_done": self.batches_skipped},
            "notes": dict(sorted(self.notes.items())),
            "dropped_lines_by_reason": dict(sorted(self.dropped_lines.items())),
            "documents_kept_whole": self.kept_whole,
            "seconds_by_stage": {k: round(v, 3) for k, v in self.seconds.items()},
            "flow_thread_cpu_seconds_by_stage": {k: round(v, 3) for k, v in self.stage_cpu.items()},
            "worker_cpu_seconds_by_stage": {k: round(v, 3) for k, v in self.worker_seconds.items()},
            # Stage time that ran in a background thread while the flow did something else.
            "background_seconds_by_stage": {k: round(v, 3) for k, v in self.background_seconds.items() if v},
            "worker_processes": self.workers,
            # CPU of the flow's own process (all its threads: stages, Prefect's client, the writer).
            "flow_process_cpu_seconds": round(self.flow_cpu_seconds, 3),
            "reconciles": self.reconciles(),
            "error": self.error,
        }

    def write(self, path: Path) -> None:
        """Write the report as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


def interruption(err: BaseException) -> str:
    """Return what stopped a run, e.g. "interrupted by SIGTERM"."""
    signum = getattr(err, "signal", None) or getattr(err, "signum", None)
    if isinstance(err, KeyboardInterrupt):
        signum = signal.SIGINT
    name = signal.Signals(signum).name if signum else type(err).__name__
    return f"interrupted by {name}"


def render_dict(report: dict[str, Any]) -> str:
    """Return the human summary of a report in its JSON form."""
    o = report["outcomes"]
    lines = [
        f"newsdex run {report['run_id']}: {report['status']} ({report['backend']})",
        f"  records read        {report['records']}",
        f"  indexed (new)       {o['indexed_new']}",
        f"  indexed (replaced)  {o['indexed_replaced']}",
        f"  already done        {o['already_done']}",
        f"  rejected            {o['rejected']}"
        + (f"  {report['rejected_by_reason']}" if o["rejected"] else ""),
        f"  duplicates          {sum(report['duplicates_by_kind'].values())}"
        + (f"  {report['duplicates_by_kind']}" if report["duplicates_by_kind"] else ""),
    ]
    if o.get("interrupted"):
        lines.append(f"  interrupted         {o['interrupted']}  (not finished: the next run does them)")
    if o["same_id_replaced"]:
        lines.append(f"  same id, replaced   {o['same_id_replaced']}")
    if report["skipped_by_kind"]:
        lines.append(
            f"  skipped (not docs)  {sum(report['skipped_by_kind'].values())}  {report['skipped_by_kind']}"
        )
    dropped = report.get("dropped_lines_by_reason") or {}
    if dropped:
        lines.append(f"  lines dropped       {sum(dropped.values())}  {dropped}")
    if report.get("documents_kept_whole"):
        lines.append(
            f"  kept whole          {report['documents_kept_whole']}  (declared clean: no line dropped)"
        )
    if report["notes"]:
        lines.append(f"  notes               {report['notes']}")
    lines.append(f"  reconciles          {'yes' if report['reconciles'] else 'NO'}")
    return "\n".join(lines)
