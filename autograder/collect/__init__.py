"""`python -m autograder collect`: the submissions folder built from what an instructor downloads.

Grading reads `<student>/<assignment>/<notebook>.ipynb` (with nbgrader's `timestamp.txt` for the
late rule); instructors get a Moodle or Canvas zip, a folder of GitHub Classroom clones, or nbgrader's
exchange. One reader per format finds the handed-in files and their times (`moodle`, `canvas`,
`github`, `exchange`), the roster says whose they are, `choose` settles names and duplicates, and
this module writes the folder and `collect-<assignment>.csv`: every file collected or skipped, and why.

Nothing from an archive names a path here: folders are named by roster ids, files by the course's
notebook names (or a checked plain name). An earlier collection of the assignment is never replaced
unless asked, and a new one is built beside it first, so a failure leaves nothing half-written.
"""
from __future__ import annotations

import contextlib
import csv
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..course import STUDENT_ID, Course, CourseError
from ..intake import TIMESTAMP
from ..sandbox.policy import GradingLimits
from . import canvas, exchange, github, moodle
from . import roster as rosters
from .choose import Candidate, choose, target_name
from .entries import Skip, stamp

FORMATS = {"moodle": moodle.read, "canvas": canvas.read, "github": github.read, "exchange": exchange.read}
REPORT_COLUMNS = ["status", "student_id", "notebook", "submitted_at", "identity", "source", "note"]


def counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass
class Result:
    out: Path
    report: Path
    collected: list[Candidate]
    skipped: list[Skip]

    def summary(self) -> str:
        students = len({c.student for c in self.collected})
        return (f"collected {counted(len(self.collected), 'notebook')} of {counted(students, 'student')} "
                f"into {self.out}, skipped {len(self.skipped)}: see {self.report}")


def report_path(out: Path, assignment: str) -> Path:
    return out / f"collect-{assignment}.csv"


def collect(course: Course, assignment: str, fmt: str, source: Path, out: Path, roster: Path | None = None,
            deadline: datetime | None = None, replace: bool = False, moodle_worksheet: Path | None = None,
            timezone: str = "UTC") -> Result:
    """Build `out/<student>/<assignment>/` from `source` in format `fmt`; refuses to replace an earlier
    collection of the assignment in `out` unless `replace`."""
    course.check_assignment(assignment)
    if fmt not in FORMATS:
        raise CourseError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if not source.exists():
        raise CourseError(f"no {fmt} download at {source}")
    people = rosters.read(roster)
    if people.open and fmt != "exchange":
        raise CourseError(f"collecting from {fmt} needs --roster: it maps {fmt} identities to student ids")
    earlier = earlier_collection(out, assignment)
    if earlier and not replace:
        raise CourseError(f"{out} already holds a collection of {assignment} ({earlier[0]}, {len(earlier)} in all): "
                          "pass --replace to replace it, or choose another --out")
    expected = course.notebook_names(assignment)
    max_bytes = GradingLimits.from_config(course.config()).submission_bytes
    options = {"github": {"deadline": deadline, "users": people.github_users()},
               "moodle": {"worksheet": moodle_worksheet, "timezone": timezone}}.get(fmt, {})
    with contextlib.ExitStack() as stack:
        candidates, skipped = _candidates(FORMATS[fmt](source, assignment, stack, max_bytes, **options),
                                          people, expected)
        kept, passed = choose(candidates, expected, deadline)
        written, unreadable = _write(kept, out, assignment, earlier)
    result = Result(out, report_path(out, assignment), written, skipped + passed + unreadable)
    write_report(result)
    return result


def earlier_collection(out: Path, assignment: str) -> list[Path]:
    """What a collection of this assignment already wrote in `out` (folders and the report)."""
    if not out.is_dir():
        return []
    folders = [p / assignment for p in sorted(out.iterdir())
               if (p / assignment).is_symlink() or (p / assignment).exists()]
    return folders + [report_path(out, assignment)] * report_path(out, assignment).exists()


def _candidates(items, people: rosters.Roster, expected: list[str]) -> tuple[list[Candidate], list[Skip]]:
    """Each entry with its student and notebook name; what has neither is skipped with the reason."""
    candidates, skipped = [], []
    for item in items:
        student, matched = people.student(item.identity) if item.identity else (None, "")
        if isinstance(item, Skip):
            item.student = student or ""
            skipped.append(item)
            continue
        target, renamed = target_name(item.filename, expected)
        if student is None:
            skipped.append(Skip(item.source, f"not on the roster ({item.identity})", item.identity, time=item.time))
        elif not STUDENT_ID.match(student):
            skipped.append(Skip(item.source, f"{student!r} is not a valid student id", item.identity, time=item.time))
        elif target is None:
            skipped.append(Skip(item.source, renamed, item.identity, student, item.time))
        else:
            candidates.append(Candidate(item, student, target, [n for n in (matched, renamed, *item.notes) if n]))
    return candidates, skipped


def _write(kept: list[Candidate], out: Path, assignment: str, earlier: list[Path]) -> tuple[list[Candidate], list[Skip]]:
    """Read each kept file and write it, staged in a folder of its own, then moved in place."""
    staging = out / f".collecting-{assignment}"
    if staging.exists():
        shutil.rmtree(staging)
    written, unreadable = [], []
    for candidate in kept:
        try:
            data = candidate.entry.load()
        except Exception as exc:  # a corrupt member, a file swapped for a link: the instructor hears why
            unreadable.append(Skip(candidate.entry.source, f"could not be read ({exc})", candidate.entry.identity,
                                   candidate.student, candidate.entry.time))
            continue
        folder = staging / candidate.student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / candidate.target).write_bytes(data)
        written.append(candidate)
    for student in sorted({c.student for c in written}):
        times = [c.entry.time for c in written if c.student == student and c.entry.time]
        if times:
            (staging / student / assignment / TIMESTAMP).write_text(stamp(max(times)))
    for path in earlier:
        _remove(path, out)
    for student in sorted({c.student for c in written}):
        if (out / student).is_symlink():
            raise CourseError(f"{out / student} is a link: the collector does not write through links")
        (out / student).mkdir(parents=True, exist_ok=True)
        (staging / student / assignment).rename(out / student / assignment)
    if staging.exists():
        shutil.rmtree(staging)
    return written, unreadable


def _remove(path: Path, out: Path) -> None:
    """An earlier collection's folder or report; a link is removed as a link, never followed."""
    if path.parent != out and path.parent.is_symlink():
        raise CourseError(f"{path.parent} is a link: remove it yourself, the collector does not follow links")
    if path.is_symlink() or not path.is_dir():
        path.unlink()
    else:
        shutil.rmtree(path)


def write_report(result: Result) -> Path:
    """collect-<assignment>.csv: one row per file collected, then one per file skipped, with why."""
    rows = [["collected", c.student, c.target, stamp(c.entry.time), str(c.entry.identity), c.entry.source,
             "; ".join(c.notes)] for c in sorted(result.collected, key=lambda c: (c.student, c.target))]
    rows += [["skipped", s.student, "", stamp(s.time), str(s.identity or ""), s.source, s.reason]
             for s in sorted(result.skipped, key=lambda s: (s.student, s.source))]
    result.out.mkdir(parents=True, exist_ok=True)
    with result.report.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(REPORT_COLUMNS)
        out.writerows(rows)
    return result.report
