"""Warm kernels (issue 19): each submission's kernel starts, the assignment's libraries imported,
while the submission before it is graded; it is that submission's alone, and changes no grade."""
from __future__ import annotations

import ast
import os

import pytest

from autograder import grading, notebooks as nbs, records, warm
from autograder.course import Course
from autograder.sandbox import layers

from gradebook_view import snapshot
from hostile import Case, Where, edit, hand_in
from toycourse import TOY, make_toy_course

# What the kernel holds when the student's code first runs: printed by the notebook's first code
# cell (its imports cell), before it imports anything. The stack the warm run imports is the toy's
# (NumPy, which the kernel's probe imports anyway) and colorsys, which nothing else imports.
FACTS = ("import os, sys\n"
         "print('FACTS', repr((os.getuid(), get_ipython().execution_count, len(In), 'importlib' in dir(), "
         "'colorsys' in sys.modules)))\n")


def with_facts(nb, where: Where) -> None:
    nb.cells[1].source = FACTS + nb.cells[1].source


STUDENTS = [Case(f"student-{i}", edit(with_facts), "graded", 5) for i in range(3)]
WARM = "kernel: started before this submission's turn"


def test_the_stack_is_what_the_notebook_imports_from_the_installed_packages():
    stack = warm.modules(Course(), "05-cnn")
    assert {"numpy", "torch", "obspy", "matplotlib.pyplot", "sklearn.metrics"} <= set(stack)
    assert not [name for name in stack if name.split(".")[0] in ("autograder", "eds_observe")]


def test_imports_are_read_through_magics_and_relative_ones_are_left_out():
    source = "%matplotlib inline\nimport numpy as np, os.path\nfrom . import mine\nfrom scipy import signal\n"
    assert warm._imported(source) == ["numpy", "os.path", "scipy"]


def facts(course: Course, student: str) -> tuple:
    nb = nbs.read(course.dir_of("autograded") / student / TOY / f"{TOY}.ipynb")
    printed = [line for cell in nb.cells for out in cell.get("outputs", []) if out.get("name") == "stdout"
               for line in out.get("text", "").splitlines() if line.startswith("FACTS ")]
    return ast.literal_eval(printed[0].removeprefix("FACTS "))


@pytest.fixture(scope="module")
def graded_warm_and_cold(tmp_path_factory):
    """The same three students graded with warm kernels and with kernels started on their turn."""
    runs = {}
    for mode in ("warm", "cold"):
        root = tmp_path_factory.mktemp(mode)
        course = make_toy_course(root)
        solution = nbs.read(course.solutions_dir / TOY / f"{TOY}.ipynb")
        hand_in(STUDENTS, solution, Where(course.root, course.work, root / "subs"), root / "subs")
        with pytest.MonkeyPatch.context() as patch:
            if mode == "cold":
                patch.setattr(warm, "start", lambda *args: "")
            patch.setattr(warm, "modules", lambda *args: ("numpy", "colorsys"))
            grading.grade(course, TOY, root / "subs", jobs=1)
        runs[mode] = course
    return runs


@pytest.mark.skipif("view" not in layers.available_layers(), reason="no view layer here: kernels start on their turn")
def test_each_submission_runs_in_a_kernel_started_for_it_alone(graded_warm_and_cold):
    """Its kernel was started before its turn with the stack imported, and yet the notebook's first
    cell finds what it finds in a kernel started on its turn: the same execution count and history,
    no name bound; and, as root, a uid of its own."""
    course, cold = graded_warm_and_cold["warm"], graded_warm_and_cold["cold"]
    seen = {case.name: facts(course, case.name) for case in STUDENTS}
    for student, (uid, *first_cell, preloaded) in seen.items():
        assert WARM in records.log_path(course, TOY, student).read_text()
        assert preloaded, "the stack was imported before the notebook ran"
        *cold_first_cell, cold_preloaded = facts(cold, student)[1:]
        assert first_cell == cold_first_cell and not cold_preloaded
    if os.geteuid() == 0:
        assert len({uid for uid, *_ in seen.values()}) == len(STUDENTS), "a uid of its own per submission"


def test_warm_kernels_change_no_grade(graded_warm_and_cold):
    warm_course, cold_course = graded_warm_and_cold["warm"], graded_warm_and_cold["cold"]
    assert snapshot(warm_course, TOY) == snapshot(cold_course, TOY)
    cold_log = records.log_path(cold_course, TOY, STUDENTS[0].name).read_text()
    assert WARM not in cold_log
