"""Merging graded shards into the course: gradebook, records, logs and graded copies.

Every shard is checked before anything is written: one assignment, one version of it (the source
fingerprint), the course's own version, each index once and none missing. The grades are copied
through nbgrader's Gradebook API into the course gradebook, so the result is what a single run
would have written. Shards that wrote a shared (PostgreSQL) gradebook are already in it: only
their files are copied.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from . import build, grading, shard as shards
from .course import Course, CourseError
from .nbgrader_api import gradebook_for

GRADE_FIELDS = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade")
COMMENT_FIELDS = ("auto_comment", "manual_comment")


def find_shards(course: Course) -> list[Path]:
    """Every finished shard under the working folder's shards/."""
    return sorted(p.parent for p in (course.work / "shards").glob(f"*/*/{shards.MANIFEST}"))


def check(course: Course, folders: list[Path]) -> tuple[str, list[dict]]:
    """The assignment the shards belong to, and their manifests; a CourseError if they do not fit."""
    if not folders:
        raise CourseError(f"no finished shard to merge under {course.work / 'shards'}")
    manifests = [shards.read_manifest(f) for f in folders]
    assignments = {m["assignment"] for m in manifests}
    if len(assignments) > 1:
        raise CourseError(f"shards of different assignments: {', '.join(sorted(assignments))}")
    assignment = assignments.pop()
    course.check_assignment(assignment)
    current = shards.fingerprint(course, assignment)
    stale = [str(f) for f, m in zip(folders, manifests) if m["fingerprint"] != current]
    if stale:
        raise CourseError(f"shards graded from another version of {assignment} than source/ holds: {', '.join(stale)}")
    counts = {m["count"] for m in manifests}
    indices = sorted(m["index"] for m in manifests)
    if len(counts) > 1 or indices != list(range(counts.pop())):
        found = ", ".join(m["shard"] for m in sorted(manifests, key=lambda m: (m["count"], m["index"])))
        raise CourseError(f"shards of {assignment} do not make one whole run (found {found}): "
                          "each of 0/N .. N-1/N once")
    return assignment, manifests


def copy_submission(source: Gradebook, target: Gradebook, assignment: str, student: str) -> None:
    """One student's submission, grade by grade and comment by comment."""
    theirs = source.find_submission(assignment, student)
    person = theirs.student
    target.update_or_create_student(student, first_name=person.first_name, last_name=person.last_name,
                                    email=person.email, lms_user_id=person.lms_user_id)
    try:
        ours = target.find_submission(assignment, student)
    except MissingEntry:
        ours = target.add_submission(assignment, student)
    ours.timestamp, ours.extension = theirs.timestamp, theirs.extension
    for notebook in theirs.notebooks:
        mine = target.find_submission_notebook(notebook.name, assignment, student)
        mine.flagged, mine.late_submission_penalty = notebook.flagged, notebook.late_submission_penalty
        for grade in notebook.grades:
            row = target.find_grade(grade.name, notebook.name, assignment, student)
            for name in GRADE_FIELDS:
                setattr(row, name, getattr(grade, name))
        for comment in notebook.comments:
            row = target.find_comment(comment.name, notebook.name, assignment, student)
            for name in COMMENT_FIELDS:
                setattr(row, name, getattr(comment, name))
    target.db.commit()


def copy_files(course: Course, part: Course, assignment: str) -> None:
    """Records, logs and each student's submitted and autograded copies."""
    for sub in ("records", "logs"):
        if (part.work / sub / assignment).is_dir():
            shutil.copytree(part.work / sub / assignment, course.work / sub / assignment, dirs_exist_ok=True)
    for step in ("submitted", "autograded"):
        for folder in part.dir_of(step).glob(f"*/{assignment}"):
            shutil.copytree(folder, course.dir_of(step) / folder.parent.name / assignment, dirs_exist_ok=True)


def merge(course: Course, folders: list[Path] | None = None) -> tuple[str, int]:
    """Merge finished shards (default: every one under the working folder) into the course.

    Returns the assignment and the number of submissions merged.
    """
    folders = folders if folders is not None else find_shards(course)
    assignment, manifests = check(course, folders)
    build.release(grading.grading_course(course), assignment)
    merged = 0
    for folder, manifest in zip(folders, manifests):
        part = dataclasses.replace(course, workdir=folder.resolve(), db_url=None)
        if manifest["own_gradebook"]:
            with gradebook_for(part) as source, gradebook_for(course) as target:
                students = [s.student_id for s in source.assignment_submissions(assignment)]
                for student in students:
                    copy_submission(source, target, assignment, student)
        copy_files(course, part, assignment)
        merged += manifest["graded"]
    return assignment, merged
