"""Shared fixtures: the course, its assignments, and one grading run per assignment.

Each assignment is graded once per test session with all of its pseudo-students (the solution, the
release, and the mutant batches) in one gradebook, through the real command line; every invariant
test then reads that run. Tests of one assignment stay on one xdist worker (loadgroup), so the run
is shared and the two cores grade two assignments at once.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autograder import demo, mutants, notebooks as nbs, variants
from autograder.course import REPO, Course

from hostile import OUTSIDE_FILE

COURSE = Course()
ASSIGNMENTS = COURSE.assignments()


@pytest.fixture(scope="module")
def outside_file():
    """A world-readable notebook outside every course, as another user's or a shared folder's
    (made by whoever runs first with the right to; test_nonroot.py makes it for its grader)."""
    made = not OUTSIDE_FILE.exists()
    if made:
        try:
            OUTSIDE_FILE.parent.mkdir(parents=True, exist_ok=True)
            OUTSIDE_FILE.write_text("{}")
            OUTSIDE_FILE.chmod(0o644)
        except OSError as exc:
            print(f"{OUTSIDE_FILE} not made ({exc}): the read-outside-the-course case reads nothing")
    yield OUTSIDE_FILE
    if made:
        OUTSIDE_FILE.unlink(missing_ok=True)


def mutants_of(assignment: str) -> list[mutants.Mutant]:
    return mutants.load(REPO / "tests" / "mutants" / f"{assignment}.toml")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups to distribute tests
def pytest_collection_modifyitems(items):
    for item in items:
        params = getattr(item, "callspec", None)
        name = params.params.get("assignment") if params else None
        if name:
            item.add_marker(pytest.mark.xdist_group(name))


def autograder(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `python -m autograder` as a user would."""
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=REPO,
                          capture_output=True, text=True, check=check)


class GradedRun:
    """A grading run of one assignment's pseudo-students, and ways to read what it produced."""

    def __init__(self, assignment: str, workdir: Path):
        self.assignment = assignment
        self.course = Course(workdir=workdir)
        self.batches = mutants.batches(mutants_of(assignment))
        submissions = workdir / "submissions"
        name = f"{assignment}.ipynb"
        solution = nbs.read(COURSE.solutions_dir / assignment / name)
        nbs.write(solution, submissions / "solution" / assignment / name)
        nbs.write(nbs.read(COURSE.release_dir / assignment / name), submissions / "release" / assignment / name)
        for i, batch in enumerate(self.batches):
            nbs.write(mutants.apply(solution, batch), submissions / f"mutants-{i}" / assignment / name)
        self.variants = variants.count(COURSE, assignment)
        if self.variants > 1:
            self.add_variant_students(solution, submissions)
        self.output = autograder("--workdir", str(workdir), "grade", assignment, "--submissions", str(submissions))
        autograder("--workdir", str(workdir), "feedback", assignment)

    def add_variant_students(self, solution, submissions: Path) -> None:
        """The roster puts the pseudo-students on variant 0 (the mutants' hints are recorded there)
        but for two: the solution on the last variant, and one that reads variant 1's data while the
        roster gives it variant 2."""
        name = f"{self.assignment}.ipynb"
        last = self.variants - 1
        nbs.write(solution, submissions / f"variant-{last}" / self.assignment / name)
        swapped = demo.with_data(solution, variants.data_for(COURSE, self.assignment, 1))
        nbs.write(swapped, submissions / "swapped" / self.assignment / name)
        rows = [f"{p.name},0" for p in submissions.iterdir() if p.is_dir() and p.name not in ("swapped", f"variant-{last}")]
        self.course.work.mkdir(parents=True, exist_ok=True)
        (self.course.work / "roster.csv").write_text("\n".join(["student_id,variant", *rows, f"variant-{last},{last}",
                                                               "swapped,2"]) + "\n")

    def record(self, student: str):
        from autograder import records
        return records.load(self.course, self.assignment, student)

    def cell_scores(self, student: str) -> dict[str, tuple[float, float]]:
        """grade_id -> (score, max) of every graded cell."""
        from autograder.nbgrader_api import gradebook_for
        with gradebook_for(self.course) as gb:
            sub = gb.find_submission(self.assignment, student)
            return {g.name: (float(g.score), float(g.max_score))
                    for nb in sub.notebooks for g in nb.grades}

    def submitted_lines(self, student: str) -> set[str]:
        """The stripped lines of what the student handed in: feedback may quote those back."""
        folder = self.course.dir_of("submitted") / student / self.assignment
        return {line.strip() for c in nbs.read(folder / f"{self.assignment}.ipynb").cells
                for line in c.source.splitlines()}

    def autograded_notebook(self, student: str):
        folder = self.course.dir_of("autograded") / student / self.assignment
        return nbs.read(folder / f"{self.assignment}.ipynb")

    def feedback_html(self, student: str) -> str:
        folder = self.course.dir_of("feedback") / student / self.assignment
        return (folder / f"{self.assignment}.html").read_text()


_RUNS: dict[str, GradedRun] = {}


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """graded(assignment) -> the GradedRun of that assignment, made once per session and worker."""
    def get(assignment: str) -> GradedRun:
        if assignment not in _RUNS:
            _RUNS[assignment] = GradedRun(assignment, tmp_path_factory.mktemp(assignment))
        return _RUNS[assignment]
    return get


class GroupedIds:
    """xdist's loadgroup marks a test's group by renaming it `<id>@<group>` through `item._nodeid`,
    which this pytest no longer reads (its ids live in `item._id`; pytest-xdist issue #1386): without
    this, both workers grade every assignment. Runs after xdist's hook and carries the rename over."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        from _pytest.nodeid import NodeId
        for item in items:
            renamed = getattr(item, "_nodeid", None)
            if renamed and renamed != item.nodeid and hasattr(item, "_id"):
                item._id = NodeId.parse(renamed)


def pytest_configure(config):
    config.pluginmanager.register(GroupedIds(), "grouped-ids")


# The graded toy class (tests/toycourse.py), registered here so that it is graded once per worker
# for every module that uses it, not once per module.
from toycourse import toy_run  # noqa: E402,F401
