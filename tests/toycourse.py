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
    # it says goodbye, and waits for the grader to have it, before it ends Python
    crashing.cells[4].source = "import os, time\nprint('leaving for good', flush=True)\ntime.sleep(1)\nos._exit(3)"
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

    def with_copied_pair(self, dest: Path) -> Course:
        """The graded course copied, where ada wrote a mean of her own and jon handed in hers with
        other names, comments and spacing (only their autograded notebooks change: what the
        similarity page reads)."""
        course = self.copy(dest)
        for student, answer in COPIED_PAIR.items():
            path = grading.grading_course(course).dir_of("autograded") / student / TOY / f"{TOY}.ipynb"
            nb = nbs.read(path)
            nbs.cells_by_id(nb)["answer_mean"].source = answer
            nbs.write(nb, path)
        return course


# Long enough to be compared (c.Similarity.min_length), and nothing like the reference solution.
COPIED_PAIR = {
    "ada": (
        'def mean_of(values):\n'
        '    """Arithmetic mean."""\n'
        '    if not len(values):\n'
        '        raise ValueError("the mean of no values is undefined")\n'
        '    # add the numbers one by one, then divide by how many there were\n'
        '    total, count = 0.0, 0\n'
        '    for value in values:\n'
        '        if value < 0 or value >= 0:   # NaN fails both comparisons: left out\n'
        '            total += value\n'
        '            count += 1\n'
        '    return total / count if count else float("nan")\n'),
    "jon": (
        'def mean_of(values):\n'
        '    """Arithmetic mean."""\n'
        '    if not len( values ) :\n'
        "        raise ValueError('the mean of no values is undefined')\n"
        '    s, n = 0.0, 0  # running sum <and> count\n'
        '    for v in values :\n'
        '        if v<0 or v>=0:\n'
        '            s += v\n'
        '\n'
        '            n += 1\n'
        "    return s/n if n else float('nan')\n"),
}


@pytest.fixture(scope="session")
def toy_run(tmp_path_factory) -> ToyRun:
    """The toy course with a due date, report_class graded and its feedback written, once per worker."""
    root = tmp_path_factory.mktemp("toyreport")
    course = make_toy_course(root, due=DUE)
    report_class(course, root / "subs")
    rows = {r.student: r for r in grading.grade(course, TOY, root / "subs")}
    feedback.generate(course, TOY)
    return ToyRun(course, rows)
