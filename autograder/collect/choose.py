"""Which handed-in file becomes which student's notebook.

Notebooks are graded by name, so the name is settled here, once for every format: a copy whose name
is plainly the expected one ("Copy of 01-regression.ipynb", "01-regression (1).ipynb", Canvas's
"01-regression-1.ipynb", another case) is renamed with a note; any other notebook keeps its own
name, so that grading records the wrong name as the reason the student reads, unless the student
also handed in the expected one. Of several files for one notebook the latest at or before the
deadline is kept (the latest of all when none is on time, as nbgrader's collect does); every
other file is skipped with the reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

from .entries import Entry, Skip, stamp

COPY_OF = re.compile(r"^(copy of\s+)+", re.IGNORECASE)
NUMBERED = re.compile(r"(\s*\(\d+\)|-\d+)$")
SAFE_NAME = re.compile(r"^[^/\\\0.][^/\\\0]{0,200}\.ipynb$")


@dataclass
class Candidate:
    """An entry with the student it belongs to and the notebook name it will be written under."""
    entry: Entry
    student: str
    target: str
    notes: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.entry.filename == self.target


def _plain(stem: str) -> str:
    stem = COPY_OF.sub("", stem.strip())
    return re.sub(r"[\s_]+", "-", NUMBERED.sub("", stem)).casefold()


def target_name(filename: str, expected: list[str]) -> tuple[str | None, str]:
    """The name to write a handed-in file under, or None and why it is not collected."""
    if not filename.casefold().endswith(".ipynb"):
        return None, "not a notebook"
    if filename in expected:
        return filename, ""
    stem = PurePosixPath(filename).stem
    for name in expected:
        if _plain(stem) == _plain(PurePosixPath(name).stem):
            return name, f"renamed {filename} to {name}"
    if not SAFE_NAME.match(filename):
        return None, "a notebook whose name cannot be a file name here"
    return filename, f"not named {' or '.join(expected)}: kept as {filename}, grading will say so"


def _order(candidate: Candidate, deadline: datetime | None) -> tuple:
    time = candidate.entry.time
    on_time = deadline is None or time is None or time <= deadline
    return on_time, time.timestamp() if time else 0.0, candidate.exact, -candidate.entry.source.count("/")


def _why_not(kept: Candidate, other: Candidate, deadline: datetime | None) -> str:
    mine, theirs = other.entry.time, kept.entry.time
    if mine and deadline and mine > deadline and (theirs is None or theirs <= deadline):
        return f"after the deadline: the one of {stamp(theirs)} at or before it was kept ({kept.entry.source})"
    if mine and theirs and mine < theirs:
        return f"an earlier submission: the one of {stamp(theirs)} was kept ({kept.entry.source})"
    return f"another file for {kept.target}: {kept.entry.source} was kept"


def choose(candidates: list[Candidate], expected: list[str], deadline: datetime | None) -> tuple[list[Candidate], list[Skip]]:
    """One candidate per (student, notebook name); everything passed over as a Skip with its reason."""
    kept, skipped = [], []
    students = sorted({c.student for c in candidates})
    for student in students:
        mine = [c for c in candidates if c.student == student]
        expected_found = {c.target for c in mine if c.target in expected}
        for extra in [c for c in mine if expected_found and c.target not in expected]:
            skipped.append(_skip(extra, f"another notebook beside {', '.join(sorted(expected_found))}: "
                                        "not part of the assignment"))
        mine = [c for c in mine if not expected_found or c.target in expected]
        for target in sorted({c.target for c in mine}):
            same = sorted((c for c in mine if c.target == target), key=lambda c: _order(c, deadline), reverse=True)
            kept.append(same[0])
            skipped += [_skip(other, _why_not(same[0], other, deadline)) for other in same[1:]]
    return kept, skipped


def _skip(candidate: Candidate, reason: str) -> Skip:
    entry = candidate.entry
    return Skip(entry.source, reason, entry.identity, candidate.student, entry.time)
