"""Grades out of the gradebook: nbgrader's own CSV, and one row per submission with its status."""
from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.plugins.export import CsvExportPlugin

from . import records
from .course import Course
from .nbgrader_api import gradebook_for

STATUS_COLUMNS = ["student", "assignment", "status", "score", "max_score", "reason", "notes", "seconds"]


def nbgrader_csv(course: Course, dest: Path) -> Path:
    plugin = CsvExportPlugin(config=course.config())
    plugin.to = str(dest)
    with gradebook_for(course) as gb:
        plugin.export(gb)
    return dest


def status_csv(course: Course, assignments: list[str], dest: Path) -> Path:
    with dest.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(STATUS_COLUMNS)
        for assignment in assignments:
            for r in records.load_all(course, assignment):
                out.writerow([r.student, r.assignment, r.status, r.score, r.max_score, r.reason,
                              " | ".join(r.notes), r.seconds])
    return dest


def summary_table(rows: list[records.Record]) -> str:
    """A fixed-width table for the terminal."""
    lines = [f"{'assignment':<22} {'student':<18} {'score':>11}  {'status':<9} note"]
    for r in rows:
        note = r.reason or "; ".join(r.notes)
        lines.append(f"{r.assignment:<22} {r.student:<18} {r.score:>5g}/{r.max_score:<5g}  "
                     f"{r.status:<9} {note[:90]}")
    return "\n".join(lines)
