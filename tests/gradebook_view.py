"""What two grading runs must agree on, read the same way by the tests that compare them
(shards merged against one run, SLURM against one machine)."""
from __future__ import annotations

from autograder import records
from autograder.course import Course
from autograder.nbgrader_api import gradebook_for


def snapshot(course: Course, assignment: str) -> dict:
    """Everything the gradebook says about each submission of `assignment`, ids aside."""
    with gradebook_for(course) as gb:
        return {s.student_id: (str(s.timestamp), [
            (nb.name, nb.flagged, nb.late_submission_penalty,
             sorted((g.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade) for g in nb.grades),
             sorted((c.name, c.auto_comment, c.manual_comment) for c in nb.comments))
            for nb in s.notebooks]) for s in gb.assignment_submissions(assignment)}


def record_table(course: Course, assignment: str) -> dict:
    """Each student's grading record, as a comparable tuple."""
    return {r.student: (r.status, r.score, r.max_score, r.reason, r.notes, r.timestamp)
            for r in records.load_all(course, assignment)}
