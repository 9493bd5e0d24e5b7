"""`python -m autograder check NOTEBOOK`: the visible tests only, a line per part, never a grade."""
from __future__ import annotations

import nbformat

from autograder import notebooks as nbs, selfcheck
from autograder.course import REPO

from conftest import autograder
from toycourse import TOY

SOURCE = REPO / "tests" / "fixtures" / "toy" / f"{TOY}.ipynb"


def student_notebook(tmp_path, double: str, mean: str, written: str):
    """The toy's instructor notebook (hidden tests in it) with the student's answers put in."""
    nb = nbformat.from_dict(nbs.read(SOURCE))
    cells = nbs.cells_by_id(nb)
    cells["answer_double"].source, cells["answer_mean"].source = double, mean
    cells["q_outliers"].source = written
    path = tmp_path / f"{TOY}.ipynb"
    nbs.write(nb, path)
    return path


def test_each_part_is_done_failing_or_not_started_and_hidden_tests_do_not_run(tmp_path):
    # mean_of passes the visible example only: the hidden test would fail it, the self-check must not
    path = student_notebook(tmp_path, "def double(x):\n    raise NotImplementedError()",
                            "def mean_of(values):\n    return 2.0 if list(values) == [1, 2, 3] else 0.0",
                            "YOUR ANSWER HERE")
    items = {part: (state, detail) for state, part, detail in selfcheck.checklist(selfcheck.run_visible(path))}
    assert items == {"test_double": ("not started", "3 points"), "test_mean": ("visible test passes", "2 points"),
                     "q_outliers": ("not started", "2 points, graded by a TA")}


def test_the_command_prints_failures_and_says_it_is_not_a_grade(tmp_path):
    path = student_notebook(tmp_path, "def double(x):\n    return 2 * np.asarray(x)",
                            "def mean_of(values):\n    return float(np.sum(values))",
                            "One outlier moves the sum without bound.")
    result = autograder("check", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "  [visible test passes] test_double (3 points)" in lines
    assert "  [visible test fails]  test_mean (2 points: AssertionError: (no message))" in lines
    assert "  [written]             q_outliers (2 points, graded by a TA)" in lines
    assert not result.stderr, "nothing but the checklist: no kernel chatter"
    assert "Visible tests passing: 1 of 2." in lines
    assert "This is not your grade: hidden tests run when you submit" in result.stdout


def test_an_unreadable_notebook_is_a_one_line_error(tmp_path):
    (tmp_path / "broken.ipynb").write_text("{ not json")
    result = autograder("check", str(tmp_path / "broken.ipynb"), check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "cannot read" in result.stderr


def test_an_error_in_the_answer_cell_is_shown_as_the_answers(tmp_path):
    path = student_notebook(tmp_path, "def double(x):\n    return 2 * np.asarray(x)",
                            "def mean_of(values)\n    return 0.0", "")
    items = {part: (state, detail) for state, part, detail in selfcheck.checklist(selfcheck.run_visible(path))}
    assert items["test_mean"][0] == "visible test fails"
    assert "your answer cell raised SyntaxError" in items["test_mean"][1]


def test_a_renamed_notebook_is_warned_about(tmp_path):
    assert selfcheck.name_warning(tmp_path / "01-regression.ipynb") == ""
    warning = selfcheck.name_warning(tmp_path / "Copy of 01-regression.ipynb")
    assert "rename it to 01-regression.ipynb" in warning
    assert "rename it to 03-seismology.ipynb" in selfcheck.name_warning(tmp_path / "03-seismology (1).ipynb")
