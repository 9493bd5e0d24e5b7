"""A progress line for long grading runs, on a terminal only.

A class of a few hundred submissions grades for an hour: whoever started it wants to see how far it
is and when it will end. Logs and CI output (not a terminal) get nothing, so they stay diffable.
"""
from __future__ import annotations

import time
from collections import Counter
from typing import TextIO

from .records import GRADED, Record


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{secs:02d}s"


class Progress:
    """Call it with each record as it is graded; `close()` prints the totals.

    `label` starts every line (the demo grades several assignments in a row); `clock` is there so
    that tests can give it a time of their own.
    """

    def __init__(self, stream: TextIO, clock=time.monotonic, label: str = ""):
        self.stream, self.clock, self.label = stream, clock, f"{label}: " if label else ""
        self.shown = stream.isatty()
        self.started = clock()
        self.records: list[Record] = []

    def __call__(self, record: Record, done: int, total: int) -> None:
        self.records.append(record)
        if not self.shown:
            return
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = done / elapsed
        eta = (total - done) / rate if rate else 0.0
        failures = sum(r.status != GRADED for r in self.records)
        self.stream.write(f"\r{self.label}{done}/{total} graded  {rate * 60:.1f}/min  ETA {_duration(eta)}"
                          f"  {failures} not graded\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if not self.shown or not self.records:
            return
        counts = Counter(r.status for r in self.records)
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        failed = [r.student for r in self.records if r.status != GRADED]
        line = f"\r{self.label}{len(self.records)} submissions in {_duration(self.clock() - self.started)}: {parts}"
        if failed:
            line += f" (not graded: {', '.join(failed[:10])}{', ...' if len(failed) > 10 else ''})"
        self.stream.write(line + "\x1b[K\n")
        self.stream.flush()
