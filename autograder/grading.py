"""Autograding a folder of submissions with nbgrader, with a record for every student.

Layout of a submissions folder: `<student>/<assignment>/<notebook>.ipynb` (and an optional
`timestamp.txt`, as nbgrader's collect writes it). nbgrader's own autograde drops a student whose
notebook fails to run ("Removing failed assignment"); here such a student is still in the gradebook,
with 0 for the autograded cells and the reason in the record.
"""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from nbgrader.api import MissingEntry

from . import build, intake, records
from .course import STUDENT_ID, Course, CourseError
from .nbgrader_api import api_for, failure_summary, gradebook_for
from .records import FAILED, GRADED, REJECTED, Record

# What a failing nbgrader run means, in words a student understands.
EXPLANATIONS = {
    "DeadKernelError": "the Python kernel died while running the notebook "
                       "(a crash, os._exit/sys.exit at top level, or memory exhausted)",
    "CellTimeoutError": "a cell ran longer than the time limit and could not be interrupted",
    "TimeoutError": "a cell ran longer than the time limit",
}


def grading_course(course: Course) -> Course:
    """Grading keeps its own copy of the release in the working folder, never touching release/."""
    return dataclasses.replace(course, release=course.work / "release")


def kernel_environment(course: Course) -> None:
    """What every grading kernel inherits.

    nbgrader scores any stderr output in a test cell as a failure, so library warnings are silenced;
    a test that checks for a warning turns them on itself.
    """
    os.environ["EDS_DATA_DIR"] = str(course.data_dir)
    os.environ["PYTHONWARNINGS"] = "ignore"
    os.environ.setdefault("MPLBACKEND", "agg")


def explain(summary: str) -> str:
    for name, text in EXPLANATIONS.items():
        if name in summary:
            return text
    return f"the notebook could not be graded: {summary}"


def students_in(submissions: Path, assignment: str) -> list[str]:
    return sorted(p.name for p in submissions.iterdir() if p.is_dir()) if submissions.is_dir() else []


def zero_autograded(course: Course, assignment: str, student: str) -> None:
    """Put the submission in the gradebook with 0 for every autograded cell (manual grades kept)."""
    with gradebook_for(course) as gb:
        gb.update_or_create_student(student)
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            submission = gb.add_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.auto_score is not None or grade.cell.cell_type == "code":
                    grade.auto_score = 0
        gb.db.commit()


def scores(course: Course, assignment: str, student: str) -> tuple[float, float]:
    with gradebook_for(course) as gb:
        submission = gb.find_submission(assignment, student)
        return float(submission.score), float(submission.max_score)


def grade_one(course: Course, api, assignment: str, student: str, folder: Path) -> Record:
    started = time.monotonic()
    checked = intake.check(course, assignment, folder)
    record = Record(student, assignment, GRADED, notes=checked.notes,
                    timestamp=checked.timestamp, submission_sha256=checked.sha256)
    if not checked.ok:
        record.status, record.reason = REJECTED, checked.reason
        zero_autograded(course, assignment, student)
    else:
        intake.stage(course, assignment, folder, student, checked)
        result = api.autograde(assignment, student, force=True, create=True)
        if not result["success"]:
            record.status, record.reason = FAILED, explain(failure_summary(result))
            zero_autograded(course, assignment, student)
    record.score, record.max_score = scores(course, assignment, student)
    record.seconds = round(time.monotonic() - started, 2)
    records.save(course, record)
    return record


def already_graded(course: Course, assignment: str, student: str, folder: Path) -> bool:
    """A re-run skips a submission whose record matches the notebook on disk."""
    previous = records.load(course, assignment, student)
    return previous is not None and previous.submission_sha256 == intake.fingerprint(folder)


def grade(course: Course, assignment: str, submissions: Path, force: bool = False) -> list[Record]:
    """Grade every student folder under `submissions` for one assignment."""
    course.check_assignment(assignment)
    if not submissions.is_dir():
        raise CourseError(f"no submissions folder {submissions}")
    course = grading_course(course)
    build.release(course, assignment)
    kernel_environment(course)
    api = api_for(course)
    done = []
    for student in students_in(submissions, assignment):
        if not STUDENT_ID.match(student):
            print(f"skipped folder {student!r}: not a valid student id")
            continue
        folder = submissions / student / assignment
        if not force and already_graded(course, assignment, student, folder):
            done.append(records.load(course, assignment, student))
            continue
        done.append(grade_one(course, api, assignment, student, folder))
    return done
