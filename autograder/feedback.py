"""Feedback for every student: nbgrader's HTML where the notebook ran, a plain page where it did not."""
from __future__ import annotations

import html
from pathlib import Path

from . import records
from .course import Course
from .grading import grading_course
from .nbgrader_api import api_for, failure_summary
from .records import GRADED, Record


def notice_page(record: Record) -> str:
    """What a student whose notebook could not be graded reads instead of nbgrader's feedback."""
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in record.notes)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{record.assignment}: "
            f"{record.student}</title></head><body><h1>{html.escape(record.assignment)}</h1>"
            f"<p>Score: {record.score:g} / {record.max_score:g}</p>"
            f"<p><strong>Your notebook was not graded automatically:</strong> "
            f"{html.escape(record.reason)}.</p><ul>{notes}</ul></body></html>")


def generate(course: Course, assignment: str) -> Path:
    """Write feedback/<student>/<assignment>/ for every recorded student; returns the folder."""
    course = grading_course(course)
    result = api_for(course).generate_feedback(assignment, force=True)
    if not result["success"]:
        print(f"nbgrader feedback reported: {failure_summary(result)}")
    out = course.dir_of("feedback")
    for record in records.load_all(course, assignment):
        if record.status != GRADED:
            page = out / record.student / assignment / f"{assignment}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(notice_page(record))
    return out
