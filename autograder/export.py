"""Grades out of the gradebook: nbgrader's own CSV, one row per submission with its status, and the
CSV an LMS imports (final scores, late penalties)."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pandas as pd
from nbgrader.api import MissingEntry
from nbgrader.plugins.export import CsvExportPlugin

from . import records
from .course import Course
from .late import days_late
from .nbgrader_api import gradebook_for

STATUS_COLUMNS = ["student", "assignment", "status", "score", "max_score", "reason", "notes", "seconds"]
# The LMS import: this order never changes; new columns go at the end.
LMS_COLUMNS = ["student_id", "assignment", "raw_score", "late_penalty", "score", "max_score", "days_late", "status"]
PENDING = "pending manual grading"


def nbgrader_csv(course: Course, dest: Path) -> Path:
    plugin = CsvExportPlugin(config=course.config())
    plugin.to = str(dest)
    with gradebook_for(course) as gb:
        plugin.export(gb)
    return dest


def status_csv(course: Course, assignments: list[str], dest: Path) -> Path:
    """One row per submission: the gradebook's score (before any late penalty, as nbgrader's) and
    status as they are now (written answers graded since autograding included), with the grader's
    reason and notes."""
    tables = [submission_table(course, a) for a in assignments]
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=STATUS_COLUMNS)
    table.drop(columns="score").rename(columns={"raw_score": "score"})[STATUS_COLUMNS].to_csv(dest, index=False)
    return dest


def summary_table(rows: list[records.Record], width: int | None = None) -> str:
    """A fixed-width table for the terminal; a long note wraps under its column, never cut
    (`width`: the terminal's, by default)."""
    width = width or shutil.get_terminal_size(fallback=(140, 24)).columns
    lines = [f"{'assignment':<22} {'student':<18} {'score':>11}  {'status':<9} note"]
    indent = len(lines[0]) - len("note")
    for r in rows:
        note = r.reason or "; ".join(r.notes)
        wrapped = textwrap.wrap(note, max(width - indent, 30), break_on_hyphens=False) or [""]
        lines.append(f"{r.assignment:<22} {r.student:<18} {r.score:>5g}/{r.max_score:<5g}  "
                     f"{r.status:<9} {wrapped[0]}")
        lines += [" " * indent + more for more in wrapped[1:]]
    return "\n".join(lines)


def submission_row(submission, record: records.Record | None) -> dict:
    """One submission as the exports and the report see it: gradebook scores, grader's record.

    A submission with written answers still to grade is PENDING: its score is the autograded part
    only, not a final grade (and not zero).
    """
    status = record.status if record else records.GRADED
    pending = [g for n in submission.notebooks for g in n.grades
               if g.needs_manual_grade and status == records.GRADED]
    raw, penalty = float(submission.score), float(submission.late_submission_penalty or 0)
    return {"student": submission.student_id, "assignment": submission.assignment.name,
            "status": PENDING if pending else status,
            "raw_score": raw, "late_penalty": penalty, "score": raw - penalty,
            "max_score": float(submission.max_score), "days_late": days_late(submission.total_seconds_late),
            "pending_points": sum(float(g.max_score) for g in pending),
            "seconds": record.seconds if record else None,
            "reason": record.reason if record else "", "notes": " | ".join(record.notes) if record else "",
            "variant": record.variant if record else None, "flags": list(record.flags) if record else []}


def submission_table(course: Course, assignment: str) -> pd.DataFrame:
    """Every submission of one assignment in the gradebook (an empty table if there is none)."""
    with gradebook_for(course) as gb:
        try:
            submissions = gb.assignment_submissions(assignment)
        except MissingEntry:
            submissions = []
        rows = [submission_row(s, records.load(course, assignment, s.student_id)) for s in submissions]
    columns = ["student", "assignment", "status", "raw_score", "late_penalty", "score", "max_score",
               "days_late", "pending_points", "seconds", "reason", "notes", "variant", "flags"]
    return pd.DataFrame(rows, columns=columns).sort_values("student", ignore_index=True)


def lms_csv(course: Course, assignments: list[str], dest: Path) -> Path:
    """student_id, assignment, raw_score, late_penalty, score, max_score, days_late, status."""
    table = pd.concat([submission_table(course, a) for a in assignments], ignore_index=True)
    table.rename(columns={"student": "student_id"})[LMS_COLUMNS].to_csv(dest, index=False)
    return dest
