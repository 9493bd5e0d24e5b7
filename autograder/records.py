"""One record per graded submission, kept beside the gradebook.

nbgrader's gradebook holds scores; it has no place for *why* a submission scored what it did (a
rejected notebook, a kernel that died, a restored test cell). These JSON records hold that, so that
feedback, exports and the demo summary can say it, and so that a re-run can skip what is done.
Flags (values that match another variant's data) are for the staff's report, not the feedback.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .course import Course

GRADED, REJECTED, FAILED = "graded", "rejected", "failed"


@dataclass
class Record:
    student: str
    assignment: str
    status: str
    score: float = 0.0
    max_score: float = 0.0
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    timestamp: str | None = None
    submission_sha256: str | None = None
    layers: list[str] = field(default_factory=list)
    stopped: dict | None = None   # the cell running when the kernel died or timed out (guard.py)
    variant: int | None = None   # of the data, for an assignment with variants (variants.py)
    flags: list[str] = field(default_factory=list)   # for the staff only: never in the feedback


def record_path(course: Course, assignment: str, student: str) -> Path:
    return course.work / "records" / assignment / f"{student}.json"


def save(course: Course, record: Record) -> None:
    """Write atomically, so that a grader killed mid-write never leaves half a record."""
    path = record_path(course, record.assignment, record.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(record), indent=1))
    tmp.replace(path)


def log_path(course: Course, assignment: str, student: str) -> Path:
    return course.work / "logs" / assignment / f"{student}.log"


def write_log(course: Course, record: Record, nbgrader_log: str, verbose: bool = False) -> None:
    """The grading log of one submission: isolation layers in force, then what nbgrader said, its
    warnings only if `verbose` (they were most of the log, and repeat what the notes say: "checksum
    has changed" for every restored test cell)."""
    path = log_path(course, record.assignment, record.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{record.assignment} / {record.student}: {record.status} {record.score:g}/{record.max_score:g}"
             f" in {record.seconds:.1f} s", *record.layers, *(f"note: {n}" for n in record.notes)]
    if record.reason:
        lines.append(f"reason: {record.reason}")
    path.write_text("\n".join(lines) + "\n\n" + (nbgrader_log if verbose else without_warnings(nbgrader_log)))


def without_warnings(log: str) -> str:
    """nbgrader's log without its [WARNING] entries; an entry's indented lines go with it."""
    kept, warning = [], False
    for line in log.splitlines(keepends=True):
        if line.strip() and not line[0].isspace():
            warning = line.startswith("[WARNING]")
        if not warning:
            kept.append(line)
    return "".join(kept)


def load(course: Course, assignment: str, student: str) -> Record | None:
    path = record_path(course, assignment, student)
    return Record(**json.loads(path.read_text())) if path.exists() else None


def load_all(course: Course, assignment: str) -> list[Record]:
    folder = course.work / "records" / assignment
    return [Record(**json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))]
