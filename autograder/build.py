"""The student version (release/) and the perfect submission (solutions/), both from source/.

nbgrader's generate_assignment makes the release; the solution notebook is that release with the
reference answers put back, so it is exactly what a perfect student would hand in (no hidden test,
the release's checksums).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from . import notebooks as nbs
from .course import Course, CourseError
from .nbgrader_api import api_for, failure_summary, gradebook_for
from .schedule import due_date


def release(course: Course, assignment: str) -> Path:
    """Regenerate release/<assignment> and record it (cells, hidden tests, due date) in the gradebook."""
    result = api_for(course).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise CourseError(f"generate_assignment {assignment} failed: {failure_summary(result)}")
    for name in course.notebook_names(assignment):
        strip_checks(course.release_dir / assignment / name)
    due = due_date(course.config(), assignment)
    if due:
        with gradebook_for(course) as gb:
            gb.update_or_create_assignment(assignment, duedate=due)
    return course.release_dir / assignment


def strip_checks(path: Path) -> None:
    """The judge's checks (tolerances, thresholds) stay in source/: a student's notebook has none."""
    nb = nbs.read(path)
    if any("eds" in cell.get("metadata", {}) for cell in nb.cells):
        for cell in nb.cells:
            cell.get("metadata", {}).pop("eds", None)
        nbs.write(nb, path)


def solution_notebook(release_nb, source_nb):
    """The release notebook with every answer cell holding the source's reference answer."""
    reference = nbs.cells_by_id(source_nb)
    for cell in release_nb.cells:
        if nbs.is_answer(cell) or nbs.is_manual(cell):
            cell.source = nbs.without_markers(reference[nbs.grade_id(cell)].source)
    return release_nb


def solutions(course: Course, assignment: str, out_dir: Path | None = None) -> Path:
    """Write solutions/<assignment>/ from the current release/<assignment>/."""
    released = course.release_dir / assignment
    if not released.is_dir():
        raise CourseError(f"no release of {assignment} in {released}: run `make release` first")
    dest = (out_dir or course.solutions_dir) / assignment
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(released, dest)
    for name in course.notebook_names(assignment):
        nb = solution_notebook(nbs.read(released / name), nbs.read(course.source_dir / assignment / name))
        nbs.write(nb, dest / name)
    return dest
