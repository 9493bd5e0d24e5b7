"""The sample class: simulated students for every assignment, graded end to end.

Each student stands for a case a real class always has. They are built from the committed
solutions/ and release/ notebooks and from the assignment's mutants, so the demo always matches the
current assignments.
"""
from __future__ import annotations

import contextlib
import functools
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat

from . import export, feedback, grading, mutants, report, variants
from . import notebooks as nbs
from .course import Course, REPO
from .progress import Progress
from .quiet import warnings_to
from .schedule import due_date


TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
OTHER_VARIANT = "hal-other-variant"   # only in the class of an assignment with variants of its data


def _perfect(solution, assignment):
    return solution


def _planted(assignment: str) -> list[mutants.Mutant]:
    """The known misconceptions of the partial student: every other mutant of the first batch."""
    batch = mutants.batches(mutants.load(REPO / "tests" / "mutants" / f"{assignment}.toml"))
    return batch[0][::2] if batch else []


def _partial(solution, assignment):
    """Right but for some known misconceptions."""
    planted = _planted(assignment)
    return mutants.apply(solution, planted) if planted else solution


def _crashing(solution, assignment):
    """Kills its own kernel halfway through."""
    nb = nbformat.from_dict(solution)
    answers = [c for c in nb.cells if nbs.is_answer(c)]
    answers[len(answers) // 2].source = "import os\nos._exit(1)"
    return nb


def _test_editor(solution, assignment):
    """Replaces one test cell by `pass` and deletes another: nbgrader must restore both."""
    nb = nbformat.from_dict(solution)
    tests = [c for c in nb.cells if nbs.is_test(c)]
    tests[0].source = "pass"
    nb.cells.remove(tests[-1])
    return nb


def with_data(solution, folder: Path):
    """The notebook reading the data in `folder`, whatever the grader set: what a student who took a
    classmate's data folder (or numbers) hands in."""
    nb = nbformat.from_dict(solution)
    first = next(c for c in nb.cells if c.cell_type == "code" and "DATA_DIR /" in c.source)
    lines = first.source.splitlines()
    at = next(i for i, line in enumerate(lines) if "DATA_DIR /" in line)   # before the data is first used
    first.source = "\n".join(lines[:at] + [f"DATA_DIR = Path({str(folder)!r})"] + lines[at:])
    return nb


def _other_variant(course: Course, solution, assignment):
    """Right, but computed on the next variant's data instead of their own."""
    mine = variants.of_student(course, assignment, OTHER_VARIANT)
    other = (mine + 1) % variants.count(course, assignment)
    return with_data(solution, variants.data_for(course, assignment, other))


# (student id, how the notebook is made, file name or None for the expected one, days after the due date)
STUDENTS = [
    ("ada-perfect", _perfect, None, -1),
    ("ben-partial", _partial, None, -1),
    ("cleo-blank", None, None, -1),
    ("dan-crashing", _crashing, None, -1),
    ("eve-test-editor", _test_editor, None, -1),
    ("finn-late", _perfect, None, 2),
    ("gus-renamed", _perfect, "Copy of {}", -1),
]


def students(course: Course, assignment: str) -> list[tuple]:
    """The sample class of one assignment: with variants of its data, one student used another's."""
    return STUDENTS + ([(OTHER_VARIANT, functools.partial(_other_variant, course), None, -1)]
                       if variants.count(course, assignment) > 1 else [])


def build_class(course: Course, assignment: str, out: Path) -> list[str]:
    """Write out/<student>/<assignment>/ for every simulated student; returns the student ids."""
    name = f"{assignment}.ipynb"
    solution = nbs.read(course.solutions_dir / assignment / name)
    blank = nbs.read(course.release_dir / assignment / name)
    due = due_date(course.config(), assignment)
    for student, make, filename, days_late in students(course, assignment):
        folder = out / student / assignment
        if folder.exists():
            shutil.rmtree(folder)
        nb = make(nbformat.from_dict(solution), assignment) if make else blank
        nbs.write(nb, folder / (filename.format(name) if filename else name))
        if due:
            stamp = datetime.fromisoformat(due.replace(" UTC", "+00:00")) + timedelta(days=days_late)
            (folder / "timestamp.txt").write_text(stamp.astimezone(timezone.utc).strftime(TIME_FORMAT))
    return [s[0] for s in students(course, assignment)]


def grade_class(course: Course, assignments: list[str], submissions: Path, jobs: int) -> list:
    """Build, grade and give feedback for every assignment, with a progress line on a terminal."""
    rows = []
    for assignment in assignments:
        build_class(course, assignment, submissions)
        progress = Progress(sys.stderr, label=assignment)
        try:
            rows += grading.grade(course, assignment, submissions, force=True, jobs=jobs, on_graded=progress)
        finally:
            progress.close()
        feedback.generate(course, assignment)
    return rows


def run(course: Course, assignments: list[str], jobs: int = 2, verbose: bool = False) -> None:
    """Build, grade, give feedback and export for the sample class; print where to look.

    Library warnings go to logs/warnings.log of the working folder unless `verbose`."""
    if course.workdir is None:
        course = Course(root=course.root, workdir=course.root / "var" / "demo")
    submissions = course.work / "submissions"
    log = course.work / "logs" / "warnings.log"
    with contextlib.nullcontext() if verbose else warnings_to(log):
        rows = grade_class(course, assignments, submissions, jobs)
        # What the report checks the feedback against: did each planted misconception get named?
        report.record_planted(course, {a: {"ben-partial": [m.hint for m in _planted(a)]} for a in assignments})
        print(export.summary_table(rows))
        grades = export.nbgrader_csv(course, course.work / "grades.csv")
        status = export.status_csv(course, assignments, course.work / "submissions.csv")
        lms = export.lms_csv(course, assignments, course.work / "lms.csv")
        index = report.generate(course, assignments)
    print(f"\nsubmissions: {submissions}\nfeedback:    {course.dir_of('feedback')}"
          f"\ngrades:      {grades}\nstatuses:    {status}\nLMS grades:  {lms}")
    if not verbose:
        print(f"warnings:    {log} (--verbose shows them here)")
    print(f"\nclass report (open it in a browser): {index}")
