"""The toy course (tests/fixtures/toy: two autograded parts, one written question, one misconception
hint), built in a temporary folder and graded in about 15 s: the fast ground for the grading,
feedback, report, formgrader and browser tests.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder import build, expected, feedback, grading, notebooks as nbs, records
from autograder.course import REPO, Course

TOY = "99-toy"
DUE = "2026-01-10 12:00:00 UTC"
LATE_STAMP = "2026-01-12 11:00:00.000000 UTC"   # 1 day 23 h late: two started days


def make_toy_course(root: Path, due: str | None = None) -> Course:
    """source/ (with the expected observations), release/ and solutions/ of the toy assignment under
    root, with the course's config and the toy's mutants."""
    (root / "source" / TOY).mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    if due:
        with (root / "nbgrader_config.py").open("a") as fh:
            fh.write(f"\nc.CourseSchedule.due_dates[{TOY!r}] = {due!r}\n")
    shutil.copy(REPO / "tests" / "fixtures" / "toy" / f"{TOY}.ipynb", root / "source" / TOY)
    course = Course(root=root)
    mutants = expected.mutants_path(course, TOY)
    mutants.parent.mkdir(parents=True)
    shutil.copy(REPO / "tests" / "fixtures" / "toy" / "mutants.toml", mutants)
    build.release(course, TOY)
    build.solutions(course, TOY)
    expected.record(course, TOY)
    return course


def toy_class(course: Course, out: Path) -> None:
    """One student per kind of submission the grader must survive."""
    name = f"{TOY}.ipynb"
    solution = nbs.read(course.solutions_dir / TOY / name)
    edited = nbformat.from_dict(solution)
    edited.cells[3].source = "pass"            # a test cell emptied
    del edited.cells[5]                        # another one deleted
    crashing = nbformat.from_dict(solution)
    crashing.cells[4].source = "import os\nos._exit(3)"
    cases = {
        "ada": solution, "ben": nbs.read(course.release_dir / TOY / name), "eve": edited, "finn": crashing,
    }
    for student, nb in cases.items():
        nbs.write(nb, out / student / TOY / name)
    (out / "cleo" / TOY).mkdir(parents=True)
    (out / "cleo" / TOY / name).write_text("{ this is not json")
    nbs.write(solution, out / "dan" / TOY / f"{TOY} (1).ipynb")
    (out / "gus" / TOY).mkdir(parents=True)
    nbs.write(solution, out / "hal" / TOY / name)
    (out / "hal" / TOY / "notes.txt").write_text("my scratch notes")


def report_class(course: Course, out: Path) -> None:
    """toy_class, plus a student with the known misconception and one who hands in two days late."""
    toy_class(course, out)
    name = f"{TOY}.ipynb"
    solution = nbs.read(course.solutions_dir / TOY / name)
    misconceived = nbformat.from_dict(solution)   # passes the visible example, sums everywhere else
    misconceived.cells[4].source = ("def mean_of(values):\n"
                                    "    return 2.0 if list(values) == [1, 2, 3] else float(np.sum(values))")
    nbs.write(misconceived, out / "ivy" / TOY / name)
    nbs.write(solution, out / "jon" / TOY / name)
    (out / "jon" / TOY / "timestamp.txt").write_text(LATE_STAMP)


@dataclass
class ToyRun:
    course: Course
    rows: dict[str, records.Record]

    def feedback_page(self, student: str) -> Path:
        return grading.grading_course(self.course).dir_of("feedback") / student / TOY / f"{TOY}.html"

    def copy(self, dest: Path) -> Course:
        """The graded course copied whole, for a test that writes to it: the run is shared."""
        shutil.copytree(self.course.root, dest)
        return Course(root=dest)


@pytest.fixture(scope="session")
def toy_run(tmp_path_factory) -> ToyRun:
    """The toy course with a due date, report_class graded and its feedback written, once per worker."""
    root = tmp_path_factory.mktemp("toyreport")
    course = make_toy_course(root, due=DUE)
    report_class(course, root / "subs")
    rows = {r.student: r for r in grading.grade(course, TOY, root / "subs")}
    feedback.generate(course, TOY)
    return ToyRun(course, rows)
